/**
 * The classic transition clip: canvas A at neutral framing drifts away (gentle Ken Burns), an
 * xfade-family transition in the middle, and canvas B settles back to neutral exactly on the last
 * frame, so consecutive clips (A→B, B→C, ...) join seamlessly by concatenation.
 */
import { throwIfAborted } from './errors.js';
import { runFfmpeg } from './ffmpeg.js';
import { perspectiveFilter, randomMove, seededRandom, type Move } from './motion.js';
import { encodeProfile, TO_BT709_YUV, toOutputSize } from './profile.js';
import { probeImageSize } from './still.js';

/** Tasteful xfade transitions, chosen from the seed. `fade` is weighted as the calm default. */
export const CLASSIC_TRANSITIONS = ['fade', 'fade', 'fade', 'smoothleft', 'smoothright', 'circleopen', 'radial', 'dissolve'] as const;
export type ClassicTransitionName = (typeof CLASSIC_TRANSITIONS)[number];

export interface ClassicPlan {
  frames: number;
  fps: number;
  transition: ClassicTransitionName;
  /** First frame where B starts to appear. */
  offsetFrames: number;
  transitionFrames: number;
  /** Frames of the A stream (offset + transition) and of the B stream (frames - offset). */
  aFrames: number;
  bFrames: number;
  a: Move;
  b: Move;
}

/** Decide everything about a clip from its inputs and seed. Pure and deterministic. */
export function planClassic(opts: {
  seconds: number;
  fps: number;
  seed: number | string;
  headroom: number;
  transition?: ClassicTransitionName | undefined;
  transitionSeconds?: number | undefined;
}): ClassicPlan {
  const { seconds, fps } = opts;
  const frames = Math.round(seconds * fps);
  if (!Number.isInteger(fps) || fps <= 0) throw new RangeError(`fps must be a positive integer, got ${fps}`);
  if (frames < 4) throw new RangeError(`clip too short: ${seconds}s at ${fps} fps`);
  const rand = seededRandom(opts.seed);
  const pick = CLASSIC_TRANSITIONS[Math.floor(rand() * CLASSIC_TRANSITIONS.length)] ?? 'fade';
  const transition = opts.transition ?? pick;
  const wanted = opts.transitionSeconds ?? 1.5 + rand() * 1.0; // 1.5–2.5 s
  const transitionFrames = Math.max(1, Math.min(Math.round(wanted * fps), Math.floor(frames * 0.5)));
  const offsetFrames = Math.floor((frames - transitionFrames) / 2);
  // Never zoom past the canvas headroom (that would upsample).
  const maxZoom = Math.max(0, Math.min(0.12, opts.headroom - 1));
  const a = randomMove(rand, maxZoom);
  const b = randomMove(rand, maxZoom);
  return { frames, fps, transition, offsetFrames, transitionFrames, aFrames: offsetFrames + transitionFrames, bFrames: frames - offsetFrames, a, b };
}

/** Input args for a still canvas read as one frame (image2 without % patterns in the name). */
export function stillInputArgs(path: string, fps: number): string[] {
  return ['-f', 'image2', '-pattern_type', 'none', '-framerate', String(fps), '-i', path];
}

/**
 * Filter chain that turns input `index` (one still) into `frames` frames at `fps`: converted to
 * BT.709 yuv420p once, then repeated by `loop` (no per-frame PNG decoding).
 */
export function stillChain(index: number, frames: number, fps: number): string {
  return `[${index}:v]${TO_BT709_YUV},loop=loop=${frames - 1}:size=1:start=0,settb=1/${fps},setpts=N`;
}

export function buildClassicArgs(p: {
  plan: ClassicPlan;
  from: string;
  to: string;
  output: string;
  width: number;
  height: number;
  canvas: { width: number; height: number };
  interpolation?: 'linear' | 'cubic';
}): string[] {
  const { plan, width, height, canvas } = p;
  const interp = p.interpolation ?? 'cubic';
  const { fps } = plan;
  const a =
    `${stillChain(0, plan.aFrames, fps)},` +
    `${perspectiveFilter(plan.a, canvas.width, canvas.height, plan.aFrames, 'away', interp)},` +
    `${toOutputSize(width, height)},setsar=1[a]`;
  const b =
    `${stillChain(1, plan.bFrames, fps)},` +
    `${perspectiveFilter(plan.b, canvas.width, canvas.height, plan.bFrames, 'back', interp)},` +
    `${toOutputSize(width, height)},setsar=1[b]`;
  const x =
    `[a][b]xfade=transition=${plan.transition}:duration=${plan.transitionFrames / fps}:offset=${plan.offsetFrames / fps},` +
    `format=yuv420p[v]`;
  return [
    ...stillInputArgs(p.from, fps),
    ...stillInputArgs(p.to, fps),
    '-filter_complex', `${a};${b};${x}`,
    '-map', '[v]',
    '-frames:v', String(plan.frames),
    ...encodeProfile({ width, height, fps }),
    p.output,
  ];
}

export interface ClassicTransitionOptions {
  /** Canvas paths (headroom size, from makeCanvas). */
  from: string;
  to: string;
  output: string;
  seconds: number;
  fps: number;
  width: number;
  height: number;
  seed: number | string;
  signal?: AbortSignal;
  onProgress?: (fraction: number) => void;
  /** Force a transition instead of the seeded pick. */
  transition?: ClassicTransitionName;
  transitionSeconds?: number;
  /** perspective interpolation; cubic is sharper, linear ~40% faster. Default cubic. */
  interpolation?: 'linear' | 'cubic';
}

export async function classicTransition(opts: ClassicTransitionOptions): Promise<ClassicPlan> {
  throwIfAborted(opts.signal);
  const canvas = await probeImageSize(opts.from);
  const other = await probeImageSize(opts.to);
  if (other.width !== canvas.width || other.height !== canvas.height)
    throw new RangeError(`canvases differ in size: ${canvas.width}x${canvas.height} vs ${other.width}x${other.height}`);
  const headroom = Math.min(canvas.width / opts.width, canvas.height / opts.height);
  const plan = planClassic({
    seconds: opts.seconds,
    fps: opts.fps,
    seed: opts.seed,
    headroom,
    transition: opts.transition,
    transitionSeconds: opts.transitionSeconds,
  });
  const args = buildClassicArgs({
    plan,
    from: opts.from,
    to: opts.to,
    output: opts.output,
    width: opts.width,
    height: opts.height,
    canvas,
    ...(opts.interpolation ? { interpolation: opts.interpolation } : {}),
  });
  await runFfmpeg(args, { signal: opts.signal, durationSeconds: plan.frames / plan.fps, onProgress: opts.onProgress });
  return plan;
}
