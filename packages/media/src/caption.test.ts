import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCanvas } from './canvas.js';
import {
  CAPTION_FONT_FRACTION,
  CAPTION_MAX_LINES,
  type CaptionLayout,
  captionBandTop,
  captionFonts,
  captionInputs,
  captionOverlay,
  captionScript,
  classicCaptionShows,
  generativeCaptionShows,
  isRtl,
  lastClipCaptionShows,
  normaliseCaption,
  overlayCaptions,
  renderCaption,
} from './caption.js';
import { classicTransition } from './classic.js';
import { extractLuma, validateClip } from './compare.js';
import { runFfmpeg } from './ffmpeg.js';
import { lastClip } from './lastClip.js';
import { photo, tempDir } from './testkit.js';

const run = promisify(execFile);
let t: Awaited<ReturnType<typeof tempDir>>;
const W = 1280;
const H = 720;
const FPS = 30;

beforeAll(async () => {
  t = await tempDir('mt-caption-test-');
});
afterAll(async () => {
  await t.cleanup();
});

describe('caption text', () => {
  it('finds right-to-left captions by their first strong letter', () => {
    expect(isRtl('زفاف جدتي في القاهرة')).toBe(true);
    expect(isRtl('1962 — חתונה של סבתא')).toBe(true); // digits are weak: the Hebrew letter decides
    expect(isRtl('Cairo, زفاف جدتي')).toBe(false);
    expect(isRtl('할머니의 결혼식')).toBe(false);
    expect(isRtl('1962')).toBe(false);
  });
  it('picks the fonts of the script (Han in Japanese, Korean or Chinese forms)', () => {
    expect(captionScript('할머니의 결혼식, 1962')).toBe('ko');
    expect(captionScript('祖母の結婚式')).toBe('ja');
    expect(captionScript('祖母的婚礼')).toBe('zh');
    expect(captionScript('زفاف جدتي')).toBe('ar');
    expect(captionScript("Grandma's wedding")).toBe('latin');
    expect(captionFonts('祖母の結婚式').split(',')[0]).toBe('Noto Sans CJK JP');
    expect(captionFonts('祖母的婚礼').split(',')[0]).toBe('Noto Sans CJK SC');
    expect(captionFonts('زفاف').split(',')[0]).toBe('Noto Sans Arabic');
    expect(captionFonts('Anna').split(',')).toContain('Noto Sans CJK KR'); // a name in Hangul inside a Latin caption still has glyphs
  });
  it('normalises: trimmed, inner whitespace one space, empty is none', () => {
    expect(normaliseCaption('  Busan\t 1962  ')).toBe('Busan 1962');
    expect(normaliseCaption('   ')).toBeNull();
    expect(normaliseCaption(null)).toBeNull();
  });
});

describe('renderCaption', () => {
  const alphaOf = async (file: string) => {
    const { data, info } = await sharp(file).raw().toBuffer({ resolveWithObject: true });
    return { data, info, a: (x: number, y: number) => data[(y * info.width + x) * 4 + 3]! };
  };

  it('an RGBA PNG of the frame size, transparent above the band, one line at 4.5 % of the height', async () => {
    const out = t.file('ko.png');
    const l = await renderCaption({ text: '할머니의 결혼식, 부산 1962년 봄', width: W, height: H, output: out });
    const m = await sharp(out).metadata();
    expect([m.width, m.height, m.channels, m.hasAlpha, m.format]).toEqual([W, H, 4, true, 'png']);
    expect(l.lines).toBe(1);
    expect(l.fontPx).toBe(Math.round(H * CAPTION_FONT_FRACTION));
    const { data, info, a } = await alphaOf(out);
    const top = captionBandTop(H);
    let above = 0;
    for (let i = 3; i < top * info.width * 4; i += 4) above = Math.max(above, data[i]!);
    expect(above).toBe(0); // nothing drawn over the upper part of the photo
    expect(a(10, H - 2)).toBeGreaterThan(120); // the soft shade reaches the frame's edges at the bottom
    expect(a(10, top + 2)).toBeLessThan(10); // and starts softly
    // the text block sits in the lower part, centred, inside the title-safe area
    expect(l.box.y).toBeGreaterThan(H * 0.75);
    expect(l.box.y + l.box.height).toBeLessThan(H * 0.95);
    expect(Math.abs(l.box.x + l.box.width / 2 - W / 2)).toBeLessThanOrEqual(1);
  });

  it('wraps a long caption onto two lines, shrinks and finally cuts one that does not fit', async () => {
    const en = await renderCaption({
      text: "Grandma's wedding in Busan, spring 1962: the whole family came, and they danced until the sun came up",
      width: W,
      height: H,
      output: t.file('en.png'),
    });
    expect(en.lines).toBe(2);
    expect(en.box.width).toBeLessThanOrEqual(W * 0.8);
    const long = await renderCaption({ text: '할머니와 할아버지의 결혼식 '.repeat(14).slice(0, 200), width: W, height: H, output: t.file('long.png') });
    expect(long.lines).toBeLessThanOrEqual(CAPTION_MAX_LINES);
    expect(long.fontPx).toBeLessThan(Math.round(H * CAPTION_FONT_FRACTION));
    expect(long.text.endsWith('…')).toBe(true);
    expect(long.text.length).toBeLessThan(200);
  });

  it('lays Arabic out right to left, centred, with its letters joined (narrower than the same letters isolated)', async () => {
    const ar = await renderCaption({ text: 'زفاف جدتي في القاهرة', width: W, height: H, output: t.file('ar.png') });
    expect(ar.rtl).toBe(true);
    expect(ar.script).toBe('ar');
    expect(Math.abs(ar.box.x + ar.box.width / 2 - W / 2)).toBeLessThanOrEqual(1);
    // shaping joins letters: the same letters spaced apart (no joining) take far more room
    const isolated = await renderCaption({ text: [...'زفافجدتيفيالقاهرة'].join(' '), width: W, height: H, output: t.file('ar-iso.png') });
    expect(isolated.box.width).toBeGreaterThan(ar.box.width * 1.4);
  });

  it('is legible over white and over black: white letters with a dark halo', async () => {
    const cap = t.file('leg.png');
    const l = await renderCaption({ text: 'Busan 1962', width: W, height: H, output: cap });
    for (const bg of ['#ffffff', '#000000']) {
      const { data, info } = await sharp({ create: { width: W, height: H, channels: 3, background: bg } })
        .composite([{ input: cap }])
        .greyscale()
        .raw()
        .toBuffer({ resolveWithObject: true });
      const { x, y, width, height } = l.box;
      const inside: number[] = [];
      for (let j = y; j < y + height; j++) for (let i = x; i < x + width; i++) inside.push(data[j * info.width + i]!);
      inside.sort((p, q) => p - q);
      const ink = inside[Math.floor(inside.length * 0.98)]!; // the letters
      const ground = inside[Math.floor(inside.length * 0.3)]!; // around them, inside the block
      expect(ink).toBeGreaterThan(235);
      expect(ground).toBeLessThan(110); // over white too: the halo and shade darken what is around the letters
    }
  });
});

describe('when captions are on screen', () => {
  const plan = { frames: 180, fps: 30, offsetFrames: 60, transitionFrames: 60 };
  it('classic A→B: A until just before the transition, B from just after it to the last frame', () => {
    const [a, b] = classicCaptionShows(plan, { from: 2, to: 3 });
    expect(a).toMatchObject({ input: 2, start: 0, fadeIn: 0 });
    expect(a!.end).toBeLessThanOrEqual(60);
    expect(a!.fadeOut).toBeGreaterThan(0);
    expect(b).toMatchObject({ input: 3, end: 180, fadeOut: 0 });
    expect(b!.start).toBeGreaterThanOrEqual(120);
    expect(b!.fadeIn).toBeGreaterThan(0);
    // the first clip of a video fades its first caption in
    const [o] = classicCaptionShows(plan, { from: 2, opening: true });
    expect(o!.start).toBeGreaterThan(0);
    expect(o!.fadeIn).toBeGreaterThan(0);
    // nothing when there is no caption, or no time to read it
    expect(classicCaptionShows(plan, {})).toEqual([]);
    expect(classicCaptionShows({ ...plan, offsetFrames: 10 }, { from: 2 })).toEqual([]);
  });
  it('last clip: before the card or the fade to black; generative: first and last quarter', () => {
    const [s] = lastClipCaptionShows({ frames: 180, fadeStart: 132, cardStart: 45 }, 30, 2);
    expect(s!.start).toBe(0);
    expect(s!.end).toBeLessThanOrEqual(45);
    const [g1, g2] = generativeCaptionShows(180, 30, { from: 1, to: 2 });
    expect(g1!.end).toBe(45);
    expect(g2!.start).toBe(135);
  });
  it('is one graph segment from a main label to an output label', () => {
    const seg = captionOverlay('x', 'v', classicCaptionShows(plan, { from: 2, to: 3 }), { fps: 30, width: W, height: H });
    expect(seg.startsWith('[2:v]crop=1280:')).toBe(true);
    expect(seg).toMatch(/\[x\]\[cap0\]overlay=/);
    expect(seg.trim().endsWith('[v]')).toBe(true);
    expect(captionOverlay('x', 'v', [], { fps: 30, width: W, height: H })).toBe('[x]null[v]');
    expect(captionInputs({ to: 'b.png' }, 2)).toEqual({ paths: ['b.png'], indices: { from: undefined, to: 2, opening: undefined } });
  });
});

// ---------- rendered clips, read back with Tesseract ----------

/** Characters of `want` (spaces and punctuation aside) found in order in `got`: longest common subsequence / the longer of the two. */
function recognised(want: string, got: string): number {
  const clean = (s: string) => [...s.normalize('NFC').replace(/[\s\p{P}\u200e\u200f]/gu, '')];
  const a = clean(want);
  const b = clean(got);
  const dp = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) dp[i]![j] = a[i - 1] === b[j - 1] ? dp[i - 1]![j - 1]! + 1 : Math.max(dp[i - 1]![j]!, dp[i]![j - 1]!);
  return dp[a.length]![b.length]! / Math.max(a.length, b.length); // what is read beyond the text counts against it
}

/** One frame of a clip, the caption's block cropped, white letters kept (threshold) as black on white, read by Tesseract. */
async function ocrFrame(clip: string, frame: number, box: CaptionLayout['box'], lang: string): Promise<string> {
  const png = t.file(`frame-${lang}-${frame}-${Math.random().toString(36).slice(2)}.png`);
  await runFfmpeg(['-i', clip, '-vf', `select=eq(n\\,${frame})`, '-fps_mode', 'passthrough', '-frames:v', '1', png]);
  const p = 12;
  const crop = png.replace(/\.png$/, '-text.png');
  await sharp(png)
    .extract({ left: box.x - p, top: box.y - p, width: box.width + 2 * p, height: box.height + 2 * p })
    .greyscale()
    .threshold(190)
    .negate()
    .resize({ width: (box.width + 2 * p) * 2 })
    .png()
    .toFile(crop);
  const { stdout } = await run('tesseract', [crop, '-', '-l', lang, '--psm', '7']);
  return stdout.trim();
}

/** Mean absolute luma difference of the caption band of frame n in two clips. */
async function bandDiff(a: string, b: string, n: number): Promise<number> {
  const [x, y] = await Promise.all([extractLuma(a, n, { width: W, height: H }), extractLuma(b, n, { width: W, height: H })]);
  let s = 0;
  const from = captionBandTop(H) * W;
  for (let i = from; i < x.length; i++) s += Math.abs(x[i]! - y[i]!);
  return s / (x.length - from);
}

/** Share of characters that must be read back (Tesseract, one line: --psm 7): measured 100 % for the Korean caption and ≥ 94 % for the Arabic one. */
const MIN_RECOGNISED = 0.85;
const KO = '할머니의 결혼식, 부산 1962년 봄';
const AR = 'زفاف جدتي في القاهرة';

describe('captions in rendered clips (OCR)', () => {
  let ko: CaptionLayout;
  let ar: CaptionLayout;
  beforeAll(async () => {
    await makeCanvas({ input: photo('kodak/kodim01.png'), output: t.file('a.png'), width: W, height: H });
    await makeCanvas({ input: photo('people_pd/louis_armstrong_gottlieb.jpg'), output: t.file('b.png'), width: W, height: H });
    ko = await renderCaption({ text: KO, width: W, height: H, output: t.file('cap-ko.png') });
    ar = await renderCaption({ text: AR, width: W, height: H, output: t.file('cap-ar.png') });
  }, 60_000);

  it('classic A→B: the Korean caption reads on A, the Arabic one on B, neither during the transition', async () => {
    const common = { from: t.file('a.png'), to: t.file('b.png'), seconds: 4, fps: FPS, width: W, height: H, seed: 'ocr', transition: 'fade' as const };
    const t0 = performance.now();
    const plain = await classicTransition({ ...common, output: t.file('plain.mp4') });
    const t1 = performance.now();
    const plan = await classicTransition({ ...common, output: t.file('cap.mp4'), captions: { from: t.file('cap-ko.png'), to: t.file('cap-ar.png') } });
    const t2 = performance.now();
    console.log(`classic 4 s 720p: ${(t1 - t0).toFixed(0)} ms without captions, ${(t2 - t1).toFixed(0)} ms with two (wall, shared machine)`);
    expect(plan).toEqual(plain);
    const clip = t.file('cap.mp4');
    await validateClip(clip, { frames: plan.frames, fps: FPS, width: W, height: H });

    const koRead = await ocrFrame(clip, 0, ko.box, 'kor');
    const arRead = await ocrFrame(clip, plan.frames - 1, ar.box, 'ara');
    console.log(
      `OCR first frame: ${koRead} (${(recognised(KO, koRead) * 100).toFixed(0)} %); last frame: ${arRead} (${(recognised(AR, arRead) * 100).toFixed(0)} %)`,
    );
    expect(recognised(KO, koRead)).toBeGreaterThanOrEqual(MIN_RECOGNISED);
    expect(recognised(AR, arRead)).toBeGreaterThanOrEqual(MIN_RECOGNISED);
    // the other caption is not read where its photo is not shown
    expect(recognised(AR, await ocrFrame(clip, 0, ar.box, 'ara'))).toBeLessThan(0.3);
    expect(recognised(KO, await ocrFrame(clip, plan.frames - 1, ko.box, 'kor'))).toBeLessThan(0.3);

    // captions really drawn at the ends, and nothing over the picture while the photos change
    expect(await bandDiff(clip, t.file('plain.mp4'), 0)).toBeGreaterThan(5);
    expect(await bandDiff(clip, t.file('plain.mp4'), plan.frames - 1)).toBeGreaterThan(5);
    for (const n of [plan.offsetFrames, plan.offsetFrames + Math.floor(plan.transitionFrames / 2), plan.offsetFrames + plan.transitionFrames - 1])
      expect(await bandDiff(clip, t.file('plain.mp4'), n)).toBeLessThan(1.5);
  }, 240_000);

  it('last clip: the Arabic caption reads on its first frame and is gone before the fade to black', async () => {
    const common = { from: t.file('b.png'), seconds: 4, fps: FPS, width: W, height: H, seed: 'ocr' };
    const plan = await lastClip({ ...common, output: t.file('last-plain.mp4') });
    await lastClip({ ...common, output: t.file('last-cap.mp4'), caption: t.file('cap-ar.png') });
    const read = await ocrFrame(t.file('last-cap.mp4'), 0, ar.box, 'ara');
    expect(recognised(AR, read)).toBeGreaterThanOrEqual(MIN_RECOGNISED);
    expect(await bandDiff(t.file('last-cap.mp4'), t.file('last-plain.mp4'), plan.fadeStart)).toBeLessThan(1.5);
  }, 240_000);

  it('a finished clip (the video model’s) gets them in one more encode', async () => {
    const out = t.file('gen-cap.mp4');
    await overlayCaptions({ input: t.file('plain.mp4'), output: out, captions: { from: t.file('cap-ko.png') }, frames: 120, fps: FPS, width: W, height: H });
    await validateClip(out, { frames: 120, fps: FPS, width: W, height: H });
    expect(recognised(KO, await ocrFrame(out, 0, ko.box, 'kor'))).toBeGreaterThanOrEqual(MIN_RECOGNISED);
    expect(await bandDiff(out, t.file('plain.mp4'), 60)).toBeLessThan(1.5);
  }, 240_000);
});
