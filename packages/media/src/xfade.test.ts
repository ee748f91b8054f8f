import { readFile, writeFile } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCanvas } from './canvas.js';
import { CLASSIC_TRANSITIONS, type ClassicTransitionName, classicFrames, planClassic, windowedXfade } from './classic.js';
import { type Feed, runFfmpeg } from './ffmpeg.js';
import { photo, tempDir } from './testkit.js';
import { CanvasWarper, decodeCanvases, moveFrames, rawFramesInput, type Size, yuvFrameBytes, yuvPlanes } from './warp.js';
import { planeWeights, xfadeProgress } from './xfade.js';

// Small pictures: the mix is per sample, so a 320×180 clip tells as much as a 720p one.
const OUT: Size = { width: 320, height: 180 };
const FPS = 30;
let t: Awaited<ReturnType<typeof tempDir>>;
let canvases: Uint8Array[];
let canvas: Size;

beforeAll(async () => {
  t = await tempDir();
  const a = await makeCanvas({ input: photo('kodak/kodim01.png'), output: t.file('a.png'), ...OUT });
  await makeCanvas({ input: photo('people_pd/louis_armstrong_gottlieb.jpg'), output: t.file('b.png'), ...OUT });
  canvas = { width: a.width, height: a.height };
  canvases = await decodeCanvases([t.file('a.png'), t.file('b.png')]);
});
afterAll(async () => {
  await t.cleanup();
});

/** What a feed writes, as one buffer (frames are copied: the feed reuses its slots). */
async function fed(feed: Feed): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(Buffer.from(chunk));
      done();
    },
  });
  await feed(sink);
  return Buffer.concat(chunks);
}

/** The old path's frames: A's and B's moving frames as two raw inputs, mixed by ffmpeg's xfade (windowedXfade). */
async function ffmpegXfade(plan: ReturnType<typeof planClassic>): Promise<Buffer> {
  const warper = await CanvasWarper.create(canvases, canvas, OUT);
  await writeFile(t.file('a.yuv'), await fed(moveFrames(warper, 0, plan.a, plan.aFrames, 'away')));
  await writeFile(t.file('b.yuv'), await fed(moveFrames(warper, 1, plan.b, plan.bFrames, 'back')));
  const raw = (file: string) => rawFramesInput(0, OUT, FPS).map((a) => (a === 'pipe:0' ? file : a));
  // biome-ignore format: ffmpeg arguments grouped by option
  await runFfmpeg([
    ...raw(t.file('a.yuv')), ...raw(t.file('b.yuv')),
    '-filter_complex', `[0:v]setsar=1[a];[1:v]setsar=1[b];${windowedXfade(plan, 'v')}`,
    '-map', '[v]', '-frames:v', String(plan.frames), '-f', 'rawvideo', '-pix_fmt', 'yuv420p', t.file('ref.yuv'),
  ]);
  return readFile(t.file('ref.yuv'));
}

const frameAt = (all: Buffer, n: number) => all.subarray(n * yuvFrameBytes(OUT), (n + 1) * yuvFrameBytes(OUT));
const meanOf = (b: Uint8Array) => b.reduce((s, v) => s + v, 0) / b.length;

describe('classicFrames (the transition mixed by the warp kernel)', () => {
  const plain = CLASSIC_TRANSITIONS.filter((x, i, all) => x !== 'dissolve' && all.indexOf(x) === i);
  it.each(plain)('%s: every sample of every frame within one step of ffmpeg xfade on the same moving frames', async (transition) => {
    const plan = planClassic({ seconds: 2, fps: FPS, seed: 3, headroom: canvas.width / OUT.width, transition, transitionSeconds: 1 });
    const [ours, theirs] = await Promise.all([fed(classicFrames(await CanvasWarper.create(canvases, canvas, OUT), plan)), ffmpegXfade(plan)]);
    expect(ours.length).toBe(plan.frames * yuvFrameBytes(OUT));
    expect(theirs.length).toBe(ours.length);
    for (let n = 0; n < plan.frames; n++) {
      const [a, b] = [frameAt(ours, n), frameAt(theirs, n)];
      let worst = 0;
      for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
      // the weight in 1/256 against xfade's float moves a sample by one at most
      expect(worst, `frame ${n}`).toBeLessThanOrEqual(1);
    }
  });

  it('dissolve: outside the window the same frames; inside, A gives way to B sample by sample at the same pace', async () => {
    const plan = planClassic({ seconds: 2, fps: FPS, seed: 3, headroom: canvas.width / OUT.width, transition: 'dissolve', transitionSeconds: 1 });
    const [ours, theirs] = await Promise.all([fed(classicFrames(await CanvasWarper.create(canvases, canvas, OUT), plan)), ffmpegXfade(plan)]);
    const luma = OUT.width * OUT.height;
    for (let n = 0; n < plan.frames; n++) {
      const [a, b] = [frameAt(ours, n), frameAt(theirs, n)];
      const inside = n >= plan.offsetFrames && n < plan.offsetFrames + plan.transitionFrames;
      if (!inside) expect(Buffer.compare(a, b), `frame ${n}`).toBe(0);
      // the noise is not ffmpeg's bit for bit (single-precision sine), its share of A is
      else expect(Math.abs(meanOf(a.subarray(0, luma)) - meanOf(b.subarray(0, luma))), `frame ${n}`).toBeLessThan(3);
    }
  });
});

describe('planeWeights', () => {
  const luma: Size = { width: 64, height: 36 };
  const weights = (transition: ClassicTransitionName, progress: number, plane = luma) => {
    const into = new Uint16Array(plane.width * plane.height);
    planeWeights(transition, plane, luma)(progress, into);
    return into;
  };
  it('is all A at progress 1 and all B at progress 0 for every transition, at luma and chroma size', () => {
    for (const transition of new Set(CLASSIC_TRANSITIONS)) {
      for (const plane of yuvPlanes(luma).slice(0, 2)) {
        expect(new Set(weights(transition, 1, plane)), `${transition} at 1`).toEqual(new Set([256]));
        // xfade's radial sweep is not done at 0: a wedge still shows some A, as in ffmpeg
        if (transition !== 'radial') expect(new Set(weights(transition, 0, plane)), `${transition} at 0`).toEqual(new Set([0]));
      }
    }
    expect(Math.max(...weights('radial', 0))).toBeLessThan(40);
  });
  it("follows xfade's masks: fade evenly, smoothleft from the left edge, circleopen from the centre", () => {
    expect(new Set(weights('fade', 0.25))).toEqual(new Set([64]));
    const left = weights('smoothleft', 0.5);
    expect(left[0]).toBe(256); // at half way the left edge still shows A…
    expect(left[luma.width - 1]).toBeLessThan(10); // …and the right edge already B
    const circle = weights('circleopen', 0.5);
    const at = (x: number, y: number) => circle[y * luma.width + x]!;
    expect(at(32, 18)).toBeLessThan(at(0, 0)); // B opens from the centre
    expect(xfadeProgress(0, 30)).toBe(1);
    expect(xfadeProgress(15, 30)).toBe(0.5);
  });
  it("dissolve's chroma weight is A's share of the 2×2 luma block", () => {
    const chroma = yuvPlanes(luma)[1]!;
    const y = weights('dissolve', 0.5);
    const c = weights('dissolve', 0.5, chroma);
    for (const [cx, cy] of [
      [0, 0],
      [5, 7],
      [31, 17],
    ] as const) {
      const share = [0, 1].flatMap((dy) => [0, 1].map((dx) => y[(2 * cy + dy) * luma.width + 2 * cx + dx]!)).reduce((s, v) => s + v, 0) / 4;
      expect(c[cy * chroma.width + cx]).toBe(share);
    }
  });
});
