/**
 * The classic transition clip: canvas A at neutral framing drifts away (gentle Ken Burns), an
 * xfade-family transition in the middle, and canvas B settles back to neutral exactly on the last
 * frame, so consecutive clips (A→B, B→C, ...) join seamlessly by concatenation.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CaptionInputs, type ClipCaptions, captionInputs, captionOverlay, classicCaptionShows } from './caption.js';
import { throwIfAborted } from './errors.js';
import { type CanvasFace, type ClipFaces, withFaceMoves } from './face-move.js';
import { type Feed, runFfmpeg } from './ffmpeg.js';
import { cropAt, easeAt, kenBurnsChain, type Move, perspectiveFilter, randomMove, seededRandom } from './motion.js';
import { encodeProfile, TO_BT709_YUV, toOutputSize } from './profile.js';
import { probeImageSize } from './still.js';
import { CanvasWarper, decodeCanvases, MAX_WARP_RATIO, rawFramesInput, slottedFrames } from './warp.js';
import { transitionWeights, xfadeProgress } from './xfade.js';

/**
 * Version of the clip methods (classic transition, last clip, the generative gate's normalising),
 * carried in every clip's job result: a render or a remake reuses only clips of the current version,
 * so a change to how clips look never mixes old and new clips in one video.
 */
// v2: camera motion by the warp kernel (one resampling pass) instead of two swscale passes; captions.
// v3: the transition mixed by the warp kernel (xfade.ts; within one step of ffmpeg's xfade).
export const CLIP_VERSION = 3;

/**
 * Where a clip's camera motion is made: 'warp' moves the canvases in WebAssembly (warp.ts, one
 * resampling pass per frame), mixes the transition there too (xfade.ts) and hands ffmpeg the finished
 * frames to encode; 'swscale' is ffmpeg's own two-pass path with its xfade
 * (`kenBurnsChain`), kept as the fallback for geometries the warp kernel does not serve and as the
 * reference the warp's framing is tested against.
 */
export type ClipMotion = 'warp' | 'swscale';

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
  /** Present when faces were given: which of the moves head for faces (face-move.ts). */
  faceGuided?: { a: boolean; b: boolean };
}

/** Decide everything about a clip from its inputs and seed. Pure and deterministic. */
export function planClassic(opts: {
  seconds: number;
  fps: number;
  seed: number | string;
  headroom: number;
  transition?: ClassicTransitionName | undefined;
  transitionSeconds?: number | undefined;
  /** Faces on the canvases: a canvas with faces gets a move toward them instead of the seeded one. */
  faces?: ClipFaces | undefined;
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
  const plan = { frames, fps, transition, offsetFrames, transitionFrames, aFrames: offsetFrames + transitionFrames, bFrames: frames - offsetFrames, a, b };
  return opts.faces ? withFaceMoves(plan, opts.faces, maxZoom) : plan;
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

/**
 * The xfade from [a] to [b] applied to the overlapping frames only, into [out]. xfade takes no 4:2:0
 * (ffmpeg would convert every frame it sees to 4:4:4 and back) and copies what it passes through: cut
 * to its window, A's frames before and B's after go straight to the output, and the window is faded
 * plane by plane (Y, U, V as grey pictures, merged back), which looks the same (SSIM ≥ 0.9998 against
 * the 4:4:4 fade) for every transition whose mask scales with the plane. `dissolve`'s per-pixel noise
 * does not (its chroma would speckle apart from its luma), so it keeps the 4:4:4 fade. Measured on a
 * 720p clip (callgrind): 7.5 G instructions for the whole-clip xfade, 1.3 G windowed by plane.
 */
export function windowedXfade(plan: ClassicPlan, out: string): string {
  const { fps, offsetFrames: o, transitionFrames: t } = plan;
  const xfade = `xfade=transition=${plan.transition}:duration=${t / fps}:offset=0`;
  const byPlane = plan.transition !== 'dissolve';
  const planes = byPlane ? ',extractplanes=y+u+v' : '';
  const win = byPlane
    ? `[ay][by]${xfade}[wy];[au][bu]${xfade}[wu];[av][bv]${xfade}[wv];[wy][wu][wv]mergeplanes=0x001020:yuv420p[win];`
    : `[a_x][b_x]${xfade},format=yuv420p[win];`;
  const [aw, bw] = byPlane ? ['[ay][au][av]', '[by][bu][bv]'] : ['[a_x]', '[b_x]'];
  return (
    `[a]split[a_pre][a_win];[a_pre]trim=end_frame=${o}[pre];[a_win]trim=start_frame=${o},setpts=PTS-STARTPTS${planes}${aw};` +
    `[b]split[b_win][b_post];[b_win]trim=end_frame=${t}${planes}${bw};[b_post]trim=start_frame=${t},setpts=PTS-STARTPTS[post];` +
    win +
    `[pre][win][post]concat=n=3:v=1:a=0,settb=1/${fps},setpts=N[${out}]`
  );
}

/**
 * The filter graph of a classic transition (long: pass it with -filter_complex_script). With the warp,
 * input 0 is the finished frames (`classicFrames`: moved and mixed in the kernel) and the graph only
 * tags them and lays captions over; with swscale, ffmpeg moves both canvases and runs the xfade.
 */
export function buildClassicGraph(p: {
  plan: ClassicPlan;
  width: number;
  height: number;
  canvas: { width: number; height: number };
  interpolation?: 'linear' | 'cubic' | undefined;
  /** Captions: ffmpeg input indices of the caption PNGs (see `captionInputs`). */
  captions?: CaptionInputs | undefined;
  /** Where the motion is made: 'warp' (input 0 is the clip's frames, from classicFrames) or 'swscale' (inputs are the canvases). */
  motion?: ClipMotion | undefined;
}): string {
  const { plan, width, height, canvas } = p;
  const { fps } = plan;
  // Captions: one graph segment after the transition (caption.ts decides the frames).
  const cap = p.captions && (p.captions.from !== undefined || p.captions.to !== undefined) ? p.captions : undefined;
  const out = cap ? 'x' : 'v';
  let graph: string;
  if ((p.motion ?? 'warp') === 'warp') {
    graph = `[0:v]setsar=1[${out}]`;
  } else {
    const common = { fps, canvas, width, height, interpolation: p.interpolation };
    const a = movingStill({ ...common, index: 0, frames: plan.aFrames, move: plan.a, direction: 'away' });
    const b = movingStill({ ...common, index: 1, frames: plan.bFrames, move: plan.b, direction: 'back' });
    graph = `${a}[a];\n${b}[b];\n${windowedXfade(plan, out)}`;
  }
  return cap ? `${graph};\n${captionOverlay('x', 'v', classicCaptionShows(plan, cap), { fps, width, height })}` : graph;
}

/** ffmpeg input index of a classic clip's first caption PNG: after the frames (warp) or the two canvases (swscale). */
export const firstCaptionInput = (motion: ClipMotion | undefined) => ((motion ?? 'warp') === 'warp' ? 1 : 2);

/**
 * A classic clip's frames, in order, on one feed: canvas A moving away, then the transition's frames
 * (A's and B's moving frames mixed by the kernel with the transition's weights, xfade.ts), then B
 * settling back; ffmpeg only encodes them. Canvas 0 of the warper is A, canvas 1 is B.
 */
export function classicFrames(warper: CanvasWarper, plan: ClassicPlan): Feed {
  const { width, height } = warper.canvas;
  const { offsetFrames: o, transitionFrames: t } = plan;
  const weights = transitionWeights(plan.transition, warper.output);
  const a = (n: number, slot: number) => warper.frame(0, cropAt(plan.a, easeAt(n, plan.aFrames, 'away'), width, height), slot);
  const b = (m: number, slot: number) => warper.frame(1, cropAt(plan.b, easeAt(m, plan.bFrames, 'back'), width, height), slot);
  return slottedFrames(plan.frames, (n, slot) => {
    if (n < o) return a(n, slot);
    if (n >= o + t) return b(n - o, slot);
    a(n, slot);
    b(n - o, slot);
    const progress = xfadeProgress(n - o, t);
    return warper.mix(
      0,
      1,
      slot,
      (into) => weights.luma(progress, into),
      (into) => weights.chroma(progress, into),
    );
  });
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
  /** Caption PNGs (ffmpeg inputs from `firstCaptionInput` on: after the frames, or after the two canvases). */
  captions?: ClipCaptions | undefined;
  /** 'warp' (default): the clip's frames arrive raw on file descriptor 3 (classicFrames); 'swscale': ffmpeg moves the canvases. */
  motion?: ClipMotion | undefined;
  /** x264 threads (encodeProfile); default: x264's choice. */
  encodeThreads?: number | undefined;
}): string[] {
  const { plan, width, height } = p;
  const caps = captionInputs(p.captions, firstCaptionInput(p.motion));
  const graph = p.graphScript ? ['-filter_complex_script', p.graphScript] : ['-filter_complex', buildClassicGraph({ ...p, captions: caps.indices })];
  const sources =
    (p.motion ?? 'warp') === 'warp' ? rawFramesInput(3, { width, height }, plan.fps) : [...stillInputArgs(p.from, plan.fps), ...stillInputArgs(p.to, plan.fps)];
  // biome-ignore format: ffmpeg arguments grouped by option
  return [
    ...sources,
    ...caps.paths.flatMap((c) => stillInputArgs(c, plan.fps)),
    ...graph,
    '-map', '[v]',
    '-frames:v', String(plan.frames),
    ...encodeProfile({ width, height, fps: plan.fps, threads: p.encodeThreads }),
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
  /** Where the motion is made (default 'warp'; see `ClipMotion`). */
  motion?: ClipMotion;
  /** Caption PNGs (renderCaption) of A and B, shown while their photo is (caption.ts). */
  captions?: ClipCaptions | undefined;
  /** Faces on the two canvases (canvas coordinates, from the canvas job); undefined = not known. */
  faces?: { from?: readonly CanvasFace[] | undefined; to?: readonly CanvasFace[] | undefined } | undefined;
  /** x264 threads (encodeProfile): one where clips are encoded side by side; default: x264's choice. */
  encodeThreads?: number | undefined;
}

/** The warp unless asked otherwise or the canvas is too large for its kernel (the neutral crop is the whole canvas). */
export function chooseMotion(wanted: ClipMotion | undefined, canvas: { width: number; height: number }, output: { width: number; height: number }): ClipMotion {
  const ratio = Math.max(canvas.width / output.width, canvas.height / output.height);
  return (wanted ?? 'warp') === 'warp' && ratio <= MAX_WARP_RATIO && output.width >= 8 ? 'warp' : 'swscale';
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
    faces: opts.faces ? { canvas, a: opts.faces.from, b: opts.faces.to } : undefined,
  });
  const dir = await mkdtemp(join(tmpdir(), 'mt-classic-'));
  try {
    const graphScript = join(dir, 'graph.txt');
    const output = { width: opts.width, height: opts.height };
    const motion = chooseMotion(opts.motion, canvas, output);
    const captions = captionInputs(opts.captions, firstCaptionInput(motion)).indices;
    await writeFile(graphScript, buildClassicGraph({ plan, ...output, canvas, interpolation: opts.interpolation, captions, motion }));
    // biome-ignore format: one call
    const args = buildClassicArgs({ plan, from: opts.from, to: opts.to, output: opts.output, ...output, canvas, graphScript, captions: opts.captions, motion, encodeThreads: opts.encodeThreads });
    const feeds =
      motion === 'warp' ? [classicFrames(await CanvasWarper.create(await decodeCanvases([opts.from, opts.to], opts.signal), canvas, output), plan)] : undefined;
    await runFfmpeg(args, { signal: opts.signal, durationSeconds: plan.frames / plan.fps, onProgress: opts.onProgress, feeds });
    return plan;
  } finally {
    await rm(dir, { recursive: true, force: true }).catch(() => {});
  }
}
