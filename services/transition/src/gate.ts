/**
 * The quality gate of a generated clip (`transition_validate`): the model's raw clip is checked
 * (size, frame count, frame rate, black or frozen stretches), retimed to the project's exact length
 * and frame rate, scaled, encoded with the shared profile, and checked again with @mt/media's
 * validateClip (profile, frame count, first frame ≈ canvas A, last frame ≈ canvas B). Argument builders, parsers and verdicts are pure;
 * `gateGeneratedClip` runs them with @mt/media's ffmpeg runner.
 *
 * New media code that lives here rather than in @mt/media: the retime/normalise argument builder and
 * the blackdetect/freezedetect scan.
 */
import { encodeProfile, ffprobe, isAbortError, MediaValidationError, runFfmpeg, runFfmpegCapture, type ValidationCheck, validateClip } from '@mt/media';
import type { Interpolation } from './generative-config.js';
import { type FailureReason, GenerativeFailure } from './generative-errors.js';

/** A stretch this long of (nearly) black pictures fails the clip: a model glitch, never a transition. */
export const BLACK_MIN_SECONDS = 0.25;
/** Luma below which a pixel counts as black (fraction of the range), and the share of such pixels. */
export const BLACK_PIXEL_THRESHOLD = 0.08;
export const BLACK_PICTURE_RATIO = 0.98;
/** A stretch this long with no change beyond the noise floor is frozen (the model stalled or copied a frame). */
export const FREEZE_MIN_SECONDS = 1;
/** freezedetect's noise tolerance (mean absolute difference, 0..1; about -54 dB). */
export const FREEZE_NOISE = 0.002;

export interface Interval {
  start: number;
  end: number;
}
export interface RawProbe {
  width: number;
  height: number;
  frames: number;
  fps: number;
}
export interface RawExpectations {
  width: number;
  height: number;
  frames: number;
  fps: number;
}
export type Verdict = { ok: true } | { ok: false; reason: FailureReason; message: string };

// ---------- pure: argument builders ----------

/** One decoding pass over the raw clip that reports black and frozen stretches on stderr. */
export function scanArgs(input: string): string[] {
  // biome-ignore format: ffmpeg arguments grouped by option
  return [
    '-i', input,
    '-map', '0:v:0',
    '-vf', `blackdetect=d=${BLACK_MIN_SECONDS}:pic_th=${BLACK_PICTURE_RATIO}:pix_th=${BLACK_PIXEL_THRESHOLD},freezedetect=n=${FREEZE_NOISE}:d=${FREEZE_MIN_SECONDS}`,
    '-an', '-f', 'null', '-',
  ];
}

export interface NormaliseOptions {
  input: string;
  output: string;
  /** Frames in the raw clip. */
  inFrames: number;
  /** Exact frames of the result (seconds × fps). */
  outFrames: number;
  fps: number;
  width: number;
  height: number;
  interpolate: Interpolation;
}

/**
 * Retimes the raw clip so that its first frame lands on output frame 0 and its last on output frame
 * outFrames-1, interpolates to the project's frame rate, scales to the project size (BT.709, limited
 * range) and encodes with the shared profile. Timestamps are exact: in a time base of
 * 1/(fps·(inFrames-1)) input frame n sits at n·(outFrames-1). Two clones of the last frame let the
 * interpolator reach the very end; `-frames:v` cuts at the exact count.
 */
export function normaliseArgs(o: NormaliseOptions): string[] {
  if (o.inFrames < 2) throw new RangeError(`a clip of ${o.inFrames} frame(s) cannot be retimed`);
  const tb = o.fps * (o.inFrames - 1);
  const interp =
    o.interpolate === 'dup'
      ? `fps=${o.fps}`
      : o.interpolate === 'mci'
        ? `minterpolate=fps=${o.fps}:mi_mode=mci:mc_mode=aobmc:me_mode=bidir:vsbmc=1`
        : `minterpolate=fps=${o.fps}:mi_mode=blend`;
  const vf = [
    'tpad=stop_mode=clone:stop=2',
    `settb=expr=1/${tb}`,
    `setpts=N*${o.outFrames - 1}`,
    interp,
    `scale=${o.width}:${o.height}:flags=bicubic:out_color_matrix=bt709:out_range=tv`,
    'format=yuv420p',
    'setsar=1',
  ].join(',');
  // biome-ignore format: ffmpeg arguments grouped by option
  return [
    '-i', o.input, '-map', '0:v:0',
    '-vf', vf, '-frames:v', String(o.outFrames),
    ...encodeProfile({ width: o.width, height: o.height, fps: o.fps }),
    o.output,
  ];
}

// ---------- pure: parsers and verdicts ----------

/**
 * Black and frozen stretches from the scan's stderr. A freeze still open at the end has no
 * `freeze_end` line: it runs to `totalSeconds`.
 */
export function parseScan(stderr: string, totalSeconds: number): { black: Interval[]; frozen: Interval[] } {
  const black: Interval[] = [];
  const frozen: Interval[] = [];
  let freezeStart: number | null = null;
  for (const line of stderr.split(/\r?\n/)) {
    const b = /black_start:\s*([\d.]+)\s+black_end:\s*([\d.]+)/.exec(line);
    if (b) black.push({ start: Number(b[1]), end: Number(b[2]) });
    const fs = /freezedetect\.freeze_start:\s*([\d.]+)/.exec(line);
    if (fs) freezeStart = Number(fs[1]);
    const fe = /freezedetect\.freeze_end:\s*([\d.]+)/.exec(line);
    if (fe) {
      frozen.push({ start: freezeStart ?? 0, end: Number(fe[1]) });
      freezeStart = null;
    }
  }
  if (freezeStart !== null) frozen.push({ start: freezeStart, end: totalSeconds });
  return { black, frozen };
}

/** "16/1" or "30000/1001" → frames per second. */
export function parseRate(rate: string | undefined): number {
  const [n, d] = (rate ?? '').split('/').map(Number);
  return n && d ? n / d : n || 0;
}

const fail = (reason: FailureReason, message: string): Verdict => ({ ok: false, reason, message });
const secs = (i: Interval) => `${i.start.toFixed(2)}–${i.end.toFixed(2)} s`;

/** The raw clip against what was asked of the model. */
export function judgeRaw(p: RawProbe, e: RawExpectations, scan: { black: Interval[]; frozen: Interval[] }): Verdict {
  if (p.width !== e.width || p.height !== e.height) return fail('size_drift', `the model returned ${p.width}x${p.height}, asked for ${e.width}x${e.height}`);
  if (p.frames !== e.frames) return fail('frame_count', `the model returned ${p.frames} frames, asked for ${e.frames}`);
  if (Math.abs(p.fps - e.fps) > 0.01)
    return fail('duration_drift', `the model returned ${p.fps.toFixed(2)} fps (${(p.frames / (p.fps || 1)).toFixed(2)} s), asked for ${e.fps} fps`);
  if (scan.black.length) return fail('black_frames', `black pictures at ${scan.black.map(secs).join(', ')}`);
  if (scan.frozen.length) return fail('frozen_frames', `frozen pictures at ${scan.frozen.map(secs).join(', ')}`);
  return { ok: true };
}

/** What a miss of the normalised clip (found by @mt/media's validateClip) means for the model's attempt. */
export const FINAL_CHECK_REASON: Record<ValidationCheck, FailureReason> = {
  unreadable: 'unreadable',
  encode_profile: 'encode_profile',
  audio: 'encode_profile',
  frame_count: 'frame_count',
  first_frame: 'first_frame_mismatch',
  last_frame: 'last_frame_mismatch',
  other: 'unreadable',
};

// ---------- running it ----------

export interface GateOptions {
  raw: string;
  output: string;
  expect: RawExpectations;
  target: { width: number; height: number; fps: number; frames: number };
  first: string;
  last: string;
  minSsim: number;
  interpolate: Interpolation;
  signal: AbortSignal;
  onProgress?: (fraction: number) => void;
}
export interface GateReport {
  firstSsim: number;
  lastSsim: number;
}

const throwIf = (v: Verdict): void => {
  if (!v.ok) throw new GenerativeFailure(v.reason, v.message);
};

/** Checks the raw clip, writes the normalised one to `output` and checks it; throws GenerativeFailure on a miss. */
export async function gateGeneratedClip(o: GateOptions): Promise<GateReport> {
  const { signal } = o;
  const guard = async <T>(what: string, reason: FailureReason, f: () => Promise<T>): Promise<T> => {
    try {
      return await f();
    } catch (e) {
      if (signal.aborted || isAbortError(e)) throw signal.reason ?? e;
      if (e instanceof GenerativeFailure) throw e;
      throw new GenerativeFailure(reason, `${what}: ${(e as Error).message.split('\n')[0]}`, true, { cause: e });
    }
  };
  const probe = await guard('the returned file', 'unreadable', () => ffprobe(o.raw, signal, { countFrames: true }));
  const v = probe.streams.find((s) => s.codec_type === 'video');
  if (!v) throw new GenerativeFailure('unreadable', 'the returned file has no video stream');
  const raw: RawProbe = { width: v.width ?? 0, height: v.height ?? 0, frames: Number(v.nb_read_frames ?? 0), fps: parseRate(v.r_frame_rate) };
  const { stderr } = await guard('scanning the returned clip', 'unreadable', () => runFfmpegCapture(scanArgs(o.raw), { signal }));
  throwIf(judgeRaw(raw, o.expect, parseScan(stderr, raw.frames / (raw.fps || 1))));
  o.onProgress?.(0.15);

  const args = normaliseArgs({
    input: o.raw,
    output: o.output,
    inFrames: raw.frames,
    outFrames: o.target.frames,
    fps: o.target.fps,
    width: o.target.width,
    height: o.target.height,
    interpolate: o.interpolate,
  });
  await guard('retiming the clip', 'unreadable', () =>
    runFfmpeg(args, { signal, durationSeconds: o.target.frames / o.target.fps, onProgress: (f) => o.onProgress?.(0.15 + f * 0.65) }),
  );

  // The normalised clip is our own encode: the same checks as a classic clip (profile, exact frame count, first/last frame).
  let report: Awaited<ReturnType<typeof validateClip>>;
  try {
    report = await validateClip(o.output, {
      frames: o.target.frames,
      fps: o.target.fps,
      width: o.target.width,
      height: o.target.height,
      first: o.first,
      last: o.last,
      minSsim: o.minSsim,
      signal,
    });
  } catch (e) {
    if (signal.aborted || isAbortError(e)) throw signal.reason ?? e;
    if (e instanceof MediaValidationError) throw new GenerativeFailure(FINAL_CHECK_REASON[e.check], `the normalised clip: ${e.reason}`);
    throw new GenerativeFailure('unreadable', `the normalised clip: ${(e as Error).message.split('\n')[0]}`, true, { cause: e });
  }
  const { firstSsim = 0, lastSsim = 0 } = report;
  o.onProgress?.(1);
  return { firstSsim, lastSsim };
}
