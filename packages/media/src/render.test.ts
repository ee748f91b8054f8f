import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCanvas } from './canvas.js';
import { classicTransition } from './classic.js';
import { extractLuma, frameSimilarity, validateClip } from './compare.js';
import { MediaValidationError } from './errors.js';
import { ffprobe } from './ffmpeg.js';
import { epilogueSvg, lastClip } from './lastClip.js';
import { joinVideo, makePoster, makeSoundtrack, validateVideo } from './render.js';
import { MUSIC, photo, tempDir } from './testkit.js';

let t: Awaited<ReturnType<typeof tempDir>>;
const W = 1280;
const H = 720;
const FPS = 30;
const size = { width: W, height: H };
const mean = (a: Uint8Array) => a.reduce((s, v) => s + v, 0) / a.length;

beforeAll(async () => {
  t = await tempDir();
  await makeCanvas({ input: photo('kodak/kodim05.png'), output: t.file('a.png'), width: W, height: H });
  await makeCanvas({ input: photo('person_mary_lou_williams/mlw_03_1947_cbs_studio.jpg'), output: t.file('b.png'), width: W, height: H });
  await classicTransition({ from: t.file('a.png'), to: t.file('b.png'), output: t.file('ab.mp4'), seconds: 3, fps: FPS, width: W, height: H, seed: 3 });
}, 60_000);
afterAll(async () => {
  await t.cleanup();
});

describe('lastClip', () => {
  it('epilogue card escapes text and names Noto fonts', () => {
    const svg = epilogueSvg({ name: '김영희 <Kim>', born: '1938', died: '2024' }, W, H);
    expect(svg).toContain('김영희 &lt;Kim&gt;');
    expect(svg).toContain('1938 – 2024');
    expect(svg).toContain('Noto Serif CJK KR');
  });

  it('starts on the canvas, shows the card, ends black; exact frames', async () => {
    const out = t.file('last.mp4');
    const plan = await lastClip({
      from: t.file('b.png'),
      output: out,
      seconds: 3,
      fps: FPS,
      width: W,
      height: H,
      epilogue: { name: '김영희', born: '1938', died: '2024' },
    });
    expect(plan.frames).toBe(90);
    const r = await validateClip(out, { frames: 90, fps: FPS, width: W, height: H, first: t.file('b.png') });
    expect(r.firstSsim).toBeGreaterThan(0.95);
    const last = await extractLuma(out, 'last', size);
    expect(mean(last)).toBeLessThan(17.5); // limited-range black is 16
    expect(last.reduce((m, v) => Math.max(m, v), 0)).toBeLessThan(24);
    const mid = await extractLuma(out, Math.round(plan.fadeStart - 2), size);
    expect(mean(mid)).toBeGreaterThan(20);
  }, 60_000);
});

describe('join, poster, validate', () => {
  it('joins clips by stream copy with the loudness-normalised music under them, in one pass', async () => {
    const last = t.file('last2.mp4');
    await lastClip({ from: t.file('b.png'), output: last, seconds: 2, fps: FPS, width: W, height: H });
    const soundtrack = t.file('soundtrack.m4a');
    const seen: number[] = [];
    await makeSoundtrack({ music: MUSIC, seconds: 5, output: soundtrack, onProgress: (f) => seen.push(f) });
    expect(seen.at(-1)).toBe(1);
    const final = t.file('final.mp4');
    await joinVideo({ clips: [t.file('ab.mp4'), last], soundtrack, seconds: 5, output: final });
    const v = await validateVideo(final, { expectFrames: 150, fps: FPS, width: W, height: H, requireAudio: true });
    expect(v.hasAudio).toBe(true);
    // the join is seamless: frame 89 (end of clip 1) ≈ frame 90 (start of clip 2) ≈ canvas b
    expect(await frameSimilarity(final, 89, t.file('b.png'), size)).toBeGreaterThan(0.95);
    expect(await frameSimilarity(final, 90, t.file('b.png'), size)).toBeGreaterThan(0.95);
    const p = await ffprobe(final);
    const a = p.streams.find((s) => s.codec_type === 'audio')!;
    expect([a.codec_name, a.profile, a.sample_rate, a.channels]).toEqual(['aac', 'LC', '48000', 2]);
    expect(Number(a.duration)).toBeCloseTo(5, 1);

    const silence = t.file('silence.m4a');
    await makeSoundtrack({ seconds: 5, output: silence });
    const silent = t.file('silent.mp4');
    await joinVideo({ clips: [t.file('ab.mp4'), last], soundtrack: silence, seconds: 5, output: silent });
    expect((await validateVideo(silent, { expectFrames: 150, fps: FPS, width: W, height: H })).hasAudio).toBe(true);

    await expect(validateVideo(final, { expectFrames: 180, fps: FPS, width: W, height: H })).rejects.toBeInstanceOf(MediaValidationError);

    const poster = t.file('poster.jpg');
    await makePoster({ video: final, output: poster, atSeconds: 1 });
    const m = await sharp(poster).metadata();
    expect([m.format, m.width, m.height]).toEqual(['jpeg', W, H]);
  }, 90_000);
});
