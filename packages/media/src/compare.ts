/** Frame comparison (SSIM on luma) and clip validation. */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isAbortError, MediaValidationError, type ValidationCheck } from './errors.js';
import { type ProbeResult, type ProbeStream, runFfmpeg } from './ffmpeg.js';
import { probeMp4 } from './mp4-probe.js';

/** Which frame of a source: the first, the last, frame n of a video, or the picture of an image file. */
export type LumaSource = { source: string; which: 'first' | 'last' | number | 'image' };

/**
 * Luma (BT.709, limited range) of frames and images, each scaled to width×height, from ONE ffmpeg run
 * (one input and one output per source): a clip's checks pay one process start, not one per picture.
 */
export async function extractLumas(sources: readonly LumaSource[], size: { width: number; height: number }, signal?: AbortSignal): Promise<Uint8Array[]> {
  const { width, height } = size;
  const dir = await mkdtemp(join(tmpdir(), 'mt-cmp-'));
  try {
    const inputs: string[] = [];
    const outputs: string[] = [];
    for (const [i, { source, which }] of sources.entries()) {
      const toY =
        which === 'image'
          ? `scale=${width}:${height}:flags=bicubic:out_color_matrix=bt709:out_range=tv,format=yuv420p,extractplanes=y`
          : `scale=${width}:${height}:flags=bicubic,format=yuv420p,extractplanes=y`;
      if (which === 'last') inputs.push('-sseof', '-1');
      if (which === 'image') inputs.push('-f', 'image2', '-pattern_type', 'none');
      inputs.push('-i', source);
      const vf = typeof which === 'number' ? `select='eq(n\\,${which})',${toY}` : toY;
      outputs.push('-map', `${i}:v:0`, '-vf', vf, '-fps_mode', 'passthrough');
      if (which !== 'last') outputs.push('-frames:v', '1');
      outputs.push('-f', 'rawvideo', '-pix_fmt', 'gray', join(dir, `${i}.gray`));
    }
    await runFfmpeg([...inputs, ...outputs], { signal });
    const frame = width * height;
    return await Promise.all(
      sources.map(async ({ source, which }, i) => {
        const data = await readFile(join(dir, `${i}.gray`));
        if (data.length < frame) throw new MediaValidationError(`no frame ${String(which)} in ${source}`);
        // the last whole frame written (a 'last' request writes the final second's frames)
        return new Uint8Array(data.buffer, data.byteOffset + data.length - frame - (data.length % frame || 0), frame);
      }),
    );
  } finally {
    await rm(dir, { recursive: true, force: true }).catch(() => {});
  }
}

/** Luma (BT.709, limited range) of one video frame or one image, scaled to width×height. */
export async function extractLuma(
  source: string,
  which: 'first' | 'last' | number | 'image',
  size: { width: number; height: number },
  signal?: AbortSignal,
): Promise<Uint8Array> {
  return (await extractLumas([{ source, which }], size, signal))[0]!;
}

/** Mean SSIM of two greyscale images (8×8 windows, stride 4, standard constants). Pure. */
export function ssimGray(a: Uint8Array, b: Uint8Array, width: number, height: number): number {
  const C1 = (0.01 * 255) ** 2;
  const C2 = (0.03 * 255) ** 2;
  const win = 8;
  let total = 0;
  let n = 0;
  for (let y = 0; y + win <= height; y += 4) {
    for (let x = 0; x + win <= width; x += 4) {
      let sa = 0,
        sb = 0,
        saa = 0,
        sbb = 0,
        sab = 0;
      for (let j = 0; j < win; j++) {
        const o = (y + j) * width + x;
        for (let i = 0; i < win; i++) {
          const p = a[o + i]!;
          const q = b[o + i]!;
          sa += p;
          sb += q;
          saa += p * p;
          sbb += q * q;
          sab += p * q;
        }
      }
      const N = win * win;
      const ma = sa / N,
        mb = sb / N;
      const va = saa / N - ma * ma,
        vb = sbb / N - mb * mb,
        cov = sab / N - ma * mb;
      total += ((2 * ma * mb + C1) * (2 * cov + C2)) / ((ma * ma + mb * mb + C1) * (va + vb + C2));
      n++;
    }
  }
  return n ? total / n : 0;
}

/** SSIM between a frame of a video and an image (e.g. a canvas), both at width×height. */
export async function frameSimilarity(
  videoPath: string,
  which: 'first' | 'last' | number,
  imagePath: string,
  size: { width: number; height: number },
  signal?: AbortSignal,
): Promise<number> {
  const [f, i] = await Promise.all([extractLuma(videoPath, which, size, signal), extractLuma(imagePath, 'image', size, signal)]);
  return ssimGray(f, i, size.width, size.height);
}

const fail = (reason: string, check: ValidationCheck = 'other'): never => {
  throw new MediaValidationError(reason, { check });
};

/** The shared encode profile as seen by ffprobe. Throws MediaValidationError. */
export function checkVideoStream(v: ProbeStream | undefined, o: { fps: number; width: number; height: number }, what: string): ProbeStream {
  const off = (reason: string) => fail(reason, 'encode_profile');
  if (!v) return fail(`${what} has no video stream`, 'unreadable');
  if (v.codec_name !== 'h264') off(`${what}: codec ${v.codec_name}, expected h264`);
  if (v.profile !== 'High') off(`${what}: H.264 profile ${v.profile}, expected High`);
  if (v.pix_fmt !== 'yuv420p') off(`${what}: pixel format ${v.pix_fmt}, expected yuv420p`);
  if (v.width !== o.width || v.height !== o.height) off(`${what}: ${v.width}x${v.height}, expected ${o.width}x${o.height}`);
  if (v.r_frame_rate !== `${o.fps}/1`) off(`${what}: frame rate ${v.r_frame_rate}, expected ${o.fps}/1`);
  if (v.color_space && v.color_space !== 'bt709') off(`${what}: colour space ${v.color_space}, expected bt709`);
  return v;
}

export interface ValidateClipOptions {
  frames: number;
  fps: number;
  width: number;
  height: number;
  /** Canvas the first frame must match (neutral framing). */
  first?: string;
  /** Canvas the last frame must match. */
  last?: string;
  minSsim?: number;
  signal?: AbortSignal;
}

/**
 * Validate a clip of our own encode: exact frame count, size, fps, encode profile, no audio, first/last
 * frames. The stream facts and the frame count are the ones the MP4 states, read in this process
 * (probeMp4, no decode); the first and last frames are decoded and compared with their canvases, the
 * pictures extracted side by side by one ffmpeg run.
 */
export async function validateClip(path: string, o: ValidateClipOptions): Promise<{ firstSsim?: number; lastSsim?: number }> {
  const minSsim = o.minSsim ?? 0.9;
  let probe: ProbeResult;
  try {
    probe = await probeMp4(path, o.signal);
  } catch (err) {
    if (isAbortError(err) || o.signal?.aborted) throw err;
    throw new MediaValidationError(`clip is not readable: ${(err as Error).message}`, { cause: err, check: 'unreadable' });
  }
  const v = checkVideoStream(
    probe.streams.find((s) => s.codec_type === 'video'),
    o,
    'clip',
  );
  if (Number(v.nb_frames) !== o.frames) fail(`clip has ${v.nb_frames} frames, expected ${o.frames}`, 'frame_count');
  if (probe.streams.some((s) => s.codec_type === 'audio')) fail('clip has an audio stream; clips must be video only', 'audio');
  // Compared at half size: as telling for a frame that shows the wrong picture, at a quarter of the decoding and SSIM work.
  const size = { width: 2 * Math.max(1, Math.round(o.width / 4)), height: 2 * Math.max(1, Math.round(o.height / 4)) };
  const wanted: LumaSource[] = [];
  if (o.first) wanted.push({ source: path, which: 'first' }, { source: o.first, which: 'image' });
  if (o.last) wanted.push({ source: path, which: 'last' }, { source: o.last, which: 'image' });
  const lumas = wanted.length ? await extractLumas(wanted, size, o.signal) : [];
  const ssimAt = (i: number) => ssimGray(lumas[i]!, lumas[i + 1]!, size.width, size.height);
  const firstSsim = o.first ? ssimAt(0) : undefined;
  const lastSsim = o.last ? ssimAt(o.first ? 2 : 0) : undefined;
  if (firstSsim !== undefined && firstSsim < minSsim) fail(`first frame does not match its canvas (SSIM ${firstSsim.toFixed(3)} < ${minSsim})`, 'first_frame');
  if (lastSsim !== undefined && lastSsim < minSsim) fail(`last frame does not match its canvas (SSIM ${lastSsim.toFixed(3)} < ${minSsim})`, 'last_frame');
  return { ...(firstSsim !== undefined ? { firstSsim } : {}), ...(lastSsim !== undefined ? { lastSsim } : {}) };
}
