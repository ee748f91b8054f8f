/**
 * The final clip: the last canvas from neutral framing with a gentle move, fading to black (full black
 * on the last frames); with an epilogue, a card (name, "born – died", optional title) fades in first.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { captionOverlay, lastClipCaptionShows } from './caption.js';
import { type ClipMotion, chooseMotion, movingStill, stillInputArgs } from './classic.js';
import { throwIfAborted } from './errors.js';
import { type CanvasFace, chooseFaceMove } from './face-move.js';
import { runFfmpeg } from './ffmpeg.js';
import { randomMove, seededRandom } from './motion.js';
import { encodeProfile } from './profile.js';
import { probeImageSize } from './still.js';
import { moveFeeds, rawFramesInput } from './warp.js';

export interface Epilogue {
  name?: string | undefined;
  born?: string | undefined;
  died?: string | undefined;
  title?: string | undefined;
}

/** Frames of pure black at the very end. */
export const BLACK_TAIL_FRAMES = 3;
/** Fonts with full Korean/CJK and Latin coverage (fonts-noto-cjk, fonts-noto-core). */
export const CARD_FONTS = "'Noto Serif CJK KR', 'Noto Serif CJK SC', 'Noto Serif', 'Noto Sans CJK KR', serif";

const xml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');

export function hasEpilogue(e: Epilogue | undefined): e is Epilogue {
  return !!e && [e.name, e.born, e.died, e.title].some((v) => v?.trim());
}

/** The epilogue card as SVG (transparent outside a soft dark backdrop). Pure. */
export function epilogueSvg(e: Epilogue, width: number, height: number): string {
  const lines: Array<{ text: string; size: number; weight: number; opacity: number; spacing: number }> = [];
  const title = e.title?.trim();
  const name = e.name?.trim();
  const born = e.born?.trim();
  const died = e.died?.trim();
  const dates = born && died ? `${born} – ${died}` : (born ?? died ?? '');
  if (title) lines.push({ text: title, size: height * 0.042, weight: 400, opacity: 0.85, spacing: height * 0.004 });
  if (name) lines.push({ text: name, size: height * 0.085, weight: 700, opacity: 1, spacing: 0 });
  if (dates) lines.push({ text: dates, size: height * 0.048, weight: 400, opacity: 0.9, spacing: 0 });
  const gap = height * 0.035;
  const total = lines.reduce((s, l) => s + l.size, 0) + gap * Math.max(0, lines.length - 1);
  let y = (height - total) / 2;
  const texts = lines
    .map((l) => {
      y += l.size;
      const t = `<text x="${width / 2}" y="${(y - l.size * 0.12).toFixed(1)}" font-size="${l.size.toFixed(1)}" font-weight="${l.weight}" fill="#ffffff" fill-opacity="${l.opacity}" letter-spacing="${l.spacing.toFixed(1)}" text-anchor="middle">${xml(l.text)}</text>`;
      y += gap;
      return t;
    })
    .join('');
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">` +
    `<rect width="100%" height="100%" fill="#000000" fill-opacity="0.6"/>` +
    `<g font-family="${CARD_FONTS}">${texts}</g></svg>`
  );
}

/** Render the epilogue card to an RGBA PNG of the output size. */
export async function renderEpilogueCard(e: Epilogue, width: number, height: number, output: string): Promise<void> {
  await sharp(Buffer.from(epilogueSvg(e, width, height)), { density: 72 })
    .resize(width, height)
    .png()
    .toFile(output);
}

export interface LastClipPlan {
  frames: number;
  fadeStart: number;
  fadeFrames: number;
  cardStart?: number;
  cardFrames?: number;
  /** Present when faces were given: whether the move heads for faces. */
  faceGuided?: boolean;
}

export function planLastClip(seconds: number, fps: number, epilogue: boolean, caption = false): LastClipPlan {
  const frames = Math.round(seconds * fps);
  if (frames < BLACK_TAIL_FRAMES + 4) throw new RangeError(`last clip too short: ${seconds}s`);
  const usable = frames - BLACK_TAIL_FRAMES;
  if (!epilogue) {
    const fadeStart = Math.round(frames * 0.35);
    return { frames, fadeStart, fadeFrames: usable - fadeStart };
  }
  const fadeFrames = Math.min(Math.round(1.5 * fps), Math.round(frames * 0.25));
  // a caption is read first: the card comes a little later
  const cardStart = Math.round(frames * (caption ? 0.25 : 0.12));
  const cardFrames = Math.min(Math.round(1.5 * fps), Math.round(frames * 0.2));
  return { frames, fadeStart: usable - fadeFrames, fadeFrames, cardStart, cardFrames };
}

export interface LastClipOptions {
  from: string;
  output: string;
  seconds: number;
  fps: number;
  width: number;
  height: number;
  epilogue?: Epilogue;
  seed?: number | string;
  signal?: AbortSignal;
  onProgress?: (fraction: number) => void;
  /** The last photo's caption PNG (renderCaption): on from the first frame, faded out before the card or the fade. */
  caption?: string | undefined;
  /** Faces on the canvas (canvas coordinates, from the canvas job); undefined = not known. */
  faces?: readonly CanvasFace[] | undefined;
  /** Where the motion is made (default 'warp'; see `ClipMotion`). */
  motion?: ClipMotion;
  /** x264 threads (encodeProfile): one where clips are encoded side by side; default: x264's choice. */
  encodeThreads?: number | undefined;
}

export async function lastClip(opts: LastClipOptions): Promise<LastClipPlan> {
  const { fps, width, height, signal } = opts;
  throwIfAborted(signal);
  const canvas = await probeImageSize(opts.from);
  const withCard = hasEpilogue(opts.epilogue);
  const plan = planLastClip(opts.seconds, fps, withCard, !!opts.caption);
  const headroom = Math.min(canvas.width / width, canvas.height / height);
  const maxZoom = Math.max(0, Math.min(0.1, headroom - 1));
  const chosen = chooseFaceMove(randomMove(seededRandom(opts.seed ?? 'last'), maxZoom), opts.faces, canvas, maxZoom);
  const move = chosen.move;
  if (opts.faces) plan.faceGuided = chosen.guided;
  const dir = await mkdtemp(join(tmpdir(), 'mt-last-'));
  try {
    const fadeOut = `fade=t=out:start_frame=${plan.fadeStart}:nb_frames=${plan.fadeFrames}`;
    // The moving photo is input 0: raw frames from the warp kernel on fd 3, or the canvas moved by ffmpeg.
    const motion = chooseMotion(opts.motion, canvas, { width, height });
    let photo = motion === 'warp' ? '[0:v]setsar=1' : movingStill({ index: 0, frames: plan.frames, fps, move, direction: 'away', canvas, width, height });
    // Caption: one graph segment over the moving photo (its input comes after the card's; caption.ts decides the frames).
    const captionIndex = withCard ? 2 : 1;
    if (opts.caption) photo = `${photo}[p0];\n${captionOverlay('p0', 'pc', lastClipCaptionShows(plan, fps, captionIndex), { fps, width, height })};\n[pc]null`;
    const args = motion === 'warp' ? rawFramesInput(3, { width, height }, fps) : stillInputArgs(opts.from, fps);
    const feeds =
      motion === 'warp' ? await moveFeeds([{ canvas: opts.from, move, frames: plan.frames, direction: 'away' }], canvas, { width, height }, signal) : undefined;
    let graph: string;
    if (withCard && opts.epilogue) {
      const card = join(dir, 'card.png');
      await renderEpilogueCard(opts.epilogue, width, height, card);
      args.push(...stillInputArgs(card, fps));
      graph =
        `${photo}[p];` +
        `[1:v]scale=out_color_matrix=bt709:out_range=tv,format=yuva420p,loop=loop=${plan.frames - 1}:size=1:start=0,settb=1/${fps},setpts=N,` +
        `fade=t=in:start_frame=${plan.cardStart}:nb_frames=${plan.cardFrames}:alpha=1[c];` +
        `[p][c]overlay=format=yuv420:shortest=1,${fadeOut},format=yuv420p[v]`;
    } else {
      graph = `${photo},${fadeOut},format=yuv420p[v]`;
    }
    if (opts.caption) args.push(...stillInputArgs(opts.caption, fps));
    const script = join(dir, 'graph.txt');
    await writeFile(script, graph);
    args.push(
      '-filter_complex_script',
      script,
      '-map',
      '[v]',
      '-frames:v',
      String(plan.frames),
      ...encodeProfile({ width, height, fps, threads: opts.encodeThreads }),
      opts.output,
    );
    await runFfmpeg(args, { signal, durationSeconds: plan.frames / fps, onProgress: opts.onProgress, feeds });
    return plan;
  } finally {
    await rm(dir, { recursive: true, force: true }).catch(() => {});
  }
}
