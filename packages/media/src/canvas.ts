/**
 * Photo canvases (sharp): every photo becomes an 8-bit sRGB PNG of exactly canvasSize(width, height):
 * the whole photo, fitted (never cropped), centred over a blurred, dimmed, cover-scaled copy of itself.
 * The canvas is larger than the output frame (headroom) so camera motion never upsamples.
 *
 * PNG, not JPEG: the canvas is an intermediate that x264 compresses next; a lossless canvas adds no
 * second generation of artefacts (JPEG ringing would be magnified by the Ken Burns zoom), and it is
 * decoded once per clip, so its size and decode time do not matter. A low zlib level keeps it fast.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp, { type Metadata, type OutputInfo } from 'sharp';
import { MediaValidationError, throwIfAborted } from './errors.js';
import { runCommand } from './ffmpeg.js';
import { readHead, sniff } from './sniff.js';

// Each canvas reads a different photo once: libvips' operation cache would only hold memory.
sharp.cache(false);

/**
 * Version of the canvas method (makeCanvas and the validateCanvas checks it must pass), carried in the
 * stored canvas's key (objectKeys.canvas): change it with any change to what a canvas looks like or
 * which canvases pass, so no canvas of an older method is reused. v1 was the unversioned key; v2
 * finds plain and smooth photos by their tone (validation of honest photos no longer fails).
 */
export const CANVAS_VERSION = 2;

/** Default canvas headroom over the output size (room for a ~10% zoom plus pan, without upsampling). */
export const DEFAULT_HEADROOM = 1.25;
/** sharp's own default pixel limit (268 MP): keeps decompression bombs out of the canvas step too. */
export const CANVAS_INPUT_PIXEL_LIMIT = 268_402_689;
/**
 * Largest upscale of a photo ON THE CANVAS. At neutral framing the canvas is shown at 1/headroom, so
 * 2.5 on the canvas is 2x on screen: beyond that a small scan looks mushy; it stays smaller instead.
 */
export const MAX_CANVAS_UPSCALE = 2.5;

const even = (n: number) => Math.max(2, Math.round(n / 2) * 2);

/** Canvas size for an output size: output × headroom, rounded to even numbers. */
export function canvasSize(width: number, height: number, headroom = DEFAULT_HEADROOM): { width: number; height: number } {
  if (!(headroom >= 1)) throw new RangeError(`headroom must be >= 1, got ${headroom}`);
  return { width: even(width * headroom), height: even(height * headroom) };
}

/** The fitted photo's tone: mean of its R, G and B values, and the largest channel's spread. */
export interface PhotoTone {
  mean: number;
  stdev: number;
}

export interface Rect {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** Size of the fitted photo inside a canvas. Pure. */
export function fitPhoto(photo: { width: number; height: number }, canvas: { width: number; height: number }, maxUpscale = MAX_CANVAS_UPSCALE): Rect {
  const s = Math.min(canvas.width / photo.width, canvas.height / photo.height, maxUpscale);
  const width = Math.max(1, Math.min(canvas.width, Math.round(photo.width * s)));
  const height = Math.max(1, Math.min(canvas.height, Math.round(photo.height * s)));
  return { left: Math.floor((canvas.width - width) / 2), top: Math.floor((canvas.height - height) / 2), width, height };
}

/**
 * A path sharp can decode. HEIC (HEVC) cannot be decoded by this sharp build: convert it with
 * `heif-convert` into a temporary PNG. Call `cleanup()` when done (never throws).
 */
export async function decodableImagePath(
  input: string,
  opts: { signal?: AbortSignal | undefined } = {},
): Promise<{ path: string; converted: boolean; cleanup: () => Promise<void> }> {
  const head = await readHead(input);
  const kind = sniff(head);
  if (kind?.format !== 'heic') return { path: input, converted: false, cleanup: async () => {} };
  const dir = await mkdtemp(join(tmpdir(), 'mt-heic-'));
  const cleanup = async () => {
    await rm(dir, { recursive: true, force: true }).catch(() => {});
  };
  try {
    const out = join(dir, 'decoded.png');
    await runCommand('heif-convert', [input, out], { signal: opts.signal });
    return { path: out, converted: true, cleanup };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

export interface MakeCanvasOptions {
  input: string;
  output: string;
  /** Output video size; the canvas is this × headroom. */
  width: number;
  height: number;
  headroom?: number;
  signal?: AbortSignal;
}

export interface CanvasResult {
  path: string;
  width: number;
  height: number;
  /** Where the photo sits on the canvas. */
  photo: Rect;
  /** The fitted photo's tone, for validateCanvas to find it again. */
  photoTone: PhotoTone;
  /** The photo's size after EXIF orientation. */
  source: { width: number; height: number };
}

export async function makeCanvas(opts: MakeCanvasOptions): Promise<CanvasResult> {
  const { input, output, width, height, headroom = DEFAULT_HEADROOM, signal } = opts;
  throwIfAborted(signal);
  const size = canvasSize(width, height, headroom);
  const decodable = await decodableImagePath(input, { signal });
  try {
    const open = () => sharp(decodable.path, { failOn: 'error', limitInputPixels: CANVAS_INPUT_PIXEL_LIMIT, sequentialRead: true });
    const meta = await open().metadata();
    if (!meta.width || !meta.height) throw new MediaValidationError(`cannot read the size of ${input}`);
    const swap = (meta.orientation ?? 1) >= 5;
    const source = swap ? { width: meta.height, height: meta.width } : { width: meta.width, height: meta.height };
    const rect = fitPhoto(source, size);
    const upscaling = rect.width > source.width;
    throwIfAborted(signal);

    // 1. The photo: oriented, alpha flattened on black, 8-bit sRGB, fitted.
    const photo = await open()
      .rotate()
      .flatten({ background: '#000000' })
      .toColourspace('srgb')
      .resize(rect.width, rect.height, { fit: 'fill', kernel: upscaling ? 'mitchell' : 'lanczos3' })
      .removeAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    const raw = { width: photo.info.width, height: photo.info.height, channels: photo.info.channels };
    const bands = channelStats(photo.data, raw.channels).slice(0, 3);
    const tone = { mean: bands.reduce((a, c) => a + c.mean, 0) / 3, stdev: Math.max(...bands.map((c) => c.stdev)) };
    throwIfAborted(signal);

    // 2. Background: the photo cover-scaled small, blurred, dimmed, then scaled up smoothly.
    const smallW = Math.max(8, Math.round(size.width / 6));
    const smallH = Math.max(8, Math.round(size.height / 6));
    const small = await sharp(photo.data, { raw })
      .resize(smallW, smallH, { fit: 'cover', position: 'centre' })
      .blur(6)
      .linear(0.42, 0)
      .raw()
      .toBuffer({ resolveWithObject: true });
    const background = await sharp(small.data, { raw: { width: small.info.width, height: small.info.height, channels: small.info.channels } })
      .resize(size.width, size.height, { fit: 'fill', kernel: 'cubic' })
      .blur(3)
      .raw()
      .toBuffer({ resolveWithObject: true });
    throwIfAborted(signal);

    // 3. The photo laid on the background (opaque over opaque: a copy of its rows, which libvips'
    // composite does in float at 4× the time), written as an 8-bit sRGB PNG.
    placeRows(background.data, size.width, photo.data, rect);
    await sharp(background.data, { raw: { width: size.width, height: size.height, channels: 3 } })
      .png({ compressionLevel: 2, adaptiveFiltering: false })
      .toFile(output);
    return { path: output, width: size.width, height: size.height, photo: rect, photoTone: tone, source };
  } finally {
    await decodable.cleanup();
  }
}

/**
 * Check a canvas: exact size (canvasSize of the OUTPUT width/height and headroom, as given to
 * makeCanvas), not uniform (unless the photo is), and the photo present: a sharp region around the
 * centre (the blurred background has almost no fine detail), or, given makeCanvas's placement, the
 * photo's own brightness where it was put. Returns the photo rectangle.
 */
export async function validateCanvas(
  path: string,
  opts: { width: number; height: number; headroom?: number; photo?: Rect; photoTone?: PhotoTone },
): Promise<Rect> {
  const expected = canvasSize(opts.width, opts.height, opts.headroom ?? DEFAULT_HEADROOM);
  let meta: Metadata;
  try {
    meta = await sharp(path).metadata();
  } catch (err) {
    throw new MediaValidationError(`canvas is not a readable image: ${path}`, { cause: err });
  }
  if (meta.width !== expected.width || meta.height !== expected.height)
    throw new MediaValidationError(`canvas is ${meta.width}x${meta.height}, expected ${expected.width}x${expected.height}`);
  if ((meta.depth && meta.depth !== 'uchar') || (meta.channels !== 3 && meta.channels !== 4))
    throw new MediaValidationError(`canvas must be 8-bit RGB, got ${meta.channels} channels of ${meta.depth}`);
  // Decoded once: the statistics, the grey picture and the tone all come from the same pixels.
  let rgb: { data: Buffer; info: OutputInfo };
  try {
    rgb = await sharp(path).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  } catch (err) {
    throw new MediaValidationError(`canvas is not a readable image: ${path}`, { cause: err });
  }
  const raw = { raw: { width: rgb.info.width, height: rgb.info.height, channels: rgb.info.channels } };
  const maxStdev = Math.max(...channelStats(rgb.data, rgb.info.channels).map((c) => c.stdev));
  // A plain card (all black, all white) makes a plain canvas, rightly.
  const plainPhoto = opts.photoTone !== undefined && opts.photoTone.stdev < 2;
  if (maxStdev < 2 && !plainPhoto) throw new MediaValidationError(`canvas is uniform (stdev ${maxStdev.toFixed(2)})`);

  const grey = await sharp(rgb.data, raw).greyscale().raw().toBuffer({ resolveWithObject: true });
  const rect = detectPhotoRect(grey.data, grey.info.width, grey.info.height);
  if (rect) return rect;
  // A smooth photo (sky, fog, a soft old print), a tiny scan or a plain card has no fine detail to
  // find. Where makeCanvas put the photo, the canvas has the photo's tone (it is the photo,
  // losslessly), while the background is the same picture dimmed to 42%.
  if (opts.photo && opts.photoTone && hasTone(rgb.data, rgb.info.width, rgb.info.height, opts.photo, opts.photoTone.mean)) return opts.photo;
  throw new MediaValidationError('canvas has no photo region at its centre (only background)');
}

/**
 * Mean and standard deviation (of the sample, as libvips' stats) of each channel of interleaved 8-bit
 * pixels: libvips' stats work out a dozen figures per band and take 3× as long. Pure.
 */
export function channelStats(pixels: Uint8Array, channels: number): Array<{ mean: number; stdev: number }> {
  const sum = new Float64Array(channels);
  const squares = new Float64Array(channels);
  for (let i = 0; i < pixels.length; i += channels) {
    for (let c = 0; c < channels; c++) {
      const v = pixels[i + c]!;
      sum[c] = sum[c]! + v;
      squares[c] = squares[c]! + v * v;
    }
  }
  const n = pixels.length / channels;
  return Array.from(sum, (s, c) => ({ mean: n ? s / n : 0, stdev: n > 1 ? Math.sqrt(Math.max(0, (squares[c]! - (s * s) / n) / (n - 1))) : 0 }));
}

/** Copy an RGB picture's rows into a larger RGB picture of `width` at `at` (which must lie inside it). */
export function placeRows(into: Uint8Array, width: number, rgb: Uint8Array, at: Rect): void {
  const rowBytes = at.width * 3;
  for (let y = 0; y < at.height; y++) into.set(rgb.subarray(y * rowBytes, (y + 1) * rowBytes), ((at.top + y) * width + at.left) * 3);
}

/** The mean R, G, B value over the rectangle `r` of a raw RGB image is `mean` (within rounding). Pure. */
export function hasTone(rgb: Uint8Array, width: number, height: number, r: Rect, mean: number): boolean {
  if (r.width < 1 || r.height < 1 || r.left < 0 || r.top < 0 || r.left + r.width > width || r.top + r.height > height) return false;
  let sum = 0;
  for (let y = r.top; y < r.top + r.height; y++) {
    const row = (y * width + r.left) * 3;
    for (let i = 0; i < r.width * 3; i++) sum += rgb[row + i]!;
  }
  return Math.abs(sum / (r.width * r.height * 3) - mean) <= Math.max(1, mean * 0.02);
}

/**
 * Find the sharp photo inside a blurred background (greyscale raw). Column energy = mean |vertical
 * gradient| down the column, row energy = mean |horizontal gradient| along the row. The blurred
 * background scores ~0.1; photos score well above. Pure, exported for tests.
 */
export function detectPhotoRect(grey: Uint8Array, width: number, height: number): Rect | undefined {
  const col = new Float64Array(width);
  const row = new Float64Array(height);
  for (let y = 1; y < height; y++) {
    const o = y * width;
    let r = 0;
    for (let x = 1; x < width; x++) {
      const v = grey[o + x]!;
      col[x] = col[x]! + Math.abs(v - grey[o - width + x]!);
      r += Math.abs(v - grey[o + x - 1]!);
    }
    row[y] = r / (width - 1);
  }
  for (let x = 0; x < width; x++) col[x] = col[x]! / (height - 1);
  const centreMedian = (a: Float64Array, n: number) => {
    const s = Array.from(a.subarray(Math.floor(n * 0.4), Math.ceil(n * 0.6))).sort((p, q) => p - q);
    return s[Math.floor(s.length / 2)] ?? 0;
  };
  const cMed = centreMedian(col, width);
  const rMed = centreMedian(row, height);
  if (cMed < 0.6 || rMed < 0.6) return undefined;
  const span = (a: Float64Array, n: number, thr: number) => {
    let lo = 1;
    while (lo < n - 1 && a[lo]! < thr) lo++;
    let hi = n - 1;
    while (hi > lo && a[hi]! < thr) hi--;
    return [lo === 1 ? 0 : lo, hi] as const;
  };
  const [x0, x1] = span(col, width, Math.max(0.5, cMed * 0.2));
  const [y0, y1] = span(row, height, Math.max(0.5, rMed * 0.2));
  const rect = { left: x0, top: y0, width: x1 - x0 + 1, height: y1 - y0 + 1 };
  const cx = width / 2;
  const cy = height / 2;
  if (cx < rect.left || cx > rect.left + rect.width || cy < rect.top || cy > rect.top + rect.height) return undefined;
  return rect;
}
