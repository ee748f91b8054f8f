/**
 * Photo captions ("Grandma's wedding, Busan 1962") over the lower part of the picture.
 *
 * `renderCaption` draws a caption once as an RGBA PNG of the output size: the text laid out by Pango
 * (through sharp's text input: shaping, bidi, font fallback and line breaking for any script, Korean,
 * Japanese, Chinese, Arabic, Hebrew, Latin), white, with a soft dark halo around the glyphs and a soft
 * dark shade (a gradient) under the lower part of the frame, so it reads over any photo. Its size is
 * set for a TV across a room (4.5 % of the frame height, at most two lines, smaller and then cut with
 * an ellipsis when the text is long).
 *
 * `captionOverlay` is the ffmpeg graph segment that lays such PNGs over a clip on the frames where
 * their photo is shown, fading in and out by alpha; `classicCaptionShows` and `lastClipCaptionShows`
 * decide those frames for the classic transition and the closing clip; `overlayCaptions` lays them
 * over a finished clip (a generative one) in one more encode.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { throwIfAborted } from './errors.js';
import { runFfmpeg } from './ffmpeg.js';
import { encodeProfile } from './profile.js';

/** Longest caption (Unicode code points, as the API counts). */
export const CAPTION_MAX_CHARS = 200;
/** Text size as a fraction of the frame height (≈ 32 px at 720p, 49 px at 1080p): legible on a TV across a room. */
export const CAPTION_FONT_FRACTION = 0.045;
/** Long captions shrink down to this before they are cut. */
export const CAPTION_MIN_FONT_FRACTION = 0.034;
export const CAPTION_MAX_LINES = 2;
/** The text block ends this far above the bottom edge (inside the title-safe area). */
export const CAPTION_BOTTOM_FRACTION = 0.085;
/** Widest line, as a fraction of the frame width (title-safe). */
export const CAPTION_WIDTH_FRACTION = 0.8;
/** Only this bottom part of the frame is ever drawn on (the shade starts here); the rest stays transparent. */
export const CAPTION_BAND_FRACTION = 0.36;
/** Fade in / out of a caption, seconds. */
export const CAPTION_FADE_SECONDS = 0.6;
/** Gap between a caption's fade and a transition (or the closing card), seconds. */
export const CAPTION_GAP_SECONDS = 0.15;

const RTL_LETTER = /[\p{Script=Arabic}\p{Script=Hebrew}\p{Script=Syriac}\p{Script=Thaana}\p{Script=Nko}\p{Script=Adlam}]/u;
const LETTER = /\p{L}/u;

/** Whether a caption is written right to left: its first strongly directional letter is Arabic, Hebrew, Syriac, Thaana, N'Ko or Adlam. Pure. */
export function isRtl(text: string): boolean {
  for (const ch of text) {
    if (RTL_LETTER.test(ch)) return true;
    if (LETTER.test(ch)) return false;
  }
  return false;
}

export type CaptionScript = 'ko' | 'ja' | 'zh' | 'ar' | 'he' | 'latin';

/** The script that decides the caption's fonts: Hangul → ko, kana → ja, other Han → zh, Arabic, Hebrew, else latin. Pure. */
export function captionScript(text: string): CaptionScript {
  if (/\p{Script=Hangul}/u.test(text)) return 'ko';
  if (/[\p{Script=Hiragana}\p{Script=Katakana}]/u.test(text)) return 'ja';
  if (/\p{Script=Han}/u.test(text)) return 'zh';
  if (/\p{Script=Arabic}/u.test(text)) return 'ar';
  if (/\p{Script=Hebrew}/u.test(text)) return 'he';
  return 'latin';
}

/**
 * Pango font families, first the one for the caption's script (so Han characters take the Japanese,
 * Korean or Chinese forms their readers expect), then fallbacks for everything else (fonts-noto-core,
 * fonts-noto-cjk).
 */
export function captionFonts(text: string): string {
  const cjk = { ko: 'Noto Sans CJK KR', ja: 'Noto Sans CJK JP', zh: 'Noto Sans CJK SC' } as const;
  const s = captionScript(text);
  const first = s === 'ko' || s === 'ja' || s === 'zh' ? [cjk[s]] : s === 'ar' ? ['Noto Sans Arabic'] : s === 'he' ? ['Noto Sans Hebrew'] : ['Noto Sans'];
  const rest = ['Noto Sans', 'Noto Sans CJK KR', 'Noto Sans Arabic', 'Noto Sans Hebrew', 'sans-serif'].filter((f) => !first.includes(f));
  return [...first, ...rest].join(',');
}

/** Captions as the API keeps them: trimmed, inner runs of spaces made one; empty is no caption. Pure. */
export function normaliseCaption(text: string | null | undefined): string | null {
  const t = (text ?? '').replace(/\s+/gu, ' ').trim();
  return t ? t : null;
}

/** First row of the caption band (even, for 4:2:0): everything above it is transparent in every caption. */
export function captionBandTop(height: number): number {
  return 2 * Math.floor((height * (1 - CAPTION_BAND_FRACTION)) / 2);
}

const markup = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

interface Mask {
  data: Buffer;
  width: number;
  height: number;
}

/** The text's ink as one 8-bit channel, laid out by Pango at `px` pixels per em. */
async function textMask(text: string, fonts: string, px: number, wrapWidth: number, rtl: boolean, wrap: boolean): Promise<Mask> {
  const { data, info } = await sharp({
    // Pango picks the paragraph direction from the first strong letter; a right-to-left mark makes it explicit.
    text: {
      text: `${rtl ? '\u200f' : ''}${markup(text)}`,
      font: `${fonts} Medium ${px}`,
      width: wrapWidth,
      dpi: 72,
      align: 'centre',
      wrap: wrap ? 'word-char' : 'none',
    },
  })
    .extractChannel(0)
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

export interface CaptionLayout {
  /** The text drawn (the caption, or its beginning and an ellipsis when it could not fit). */
  text: string;
  fontPx: number;
  lines: number;
  rtl: boolean;
  script: CaptionScript;
  /** The text block within the frame. */
  box: { x: number; y: number; width: number; height: number };
}

/**
 * Lays a caption out: at CAPTION_FONT_FRACTION of the frame height, wrapped to CAPTION_WIDTH_FRACTION
 * of its width; if that takes more than two lines, smaller (down to CAPTION_MIN_FONT_FRACTION); if it
 * still does, cut at a character boundary with an ellipsis.
 */
async function layoutCaption(caption: string, width: number, height: number): Promise<{ layout: CaptionLayout; mask: Mask }> {
  const rtl = isRtl(caption);
  const script = captionScript(caption);
  const fonts = captionFonts(caption);
  const wrapWidth = Math.round(width * CAPTION_WIDTH_FRACTION);
  const linesOf = async (text: string, px: number) => {
    const one = await textMask(text, fonts, px, wrapWidth, rtl, false);
    if (one.width <= wrapWidth) return { mask: one, lines: 1 };
    const mask = await textMask(text, fonts, px, wrapWidth, rtl, true);
    // a single line's height is the line height of these fonts at this size
    return { mask, lines: Math.max(1, Math.round(mask.height / one.height)) };
  };
  const sizes: number[] = [];
  const max = Math.round(height * CAPTION_FONT_FRACTION);
  const min = Math.round(height * CAPTION_MIN_FONT_FRACTION);
  for (let px = max; px > min; px = Math.round(px * 0.9)) sizes.push(px);
  sizes.push(min);
  const done = (text: string, px: number, r: { mask: Mask; lines: number }) => ({
    mask: r.mask,
    layout: {
      text,
      fontPx: px,
      lines: r.lines,
      rtl,
      script,
      box: {
        x: Math.round((width - r.mask.width) / 2),
        y: Math.round(height * (1 - CAPTION_BOTTOM_FRACTION) - r.mask.height),
        width: r.mask.width,
        height: r.mask.height,
      },
    },
  });
  for (const px of sizes) {
    const r = await linesOf(caption, px);
    if (r.lines <= CAPTION_MAX_LINES) return done(caption, px, r);
  }
  // Too long even at the smallest size: the longest beginning (whole graphemes) that fits, then "…".
  const graphemes = [...new Intl.Segmenter(undefined, { granularity: 'grapheme' }).segment(caption)].map((s) => s.segment);
  let lo = 1;
  let hi = graphemes.length - 1;
  let best: { text: string; r: { mask: Mask; lines: number } } | undefined;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const text = `${graphemes.slice(0, mid).join('').trimEnd()}…`;
    const r = await linesOf(text, min);
    if (r.lines <= CAPTION_MAX_LINES) {
      best = { text, r };
      lo = mid + 1;
    } else hi = mid - 1;
  }
  if (!best) best = { text: '…', r: await linesOf('…', min) };
  return done(best.text, min, best.r);
}

/** Alpha mask (W×H, one channel) grown by `pad` on each side and blurred: the dark halo behind the glyphs. */
async function haloOf(mask: Mask, pad: number, sigma: number): Promise<Mask> {
  const { data, info } = await sharp(mask.data, { raw: { width: mask.width, height: mask.height, channels: 1 } })
    .extend({ top: pad, bottom: pad, left: pad, right: pad, background: '#000000' })
    .blur(sigma)
    .linear(2.2, 0) // thin strokes blur faint: strengthen (clamped at 255)
    .extractChannel(0)
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

/** An RGBA layer of one colour with the mask as its alpha (scaled by opacity). */
function layer(mask: Mask, rgb: [number, number, number], opacity: number): Buffer {
  const out = Buffer.alloc(mask.width * mask.height * 4);
  for (let i = 0, j = 0; i < mask.data.length; i++, j += 4) {
    out[j] = rgb[0];
    out[j + 1] = rgb[1];
    out[j + 2] = rgb[2];
    out[j + 3] = Math.round(mask.data[i]! * opacity);
  }
  return out;
}

/** The soft shade under the lower part of the frame: transparent at the band's top, darkest behind the text and below. */
export function captionShadeSvg(width: number, height: number): string {
  const top = captionBandTop(height);
  const h = height - top;
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${h}">` +
    `<defs><linearGradient id="s" x1="0" y1="0" x2="0" y2="1">` +
    `<stop offset="0" stop-color="#000" stop-opacity="0"/>` +
    `<stop offset="0.4" stop-color="#000" stop-opacity="0.38"/>` +
    `<stop offset="0.7" stop-color="#000" stop-opacity="0.55"/>` +
    `<stop offset="1" stop-color="#000" stop-opacity="0.6"/>` +
    `</linearGradient></defs><rect width="${width}" height="${h}" fill="url(#s)"/></svg>`
  );
}

export interface RenderCaptionOptions {
  text: string;
  /** The output (video frame) size. */
  width: number;
  height: number;
  /** PNG path (RGBA, width×height). */
  output: string;
  signal?: AbortSignal;
}

/** Renders a caption to an RGBA PNG of the frame size (transparent above the band). */
export async function renderCaption(o: RenderCaptionOptions): Promise<CaptionLayout> {
  throwIfAborted(o.signal);
  const caption = normaliseCaption(o.text);
  if (!caption) throw new RangeError('an empty caption has nothing to draw');
  const { width, height } = o;
  const { layout, mask } = await layoutCaption(caption, width, height);
  throwIfAborted(o.signal);
  const pad = Math.max(2, Math.round(layout.fontPx * 0.35));
  const halo = await haloOf(mask, pad, Math.max(0.5, layout.fontPx * 0.12));
  const top = captionBandTop(height);
  const { x, y } = layout.box;
  await sharp({ create: { width, height, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } } })
    .composite([
      { input: Buffer.from(captionShadeSvg(width, height)), left: 0, top },
      { input: layer(halo, [0, 0, 0], 0.75), raw: { width: halo.width, height: halo.height, channels: 4 }, left: x - pad, top: y - pad + 1 },
      { input: layer(mask, [255, 255, 255], 1), raw: { width: mask.width, height: mask.height, channels: 4 }, left: x, top: y },
    ])
    .png({ compressionLevel: 3 })
    .toFile(o.output);
  return layout;
}

/** One caption on screen within a clip: frames [start, end) with fades at either end (0 = none). */
export interface CaptionShow {
  /** ffmpeg input index of the caption PNG (a still, read with `stillInputArgs`). */
  input: number;
  start: number;
  end: number;
  fadeIn: number;
  fadeOut: number;
}

/** Frames of a caption's fade and of its gap to a transition, at this frame rate. */
const fadeFrames = (fps: number) => Math.max(1, Math.round(CAPTION_FADE_SECONDS * fps));
const gapFrames = (fps: number) => Math.round(CAPTION_GAP_SECONDS * fps);

/** A show that fits its window: fades shortened to fit, nothing when the window is too short to read. */
function show(input: number, start: number, end: number, fadeIn: boolean, fadeOut: boolean, fps: number): CaptionShow[] {
  const n = end - start;
  if (n < Math.round(fps * 0.5)) return [];
  const f = Math.min(fadeFrames(fps), Math.floor(n / 3));
  return [{ input, start, end, fadeIn: fadeIn ? f : 0, fadeOut: fadeOut ? f : 0 }];
}

/**
 * Captions in a classic transition A→B: A's from the first frame (already on screen from the clip
 * before, or fading in when A opens the video) until it fades out just before the transition; B's
 * fading in just after the transition and still on at the last frame (the next clip starts with it),
 * so consecutive clips join without a blink.
 */
export function classicCaptionShows(
  plan: { frames: number; fps: number; offsetFrames: number; transitionFrames: number },
  captions: { from?: number | undefined; to?: number | undefined; opening?: boolean | undefined },
): CaptionShow[] {
  const { fps } = plan;
  const gap = gapFrames(fps);
  const out: CaptionShow[] = [];
  if (captions.from !== undefined) {
    const start = captions.opening ? Math.round(0.5 * fps) : 0;
    out.push(...show(captions.from, start, plan.offsetFrames - gap, !!captions.opening, true, fps));
  }
  if (captions.to !== undefined) out.push(...show(captions.to, plan.offsetFrames + plan.transitionFrames + gap, plan.frames, true, false, fps));
  return out;
}

/** The last photo's caption in the closing clip: on from the first frame, faded out before the card or the fade to black. */
export function lastClipCaptionShows(plan: { frames: number; fadeStart: number; cardStart?: number | undefined }, fps: number, input: number): CaptionShow[] {
  const end = (plan.cardStart ?? plan.fadeStart) - gapFrames(fps);
  return show(input, 0, end, false, true, fps);
}

/**
 * Generative clips have no fixed transition: A's caption fades out within the first quarter, B's
 * fades in over the last quarter (the model's clip starts on A and ends on B).
 */
export function generativeCaptionShows(frames: number, fps: number, captions: { from?: number | undefined; to?: number | undefined }): CaptionShow[] {
  const q = Math.round(frames * 0.25);
  return [
    ...(captions.from !== undefined ? show(captions.from, 0, q, false, true, fps) : []),
    ...(captions.to !== undefined ? show(captions.to, frames - q, frames, true, false, fps) : []),
  ];
}

/**
 * The ffmpeg graph segment `[main]` → `[out]` laying each caption over its frames: the PNG's band
 * (the only part with any ink) converted to BT.709 yuva420p once, looped for its frames, placed at
 * its start frame, faded by alpha, and overlaid; outside its frames the picture passes unchanged.
 * Streams are at time base 1/fps with pts = frame number (as `movingStill` makes them).
 */
export function captionOverlay(main: string, out: string, shows: CaptionShow[], o: { fps: number; width: number; height: number }): string {
  if (shows.length === 0) return `[${main}]null[${out}]`;
  const top = captionBandTop(o.height);
  const band = o.height - top;
  const parts: string[] = [];
  let cur = main;
  shows.forEach((s, i) => {
    const n = s.end - s.start;
    const fades = [
      s.fadeIn ? `fade=t=in:start_frame=0:nb_frames=${s.fadeIn}:alpha=1` : '',
      s.fadeOut ? `fade=t=out:start_frame=${n - s.fadeOut}:nb_frames=${s.fadeOut}:alpha=1` : '',
    ].filter(Boolean);
    parts.push(
      `[${s.input}:v]crop=${o.width}:${band}:0:${top},scale=out_color_matrix=bt709:out_range=tv,format=yuva420p,` +
        `loop=loop=${n - 1}:size=1:start=0,settb=1/${o.fps},setpts=N+${s.start}${fades.length ? `,${fades.join(',')}` : ''}[cap${i}]`,
    );
    const next = i === shows.length - 1 ? out : `capm${i}`;
    parts.push(`[${cur}][cap${i}]overlay=x=0:y=${top}:eof_action=pass:format=yuv420,format=yuv420p[${next}]`);
    cur = next;
  });
  return parts.join(';\n');
}

/** Captions of a clip: PNG paths (from `renderCaption`) of the photo it starts on and the one it ends on. */
export interface ClipCaptions {
  from?: string | undefined;
  to?: string | undefined;
  /** The clip opens the video: the first photo's caption fades in instead of being on from the first frame. */
  opening?: boolean | undefined;
}

export const hasCaptions = (c: ClipCaptions | undefined): c is ClipCaptions => !!(c?.from || c?.to);

/** Caption PNGs as extra ffmpeg inputs from index `first`: their paths in order and each one's index. */
export interface CaptionInputs {
  from?: number | undefined;
  to?: number | undefined;
  opening?: boolean | undefined;
}
export function captionInputs(c: ClipCaptions | undefined, first: number): { paths: string[]; indices: CaptionInputs | undefined } {
  if (!hasCaptions(c)) return { paths: [], indices: undefined };
  const paths = [c.from, c.to].filter((x): x is string => !!x);
  return { paths, indices: { from: c.from ? first : undefined, to: c.to ? first + (c.from ? 1 : 0) : undefined, opening: c.opening } };
}

/**
 * A finished clip with captions laid over it (for clips made elsewhere, e.g. by the video model):
 * one more encode with the shared profile, `frames` frames exactly.
 */
export async function overlayCaptions(o: {
  input: string;
  output: string;
  captions: ClipCaptions;
  frames: number;
  fps: number;
  width: number;
  height: number;
  signal?: AbortSignal;
  onProgress?: (fraction: number) => void;
}): Promise<void> {
  throwIfAborted(o.signal);
  const args = ['-i', o.input];
  const idx: { from?: number; to?: number } = {};
  let next = 1;
  for (const k of ['from', 'to'] as const) {
    const png = o.captions[k];
    if (!png) continue;
    args.push('-f', 'image2', '-pattern_type', 'none', '-framerate', String(o.fps), '-i', png);
    idx[k] = next++;
  }
  const shows = generativeCaptionShows(o.frames, o.fps, idx);
  const dir = await mkdtemp(join(tmpdir(), 'mt-caption-'));
  try {
    const script = join(dir, 'graph.txt');
    await writeFile(script, `[0:v]settb=1/${o.fps},setpts=N[m];\n${captionOverlay('m', 'v', shows, o)}`);
    // biome-ignore format: ffmpeg arguments grouped by option
    args.push(
      '-filter_complex_script', script, '-map', '[v]', '-frames:v', String(o.frames),
      ...encodeProfile({ width: o.width, height: o.height, fps: o.fps }),
      o.output,
    );
    await runFfmpeg(args, { signal: o.signal, durationSeconds: o.frames / o.fps, onProgress: o.onProgress });
  } finally {
    await rm(dir, { recursive: true, force: true }).catch(() => {});
  }
}

/** A frame as a clip shows it at a still moment: the canvas at neutral framing, scaled to the output, with a caption fully on. For validating first/last frames. */
export async function captionedFrame(o: { canvas: string; caption: string; width: number; height: number; output: string }): Promise<void> {
  await sharp(o.canvas)
    .resize(o.width, o.height, { fit: 'fill', kernel: 'cubic' })
    .composite([{ input: o.caption }])
    .png({ compressionLevel: 3 })
    .toFile(o.output);
}
