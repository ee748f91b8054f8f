import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileWarpKernel } from '../assembly/build.js';
import { makeCanvas } from './canvas.js';
import { classicTransition, movingStill, planClassic, stillInputArgs } from './classic.js';
import { MediaAbortedError } from './errors.js';
import { ffprobe, runFfmpeg } from './ffmpeg.js';
import type { Move } from './motion.js';
import { TO_BT709_YUV } from './profile.js';
import { jerkQuantile, makeDotCanvas, trackDots } from './smoothness.js';
import { childFfmpegPids, photo, tempDir } from './testkit.js';
import { axisTaps, CanvasWarper, decodeCanvas, moveFrames, rawFramesInput, yuvFrameBytes } from './warp.js';
import { WARP_KERNEL_WASM_BASE64 } from './warp-kernel.gen.js';

const W = 1280;
const H = 720;
const FPS = 30;
const CANVAS = { width: 1600, height: 900 };
let t: Awaited<ReturnType<typeof tempDir>>;
let dots: string;

beforeAll(async () => {
  t = await tempDir();
  dots = t.file('dots.png');
  await makeDotCanvas(dots, CANVAS.width, CANVAS.height);
});
afterAll(async () => {
  await t.cleanup();
});

describe('canvases as yuv420p', () => {
  it("decodeCanvas gives ffmpeg's BT.709 limited-range frame of a photo canvas: luma within a step, chroma within a few at edges", async () => {
    const canvas = t.file('canvas-kodim23.png');
    await makeCanvas({ input: photo('kodak/kodim23.png'), output: canvas, width: W, height: H });
    const ours = await decodeCanvas(canvas);
    await runFfmpeg(['-i', canvas, '-vf', TO_BT709_YUV, '-frames:v', '1', '-f', 'rawvideo', t.file('ffmpeg.yuv')]);
    const theirs = new Uint8Array(await readFile(t.file('ffmpeg.yuv')));
    expect(ours.length).toBe(yuvFrameBytes(CANVAS));
    expect(theirs.length).toBe(ours.length);
    const luma = CANVAS.width * CANVAS.height;
    const diff = (from: number, to: number) => {
      let sum = 0;
      let max = 0;
      for (let i = from; i < to; i++) {
        const d = Math.abs(ours[i]! - theirs[i]!);
        sum += d;
        max = Math.max(max, d);
      }
      return { mean: sum / (to - from), max };
    };
    const y = diff(0, luma);
    const c = diff(luma, ours.length);
    expect(y.max).toBeLessThanOrEqual(1);
    expect(y.mean).toBeLessThan(0.5);
    // swscale filters chroma vertically over more rows than our two: sharp edges differ by a few steps
    expect(c.mean).toBeLessThan(0.5);
    expect(c.max).toBeLessThanOrEqual(4);
  });
});

describe('the warp kernel', () => {
  it('warp-kernel.gen.ts is the compiled assembly/warp.ts (regenerate: npx tsx packages/media/assembly/build.ts)', async () => {
    expect(Buffer.from(await compileWarpKernel()).toString('base64')).toBe(WARP_KERNEL_WASM_BASE64);
  }, 60_000);

  it('axisTaps: pixel centres like swscale, weights in 1/256, never past the last sample pair', () => {
    // 2:1 from the left edge: output centres at 0.5, 2.5, 4.5 … in source samples
    const two = axisTaps(0.5, 2, 4, 10);
    expect([...two.index]).toEqual([0, 2, 4, 6]);
    expect([...two.weight]).toEqual([128, 128, 128, 128]);
    // clamped at both ends: the right tap is the last sample with full weight
    const edge = axisTaps(-3, 1, 3, 4);
    expect([...edge.index, ...edge.weight]).toEqual([0, 0, 0, 0, 0, 0]);
    const end = axisTaps(2.5, 1, 3, 4);
    expect([...end.index]).toEqual([2, 2, 2]);
    expect([...end.weight]).toEqual([128, 256, 256]);
  });

  it('the neutral crop of a flat canvas is the same flat frame (odd output sizes too)', async () => {
    for (const output of [
      { width: 1280, height: 720 },
      { width: 854, height: 480 },
    ]) {
      const canvas = { width: Math.round(output.width * 0.625) * 2, height: Math.round(output.height * 0.625) * 2 };
      const frame = Buffer.alloc(yuvFrameBytes(canvas));
      frame.fill(90, 0, canvas.width * canvas.height);
      frame.fill(140, canvas.width * canvas.height);
      const w = await CanvasWarper.create([frame], canvas, output);
      const out = w.frame(0, { x0: 0, y0: 0, x1: canvas.width, y1: canvas.height });
      expect(out.length).toBe(yuvFrameBytes(output));
      expect(new Set(out.subarray(0, output.width * output.height))).toEqual(new Set([90]));
      expect(new Set(out.subarray(output.width * output.height))).toEqual(new Set([140]));
    }
  });
});

/** One move's frames written losslessly: by the warp kernel, or by ffmpeg's two-pass swscale path. */
async function losslessMove(how: 'warp' | 'swscale', move: Move, frames: number, direction: 'away' | 'back'): Promise<string> {
  const out = t.file(`${how}-${direction}.mkv`);
  const lossless = ['-frames:v', String(frames), '-fps_mode', 'passthrough', '-c:v', 'ffv1', out];
  if (how === 'warp') {
    const warper = await CanvasWarper.create([await decodeCanvas(dots)], CANVAS, { width: W, height: H });
    await runFfmpeg([...rawFramesInput(3, { width: W, height: H }, FPS), ...lossless], { feeds: [moveFrames(warper, 0, move, frames, direction)] });
  } else {
    const chain = movingStill({ index: 0, frames, fps: FPS, move, direction, canvas: CANVAS, width: W, height: H });
    await runFfmpeg([...stillInputArgs(dots, FPS), '-filter_complex', `${chain}[v]`, '-map', '[v]', ...lossless]);
  }
  return out;
}

describe('camera motion by the warp kernel', () => {
  const plan = planClassic({ seconds: 4, fps: FPS, seed: 'framing', headroom: 1.25, transition: 'fade' });

  it('frames the canvas as the swscale path did: the same crop at the first, middle and last frame, within a pixel', async () => {
    for (const [move, frames, direction] of [
      [plan.a, plan.aFrames, 'away'],
      [plan.b, plan.bFrames, 'back'],
    ] as const) {
      const warp = await trackDots(await losslessMove('warp', move, frames, direction), W, H, 0, frames);
      const old = await trackDots(await losslessMove('swscale', move, frames, direction), W, H, 0, frames);
      for (const n of [0, Math.floor(frames / 2), frames - 1]) {
        for (let d = 0; d < 4; d++) {
          const [wx, wy] = warp[d]![n]!;
          const [ox, oy] = old[d]![n]!;
          expect(Math.hypot(wx - ox, wy - oy), `dot ${d} at frame ${n} (${direction})`).toBeLessThan(1);
        }
      }
    }
  }, 120_000);

  it('is sub-pixel smooth before encoding (p90 change in motion well below 0.1 px/frame²)', async () => {
    const tracks = await trackDots(await losslessMove('warp', plan.a, plan.aFrames, 'away'), W, H, 0, plan.aFrames);
    const moved = Math.max(...tracks.map((tr) => Math.hypot(tr.at(-1)![0] - tr[0]![0], tr.at(-1)![1] - tr[0]![1])));
    expect(moved).toBeGreaterThan(5);
    const jerk = jerkQuantile(tracks);
    console.log(`warp lossless smoothness p90 = ${jerk.toFixed(4)} px/frame²`);
    expect(jerk).toBeLessThan(0.05);
  }, 60_000);

  it('a cancelled clip stops within a second and leaves no ffmpeg behind', async () => {
    await makeCanvas({ input: photo('kodak/kodim04.png'), output: t.file('c.png'), width: W, height: H });
    const ac = new AbortController();
    const output = t.file('cancelled.mp4');
    const run = classicTransition({
      from: t.file('c.png'),
      to: t.file('c.png'),
      output,
      seconds: 10,
      fps: FPS,
      width: W,
      height: H,
      seed: 1,
      signal: ac.signal,
    });
    const started = await new Promise<boolean>((resolve) => {
      const poll = setInterval(() => {
        if (childFfmpegPids().length > 0) {
          clearInterval(poll);
          resolve(true);
        }
      }, 20);
      setTimeout(() => {
        clearInterval(poll);
        resolve(false);
      }, 20_000);
    });
    expect(started).toBe(true);
    const at = performance.now();
    ac.abort();
    await expect(run).rejects.toBeInstanceOf(MediaAbortedError);
    expect(performance.now() - at).toBeLessThan(1000);
    expect(childFfmpegPids()).toEqual([]);
  }, 60_000);

  it('a whole clip has exactly its frames', async () => {
    const out = t.file('exact.mp4');
    const p = await classicTransition({ from: dots, to: dots, output: out, seconds: 2, fps: 25, width: 854, height: 480, seed: 3 });
    const v = (await ffprobe(out)).streams.find((s) => s.codec_type === 'video')!;
    expect([Number(v.nb_frames), v.width, v.height]).toEqual([p.frames, 854, 480]);
  }, 60_000);
});
