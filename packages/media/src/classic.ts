/**
 * The classic transition clip: canvas A at neutral framing drifts away (gentle Ken Burns), an
 * xfade-family transition in the middle, and canvas B settles back to neutral exactly on the last
 * frame, so consecutive clips (A→B, B→C, ...) join seamlessly by concatenation.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { throwIfAborted } from './errors.js';
import { runFfmpeg } from './ffmpeg.js';
import { kenBurnsChain, type Move, perspectiveFilter, randomMove, seededRandom } from './motion.js';
import { encodeProfile, TO_BT709_YUV, toOutputSize } from './profile.js';
import { probeImageSize } from './still.js';

/**
 * Version of the clip methods (classic transition, last clip, the generative gate's normalising),
 * carried in every clip's job result: a render or a remake reuses only clips of the current version,
 * so a change to how clips look never mixes old and new clips in one video.
 */
export const CLIP_VERSION = 1;

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

/**
 * One canvas (input `index`) as `frames` moving frames at the output size: converted to BT.709 yuv420p
 * and padded once, looped, then moved per frame by the swscale path of `kenBurnsChain` (sub-pixel exact,
 * work proportional to output pixels). Falls back to `perspective` + scale if the geometry has no such path.
 */
export function movingStill(p: {
  index: number;
  frames: number;
  fps: number;
  move: Move;
  direction: 'away' | 'back';
  canvas: { width: number; height: number };
  width: number;
  height: number;
  interpolation?: 'linear' | 'cubic' | undefined;
}): string {
  const interp = p.interpolation ?? 'cubic';
  const kb = kenBurnsChain({
    move: p.move,
    canvas: p.canvas,
    output: { width: p.width, height: p.height },
    frames: p.frames,
    direction: p.direction,
    interpolation: interp,
  });
  const loop = `loop=loop=${p.frames - 1}:size=1:start=0,settb=1/${p.fps},setpts=N`;
  if (kb) return `[${p.index}:v]${TO_BT709_YUV},${kb.prepare},${loop},${kb.perFrame}`;
  return (
    `${stillChain(p.index, p.frames, p.fps)},` +
    `${perspectiveFilter(p.move, p.canvas.width, p.canvas.height, p.frames, p.direction, interp)},` +
    `${toOutputSize(p.width, p.height)},setsar=1`
  );
}

/** The filter graph of a classic transition (long: pass it with -filter_complex_script). */
export function buildClassicGraph(p: {
  plan: ClassicPlan;
  width: number;
  height: number;
  canvas: { width: number; height: number };
  interpolation?: 'linear' | 'cubic' | undefined;
}): string {
  const { plan, width, height, canvas } = p;
  const { fps } = plan;
  const common = { fps, canvas, width, height, interpolation: p.interpolation };
  const a = movingStill({ ...common, index: 0, frames: plan.aFrames, move: plan.a, direction: 'away' });
  const b = movingStill({ ...common, index: 1, frames: plan.bFrames, move: plan.b, direction: 'back' });
  const x = `[a][b]xfade=transition=${plan.transition}:duration=${plan.transitionFrames / fps}:offset=${plan.offsetFrames / fps},format=yuv420p[v]`;
  return `${a}[a];\n${b}[b];\n${x}`;
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
  /** File holding the filter graph (written by the caller); without it the graph is passed inline. */
  graphScript?: string;
}): string[] {
  const { plan, width, height } = p;
  const graph = p.graphScript ? ['-filter_complex_script', p.graphScript] : ['-filter_complex', buildClassicGraph(p)];
  // biome-ignore format: ffmpeg arguments grouped by option
  return [
    ...stillInputArgs(p.from, plan.fps),
    ...stillInputArgs(p.to, plan.fps),
    ...graph,
    '-map', '[v]',
    '-frames:v', String(plan.frames),
    ...encodeProfile({ width, height, fps: plan.fps }),
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
  /** Resampling of the camera motion: cubic (swscale bicubic, default) or linear (bilinear, ~20% cheaper, softer). */
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
  const dir = await mkdtemp(join(tmpdir(), 'mt-classic-'));
  try {
    const graphScript = join(dir, 'graph.txt');
    await writeFile(graphScript, buildClassicGraph({ plan, width: opts.width, height: opts.height, canvas, interpolation: opts.interpolation }));
    const args = buildClassicArgs({ plan, from: opts.from, to: opts.to, output: opts.output, width: opts.width, height: opts.height, canvas, graphScript });
    await runFfmpeg(args, { signal: opts.signal, durationSeconds: plan.frames / plan.fps, onProgress: opts.onProgress });
    return plan;
  } finally {
    await rm(dir, { recursive: true, force: true }).catch(() => {});
  }
}
