/**
 * Photo captions in a clip job (issue 13): the payload's caption texts rendered once to PNGs in the
 * job's folder (@mt/media renderCaption), the pictures the clip's first and last frames must match
 * with their captions on, and the captions laid over a generative clip after its gate.
 */
import { rename } from 'node:fs/promises';
import path from 'node:path';
import type { ClipCaptionTexts } from '@mt/contracts';
import { type ClipCaptions, captionedFrame, overlayCaptions, renderCaption } from '@mt/media';

export interface JobCaptions {
  /** PNGs for the clip function; undefined when the clip shows no caption. */
  files: ClipCaptions | undefined;
  /** What the first frame shows: canvas A, or canvas A with its caption when that is on at the first frame. */
  first: string;
  /** What the last frame shows: canvas B, with its caption if it has one. */
  last: string;
  /** Milliseconds spent drawing the captions. */
  ms: number;
  /** Why the captions were left out (they could not be drawn); a caption never fails a clip. */
  error?: string;
}

/** Renders a transition's captions and the pictures its ends must match. */
export async function transitionCaptions(
  texts: ClipCaptionTexts | null | undefined,
  canvases: { from: string; to: string },
  o: { dir: string; width: number; height: number; signal: AbortSignal },
): Promise<JobCaptions> {
  try {
    return await drawCaptions(texts, canvases, o);
  } catch (e) {
    if (o.signal.aborted) throw e;
    return { files: undefined, first: canvases.from, last: canvases.to, ms: 0, error: (e as Error).message };
  }
}

async function drawCaptions(
  texts: ClipCaptionTexts | null | undefined,
  canvases: { from: string; to: string },
  o: { dir: string; width: number; height: number; signal: AbortSignal },
): Promise<JobCaptions> {
  const t0 = performance.now();
  if (!texts || (!texts.from && !texts.to)) return { files: undefined, first: canvases.from, last: canvases.to, ms: 0 };
  const draw = async (text: string | null, name: string) => {
    if (!text) return undefined;
    const output = path.join(o.dir, `caption-${name}.png`);
    await renderCaption({ text, width: o.width, height: o.height, output, signal: o.signal });
    return output;
  };
  const files: ClipCaptions = { from: await draw(texts.from, 'from'), to: await draw(texts.to, 'to'), opening: texts.opening };
  const withCaption = async (canvas: string, caption: string | undefined, name: string) => {
    if (!caption) return canvas;
    const output = path.join(o.dir, `expected-${name}.png`);
    await captionedFrame({ canvas, caption, width: o.width, height: o.height, output });
    return output;
  };
  // An opening clip fades its first caption in: its first frame is the bare photo.
  const first = await withCaption(canvases.from, texts.opening ? undefined : files.from, 'first');
  const last = await withCaption(canvases.to, files.to, 'last');
  return { files, first, last, ms: Math.round(performance.now() - t0) };
}

/** The closing clip's caption PNG and what its first frame must match. */
export async function lastClipCaption(
  text: string | null | undefined,
  canvas: string,
  o: { dir: string; width: number; height: number; signal: AbortSignal },
): Promise<{ file: string | undefined; first: string; ms: number; error?: string }> {
  const r = await transitionCaptions(text ? { from: text, to: null, opening: false } : null, { from: canvas, to: canvas }, o);
  return { file: r.files?.from, first: r.first, ms: r.ms, ...(r.error ? { error: r.error } : {}) };
}

/**
 * A generative clip (already gated: its ends match the bare canvases) gets the captions laid over it
 * in one more encode; the file at `clip` is replaced.
 */
export async function captionGenerativeClip(
  clip: string,
  files: ClipCaptions,
  o: { frames: number; fps: number; width: number; height: number; signal: AbortSignal },
): Promise<void> {
  const tmp = clip.replace(/\.mp4$/, '.captioned.mp4');
  await overlayCaptions({ input: clip, output: tmp, captions: files, ...o });
  await rename(tmp, clip);
}
