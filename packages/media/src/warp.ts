/**
 * Camera motion in one resampling pass per frame: a canvas held as yuv420p in WebAssembly memory is
 * cropped at any sub-pixel rectangle and scaled to the output size by a SIMD bilinear kernel
 * (assembly/warp.ts, AssemblyScript compiled to WebAssembly ahead of time). ~1 ms per 720p frame against
 * ~8 ms for the two swscale passes of `kenBurnsChain`, whose per-frame size changes also rebuild
 * swscale's filters. The frames go to ffmpeg as raw video, so ffmpeg only blends and encodes.
 *
 * Geometry: pixel centres map like swscale's (an output pixel x samples the canvas at
 * x0 + (x + ½)·k − ½, k = crop width / output width), positions in 1/256 pixel; chroma is MPEG-2
 * sited (horizontally with the even luma sample, vertically between two rows), as ffmpeg's yuv420p.
 */
import sharp from 'sharp';
import { throwIfAborted } from './errors.js';
import type { Feed } from './ffmpeg.js';
import { cropAt, easeAt, type Move } from './motion.js';
import { WARP_KERNEL_WASM_BASE64 } from './warp-kernel.gen.js';

export interface Size {
  width: number;
  height: number;
}
/** A crop in canvas pixel coordinates (edges), as `cropAt` returns it. */
export interface Crop {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/** The part of the WebAssembly JavaScript API used here (the project's TypeScript libs leave it undeclared). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  compile(bytes: Uint8Array): Promise<object>;
  instantiate(module: object, imports: object): Promise<{ exports: Record<string, unknown> }>;
  Memory: new (descriptor: { initial: number }) => WasmMemory;
}
const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

interface Kernel {
  memory: WasmMemory;
  warpPlane: (
    src: number,
    srcStride: number,
    dst: number,
    dstStride: number,
    dstHeight: number,
    groups: number,
    xTable: number,
    yTable: number,
    row: number,
    spanStart: number,
    spanLength: number,
  ) => void;
  mixPlane: (a: number, b: number, dst: number, weights: number, n: number) => void;
}

/** Bytes per 8-sample group of the x table (see assembly/warp.ts). */
const GROUP_BYTES = 64;
/** Largest crop/output ratio the 16-byte gather serves: 8 output samples must reach ≤ 16 source samples. */
export const MAX_WARP_RATIO = 1.9;
/** Slack after every plane: the kernel loads 16 bytes at a time past a row's last used sample. */
const PLANE_SLACK = 64;

let compiled: Promise<object> | undefined;

/** The kernel's WebAssembly module (built from assembly/warp.ts into warp-kernel.gen.ts), compiled once per process. */
export function warpModule(): Promise<object> {
  compiled ??= wasm.compile(Buffer.from(WARP_KERNEL_WASM_BASE64, 'base64'));
  return compiled;
}

/** Bytes of one yuv420p frame (chroma planes round up, as ffmpeg's do for odd sizes). */
export function yuvFrameBytes(s: Size): number {
  return s.width * s.height + 2 * Math.ceil(s.width / 2) * Math.ceil(s.height / 2);
}

/** The luma and two chroma planes of a yuv420p picture (chroma rounded up, as ffmpeg's). */
export function yuvPlanes(s: Size): Size[] {
  const c = { width: Math.ceil(s.width / 2), height: Math.ceil(s.height / 2) };
  return [s, c, c];
}

export interface Taps {
  index: Int32Array;
  weight: Int32Array;
}

/**
 * One axis's taps: for each output sample, the left source index and the right tap's weight (0..256).
 * Written into `into` when given (the warper's own arrays: typed arrays this size live outside V8's
 * heap, and a dozen fresh ones a frame cost more in allocation and collection than the warp itself).
 */
export function axisTaps(
  start: number,
  step: number,
  count: number,
  sourceLength: number,
  into: Taps = { index: new Int32Array(count), weight: new Int32Array(count) },
): Taps {
  const { index, weight } = into;
  for (let i = 0; i < count; i++) {
    const s = Math.min(Math.max(start + i * step, 0), sourceLength - 1);
    let at = Math.floor(s);
    let w = Math.round((s - at) * 256);
    if (w === 256) {
      at++;
      w = 0;
    }
    if (at >= sourceLength - 1) {
      at = sourceLength - 2;
      w = 256;
    }
    index[i] = at;
    weight[i] = w;
  }
  return { index, weight };
}

/**
 * Canvases in WebAssembly memory, and the crops of them as output frames. One per clip; frames are
 * made one at a time, each returned as a fresh Buffer (yuv420p, output size).
 */
export class CanvasWarper {
  private readonly view: DataView;
  private readonly bytes: Uint8Array;
  private readonly sources: number[][];
  /** Two output frames per canvas: one being written to ffmpeg while the next is made. */
  private readonly outputs: number[][];
  private readonly xTable: number;
  private readonly yTable: number;
  private readonly row: number;
  /** Scratch taps per plane and axis, reused by every frame. */
  private readonly taps: Array<{ x: Taps; y: Taps }>;
  /** A's weight per sample (0..256) for `mix`, of the luma plane and of the chroma planes, in the kernel's memory. */
  private readonly weights: Array<{ at: number; view: Uint16Array }>;

  private constructor(
    private readonly kernel: Kernel,
    readonly canvas: Size,
    readonly output: Size,
    count: number,
  ) {
    let at = 64 * 1024; // below: whatever the compiled module keeps for itself
    const take = (n: number) => {
      const p = at;
      at += Math.ceil((n + PLANE_SLACK) / 16) * 16;
      return p;
    };
    this.sources = Array.from({ length: count }, () => yuvPlanes(canvas).map((p) => take(p.width * (p.height + 1))));
    this.outputs = Array.from({ length: count }, () => [take(yuvFrameBytes(output)), take(yuvFrameBytes(output))]);
    this.xTable = take(Math.ceil(output.width / 8 + 1) * GROUP_BYTES);
    this.yTable = take(output.height * 8);
    this.row = take(canvas.width + 64);
    // A's weights for `mix`: the luma plane's, and one set for both chroma planes
    const weightsOf = yuvPlanes(output)
      .slice(0, 2)
      .map((p) => ({ at: take(2 * p.width * p.height), samples: p.width * p.height }));
    const scratch = (n: number): Taps => ({ index: new Int32Array(n), weight: new Int32Array(n) });
    this.taps = yuvPlanes(output).map((p) => ({ x: scratch(p.width), y: scratch(p.height) }));
    const need = Math.ceil(at / 65536) - kernel.memory.buffer.byteLength / 65536;
    if (need > 0) kernel.memory.grow(need);
    this.view = new DataView(kernel.memory.buffer);
    this.bytes = new Uint8Array(kernel.memory.buffer);
    this.weights = weightsOf.map(({ at, samples }) => ({ at, view: new Uint16Array(kernel.memory.buffer, at, samples) }));
  }

  /** `canvases`: yuv420p frames of `canvas` size (see `decodeCanvas`). */
  static async create(canvases: readonly Uint8Array[], canvas: Size, output: Size): Promise<CanvasWarper> {
    if (canvas.width < 2 || canvas.height < 2 || output.width < 8 || output.height < 2) throw new RangeError('canvas or output too small to warp');
    const memory = new wasm.Memory({ initial: 2 });
    const instance = await wasm.instantiate(await warpModule(), {
      env: {
        memory,
        abort: () => {
          throw new Error('warp kernel aborted');
        },
      },
    });
    const kernel = { memory, warpPlane: instance.exports.warpPlane as Kernel['warpPlane'], mixPlane: instance.exports.mixPlane as Kernel['mixPlane'] };
    const w = new CanvasWarper(kernel, canvas, output, canvases.length);
    for (const [i, c] of canvases.entries()) w.load(i, c);
    return w;
  }

  private load(index: number, frame: Uint8Array): void {
    if (frame.length !== yuvFrameBytes(this.canvas)) throw new RangeError(`canvas ${index} is ${frame.length} bytes, expected ${yuvFrameBytes(this.canvas)}`);
    let offset = 0;
    yuvPlanes(this.canvas).forEach((p, k) => {
      const n = p.width * p.height;
      const at = this.sources[index]![k]!;
      this.bytes.set(frame.subarray(offset, offset + n), at);
      // one more row, a copy of the last: the vertical pass reads row r+1 even where its weight is 0
      this.bytes.copyWithin(at + n, at + n - p.width, at + n);
      offset += n;
    });
  }

  /**
   * Canvas `index` cropped to `crop` (canvas pixels), scaled to the output size: one yuv420p frame in
   * output slot `slot` (0 or 1) of that canvas, returned as a view of the kernel's memory (no copy):
   * valid until the same slot is made again.
   */
  frame(index: number, crop: Crop, slot = 0): Buffer {
    const k = (crop.x1 - crop.x0) / this.output.width;
    const kv = (crop.y1 - crop.y0) / this.output.height;
    if (!(k > 0 && k <= MAX_WARP_RATIO && kv > 0 && kv <= MAX_WARP_RATIO)) throw new RangeError(`crop ratio ${k.toFixed(3)} outside the warp kernel's range`);
    const dst = this.outputs[index]![slot]!;
    let out = dst;
    yuvPlanes(this.output).forEach((o, p) => {
      const src = yuvPlanes(this.canvas)[p]!;
      // luma: centre of output sample x at x0 + (x + ½)k − ½; chroma (half scale): horizontally with
      // the even luma sample, vertically between rows 2y and 2y+1 (MPEG-2 siting).
      const xs = p === 0 ? crop.x0 + k / 2 - 0.5 : crop.x0 / 2 + k / 4 - 0.25;
      const ys = p === 0 ? crop.y0 + kv / 2 - 0.5 : crop.y0 / 2 + kv / 2 - 0.5;
      const x = axisTaps(xs, k, o.width, src.width, this.taps[p]!.x);
      const y = axisTaps(ys, kv, o.height, src.height, this.taps[p]!.y);
      const span = this.writeTables(x, y, o);
      this.kernel.warpPlane(
        this.sources[index]![p]!,
        src.width,
        out,
        o.width,
        o.height,
        span.groups,
        this.xTable,
        this.yTable,
        this.row,
        span.start,
        span.length,
      );
      out += o.width * o.height;
    });
    return Buffer.from(this.bytes.buffer, dst, yuvFrameBytes(this.output));
  }

  /**
   * Output slot `slot` of canvas `a` mixed in place with the same slot of canvas `b`, A's share of each
   * sample (0..256) written by `luma` for the luma plane and by `chroma` once for both chroma planes
   * (xfade.ts); the mix is the kernel's. Returned as `frame` returns it.
   */
  mix(a: number, b: number, slot: number, luma: (into: Uint16Array) => void, chroma: (into: Uint16Array) => void): Buffer {
    const dst = this.outputs[a]![slot]!;
    const other = this.outputs[b]![slot]!;
    luma(this.weights[0]!.view);
    chroma(this.weights[1]!.view);
    let offset = 0;
    yuvPlanes(this.output).forEach((o, p) => {
      const n = o.width * o.height;
      const w = this.weights[Math.min(p, 1)]!;
      // the kernel takes 16 samples at a time; a plane's last few (odd sizes) are mixed here, so no
      // store runs into the next plane before that plane is read
      const whole = n - (n % 16);
      this.kernel.mixPlane(dst + offset, other + offset, dst + offset, w.at, whole);
      for (let i = whole; i < n; i++) {
        const k = w.view[i]!;
        this.bytes[dst + offset + i] = (this.bytes[dst + offset + i]! * k + this.bytes[other + offset + i]! * (256 - k)) >> 8;
      }
      offset += n;
    });
    return Buffer.from(this.bytes.buffer, dst, yuvFrameBytes(this.output));
  }

  private writeTables(x: Taps, y: Taps, o: Size) {
    const { view, bytes } = this;
    const start = x.index[0]!;
    const groups = Math.ceil(o.width / 8);
    for (let g = 0; g < groups; g++) {
      const at = Math.min(g * 8, o.width - 8);
      const base = x.index[at]!;
      const t = this.xTable + g * GROUP_BYTES;
      view.setInt32(t, base - start, true);
      view.setInt32(t + 4, at, true);
      for (let j = 0; j < 8; j++) {
        const left = x.index[at + j]! - base;
        if (left + 1 > 15) throw new RangeError('crop too large for the warp kernel');
        bytes[t + 16 + j] = left;
        bytes[t + 32 + j] = left + 1;
        bytes[t + 24 + j] = 0x80; // swizzle index ≥ 16 gives 0 in the unused upper lanes
        bytes[t + 40 + j] = 0x80;
        view.setInt16(t + 48 + 2 * j, x.weight[at + j]!, true);
      }
    }
    for (let r = 0; r < o.height; r++) {
      view.setInt32(this.yTable + r * 8, y.index[r]!, true);
      view.setInt32(this.yTable + r * 8 + 4, y.weight[r]!, true);
    }
    return { groups, start, length: Math.ceil((x.index[o.width - 1]! + 2 - start) / 16) * 16 };
  }
}

/**
 * RGB (8-bit, 3 channels) as a BT.709 limited-range yuv420p frame, as ffmpeg's TO_BT709_YUV makes it:
 * luma per pixel, chroma from each 2×2 block (the horizontal pair averaged as swscale's input stage
 * does, then the two rows). Pure.
 */
export function rgbToYuv420(rgb: Uint8Array, width: number, height: number): Uint8Array {
  const cw = Math.ceil(width / 2);
  const ch = Math.ceil(height / 2);
  const out = new Uint8Array(width * height + 2 * cw * ch);
  const u0 = width * height;
  const v0 = u0 + cw * ch;
  // BT.709: Y = 16 + 219·(.2126 R + .7152 G + .0722 B)/255, Cb/Cr = 128 + 224·(B−Y′)/1.8556·/255, (R−Y′)/1.5748·/255
  const [yr, yg, yb] = [0.2126 * (219 / 255), 0.7152 * (219 / 255), 0.0722 * (219 / 255)];
  const [ur, ug, ub] = [(-0.2126 / 1.8556) * (224 / 255), (-0.7152 / 1.8556) * (224 / 255), 0.5 * (224 / 255)];
  const [vr, vg, vb] = [0.5 * (224 / 255), (-0.7152 / 1.5748) * (224 / 255), (-0.0722 / 1.5748) * (224 / 255)];
  for (let y = 0; y < height; y++) {
    let i = y * width * 3;
    let o = y * width;
    for (let x = 0; x < width; x++, i += 3, o++) out[o] = 16.5 + yr * rgb[i]! + yg * rgb[i + 1]! + yb * rgb[i + 2]!;
  }
  for (let cy = 0; cy < ch; cy++) {
    const r0 = 2 * cy * width * 3;
    const r1 = Math.min(2 * cy + 1, height - 1) * width * 3;
    for (let cx = 0; cx < cw; cx++) {
      const a = 2 * cx * 3;
      const b = Math.min(2 * cx + 1, width - 1) * 3;
      const r = (rgb[r0 + a]! + rgb[r0 + b]! + rgb[r1 + a]! + rgb[r1 + b]!) / 4;
      const g = (rgb[r0 + a + 1]! + rgb[r0 + b + 1]! + rgb[r1 + a + 1]! + rgb[r1 + b + 1]!) / 4;
      const bl = (rgb[r0 + a + 2]! + rgb[r0 + b + 2]! + rgb[r1 + a + 2]! + rgb[r1 + b + 2]!) / 4;
      out[u0 + cy * cw + cx] = 128.5 + ur * r + ug * g + ub * bl;
      out[v0 + cy * cw + cx] = 128.5 + vr * r + vg * g + vb * bl;
    }
  }
  return out;
}

/**
 * Canvas images (PNG, any size) as BT.709 limited-range yuv420p frames: decoded by sharp in this
 * process and converted by `rgbToYuv420`. An ffmpeg run for the same cost 0.16 CPU-s in its start alone
 * and a process spawned from a large service, for every clip.
 */
export async function decodeCanvases(paths: readonly string[], signal?: AbortSignal): Promise<Uint8Array[]> {
  throwIfAborted(signal);
  return Promise.all(
    paths.map(async (p) => {
      const { data, info } = await sharp(p, { failOn: 'error' }).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
      throwIfAborted(signal);
      return rgbToYuv420(data, info.width, info.height);
    }),
  );
}

/** One canvas image as a yuv420p frame (see `decodeCanvases`). */
export async function decodeCanvas(path: string, signal?: AbortSignal): Promise<Uint8Array> {
  return (await decodeCanvases([path], signal))[0]!;
}

/**
 * A feed (runFfmpeg) of `frames` frames made by `make(n, slot)` in the kernel's memory and written from
 * there, alternating between two output slots: a slot is made again only once its last frame has been
 * written to the pipe, so nothing is copied or allocated per frame, and at most two frames wait.
 */
export function slottedFrames(frames: number, make: (n: number, slot: number) => Buffer): Feed {
  return async (sink) => {
    const written: Array<Promise<void> | undefined> = [undefined, undefined];
    for (let n = 0; n < frames; n++) {
      const slot = n % 2;
      await written[slot];
      const frame = make(n, slot);
      written[slot] = new Promise<void>((resolve, reject) => {
        sink.write(frame, (err) => (err ? reject(err) : resolve()));
      });
      // a failed write rejects here at the latest, before the slot is reused
      written[slot].catch(() => {});
    }
    await Promise.all(written);
    await new Promise<void>((resolve) => sink.end(resolve));
  };
}

/** A feed of one move's frames (`frames` of them, eased 'away' from or 'back' to neutral framing). */
export function moveFrames(warper: CanvasWarper, index: number, move: Move, frames: number, direction: 'away' | 'back'): Feed {
  const { width, height } = warper.canvas;
  return slottedFrames(frames, (n, slot) => warper.frame(index, cropAt(move, easeAt(n, frames, direction), width, height), slot));
}

/** One moving canvas of a clip: its image, its move and how many frames of it. */
export interface CanvasMove {
  canvas: string;
  move: Move;
  frames: number;
  direction: 'away' | 'back';
}

/**
 * The feeds of a clip's moving canvases (in order: pipe 3, 4, ...): the canvases decoded
 * (`decodeCanvases`) into one warper, each move made as its pipe drains. All canvases share one size.
 */
export async function moveFeeds(moves: readonly CanvasMove[], canvas: Size, output: Size, signal?: AbortSignal): Promise<Feed[]> {
  const warper = await CanvasWarper.create(
    await decodeCanvases(
      moves.map((m) => m.canvas),
      signal,
    ),
    canvas,
    output,
  );
  return moves.map((m, i) => moveFrames(warper, i, m.move, m.frames, m.direction));
}

/** ffmpeg input arguments for raw yuv420p frames arriving on file descriptor `fd`. */
export function rawFramesInput(fd: number, output: Size, fps: number): string[] {
  // biome-ignore format: ffmpeg arguments grouped by option
  return ['-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-video_size', `${output.width}x${output.height}`, '-framerate', String(fps), '-i', `pipe:${fd}`];
}
