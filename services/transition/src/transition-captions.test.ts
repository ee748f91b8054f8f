// Captions through the clip jobs (issue 13), against a real S3 server (s3rver) and ffmpeg: a transition
// whose payload carries a Korean and an Arabic caption, and a closing clip with a caption and the
// epilogue card, are made and pass their own checks (first and last frames against the photos with
// their captions on); the stored clip shows each caption where its photo is.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { type AssetRef, type Command, objectKeys } from '@mt/contracts';
import { extractLuma, frameSimilarity, renderCaption } from '@mt/media';
import { canvasKey, config, createLogger, type JobContext, Storage, storeCanvas } from '@mt/platform';
import S3rver from 's3rver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { transitionCaptions } from './clip-captions.js';
import { runLastClipJob, runTransitionJob } from './transition-job.js';

const CORPUS = process.env.MT_CORPUS ?? '/work/shared/corpus';
const projectId = 'p-captions-test';
const KO = '할머니의 결혼식, 부산 1962년';
const AR = 'زفاف جدتي في القاهرة';
const size = { width: 1280, height: 720 };

let work: string;
let s3: S3rver;
let storage: Storage;
const asset = (id: string): AssetRef => ({ asset_id: id, key: objectKeys.upload(projectId, id), content_type: 'image/png' });
const house = asset('house');
const trumpet = asset('trumpet');

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'mt-transition-captions-'));
  s3 = new S3rver({ address: '127.0.0.1', port: 0, directory: path.join(work, 's3'), silent: true });
  const { port } = await s3.run();
  storage = new Storage('transition-captions-test', { ...config.s3, endpoint: `http://127.0.0.1:${port}` });
  await storage.ensureBucket();
  await storage.putFile(house.key, path.join(CORPUS, 'photos', 'kodak/kodim01.png'), 'image/png');
  await storage.putFile(trumpet.key, path.join(CORPUS, 'photos', 'people_pd/louis_armstrong_gottlieb.jpg'), 'image/jpeg');
  for (const photo of [house, trumpet]) await storeCanvas(storage, { projectId, photo, resolution: '720p' }, { dir: work });
}, 120_000);
afterAll(async () => {
  await s3?.close();
  await rm(work, { recursive: true, force: true });
});

async function context<K extends 'transition' | 'last_clip'>(type: K, jobId: string, payload: Command<K>['payload']) {
  const ctx = {
    cmd: { job_id: jobId, trace_id: '0'.repeat(32), type, attempt: 1, payload } as Command<K>,
    signal: new AbortController().signal,
    log: createLogger('transition-captions-test'),
    dir: await mkdtemp(path.join(work, 'job-')),
    storage,
    stage: async () => {},
    progress: () => {},
  } as unknown as JobContext<K>;
  return ctx;
}

/** Mean luma difference inside a caption's text block between frame n of a clip and an image. */
async function blockDiff(clip: string, n: number | 'first' | 'last', image: string, box: { x: number; y: number; width: number; height: number }) {
  const [f, i] = await Promise.all([extractLuma(clip, n, size), extractLuma(image, 'image', size)]);
  let s = 0;
  for (let y = box.y; y < box.y + box.height; y++)
    for (let x = box.x; x < box.x + box.width; x++) s += Math.abs(f[y * size.width + x]! - i[y * size.width + x]!);
  return s / (box.width * box.height);
}

describe('captioned clips', () => {
  it('a transition shows A’s caption at its start and B’s at its end, and passes its checks', async () => {
    const payload = {
      project_id: projectId,
      from: house,
      to: trumpet,
      seconds: 6,
      style: 'classic',
      seed: 5,
      resolution: '720p',
      fps: 30,
      captions: { from: KO, to: AR, opening: false },
    } as const;
    const t0 = performance.now();
    const result = await runTransitionJob(await context('transition', 'job-cap-t', payload));
    console.log(`captioned transition job (6 s, 720p): ${(performance.now() - t0).toFixed(0)} ms`);
    expect(result).toMatchObject({ provider: 'classic', frames: 180 });
    const clip = path.join(work, 'clip.mp4');
    await storage.getFile(objectKeys.clip(projectId, 'job-cap-t'), clip);

    // the pictures the job checked against: the canvases with their captions on
    const dir = await mkdtemp(path.join(work, 'check-'));
    const canvasOf = async (a: AssetRef) => {
      const f = path.join(dir, `${a.asset_id}.png`);
      await storage.getFile(canvasKey({ projectId, photo: a, resolution: '720p' }), f);
      return f;
    };
    const [ca, cb] = [await canvasOf(house), await canvasOf(trumpet)];
    const drawn = await transitionCaptions(payload.captions, { from: ca, to: cb }, { dir, ...size, signal: new AbortController().signal });
    expect(drawn.ms).toBeGreaterThan(0);
    expect(await frameSimilarity(clip, 'first', drawn.first, size)).toBeGreaterThan(0.9);
    expect(await frameSimilarity(clip, 'last', drawn.last, size)).toBeGreaterThan(0.9);
    const ko = await renderCaption({ text: KO, ...size, output: path.join(dir, 'ko.png') });
    const ar = await renderCaption({ text: AR, ...size, output: path.join(dir, 'ar.png') });
    // Korean on the house at the start, not on the trumpeter at the end; Arabic the other way round.
    expect(await blockDiff(clip, 'first', drawn.first, ko.box)).toBeLessThan(8);
    expect(await blockDiff(clip, 'first', ca, ko.box)).toBeGreaterThan(20);
    expect(await blockDiff(clip, 'last', drawn.last, ar.box)).toBeLessThan(8);
    expect(await blockDiff(clip, 'last', cb, ar.box)).toBeGreaterThan(20);
  }, 240_000);

  it('a closing clip shows the last photo’s caption, then the card', async () => {
    const payload = {
      project_id: projectId,
      asset: trumpet,
      seconds: 6,
      style: 'classic',
      resolution: '720p',
      fps: 30,
      epilogue: { name: 'Grace Kim', born: '1941', died: '2026', title: null },
      caption: AR,
    } as const;
    const result = await runLastClipJob(await context('last_clip', 'job-cap-l', payload));
    expect(result).toMatchObject({ provider: 'classic', frames: 180 });
  }, 240_000);
});
