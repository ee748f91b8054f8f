// The canvas job and the clip jobs' ensureCanvas make canvases by one function, against a real S3
// server (s3rver): the job stores each photo's canvas at its versioned key, a second run makes none,
// and a clip job finds exactly the canvas the job stored.
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { type AssetRef, type Command, objectKeys } from '@mt/contracts';
import { CANVAS_VERSION, canvasSize, FACES_VERSION, ffprobe, fitPhoto, keepsFaces } from '@mt/media';
import {
  canvasFacesKey,
  canvasKey,
  config,
  createLogger,
  ensureCanvas,
  ensureSoundtrack,
  type JobContext,
  JobFailure,
  loadCanvasFaces,
  Storage,
  soundtrackKey,
  storeCanvas,
} from '@mt/platform';
import S3rver from 's3rver';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { facesSummary, runCanvasJob } from './canvas-job.js';

/** A handler's result (these handlers never defer). */
const made = <T>(r: T): Exclude<T, symbol> => {
  if (typeof r === 'symbol') throw new Error('the handler deferred');
  return r as Exclude<T, symbol>;
};

// Face detection as it is, except for an upload named "model-broken": there it fails the way a model
// that cannot start does (detection failure must never fail the canvas job). Calls are counted.
const detections = vi.hoisted(() => ({ calls: 0 }));
vi.mock('@mt/media', async (importOriginal) => {
  const real = await importOriginal<typeof import('@mt/media')>();
  return {
    ...real,
    detectFaces: async (file: string, opts?: { signal?: AbortSignal }) => {
      detections.calls++;
      if (file.includes('model-broken')) throw new Error('face model: the wasm backend did not start');
      return real.detectFaces(file, opts);
    },
  };
});

const CORPUS = process.env.MT_CORPUS ?? '/work/shared/corpus';
const PHOTOS = ['kodak/kodim04.png', 'landscape_pd/endeavour_columbia_ferry_flyby_nasa.png', 'person_mary_lou_williams/mlw_08_1947_with_josh_white.jpg'];
const projectId = 'p-canvas-test';

let work: string;
let s3: S3rver;
let storage: Storage;
const photos: AssetRef[] = PHOTOS.map((_, i) => ({ asset_id: `a${i + 1}`, key: objectKeys.upload(projectId, `a${i + 1}`), content_type: 'image/png' }));

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'mt-canvas-job-test-'));
  s3 = new S3rver({ address: '127.0.0.1', port: 0, directory: path.join(work, 's3'), silent: true });
  const { port } = await s3.run();
  storage = new Storage('canvas-job-test', { ...config.s3, endpoint: `http://127.0.0.1:${port}` });
  await storage.ensureBucket();
  for (const [i, p] of PHOTOS.entries()) await storage.putFile(photos[i]!.key, path.join(CORPUS, 'photos', p), 'image/png');
});
afterAll(async () => {
  await s3?.close();
  await rm(work, { recursive: true, force: true });
});

/**
 * A canvas job's context with a job folder of its own; records the stages it enters and, for each
 * report of ready canvases, which of those were stored with their faces at that moment.
 */
async function canvasContext(jobPhotos: AssetRef[]) {
  const stages: { stage: string; detail?: string | undefined }[] = [];
  const readyReports: Array<{ ready: string[]; stored: string[] }> = [];
  const ctx: JobContext<'canvas'> = {
    cmd: {
      job_id: 'job-1',
      trace_id: '0'.repeat(32),
      type: 'canvas',
      attempt: 1,
      payload: { project_id: projectId, photos: jobPhotos, resolution: '720p', fps: 30 },
    } satisfies Command<'canvas'>,
    signal: new AbortController().signal,
    log: createLogger('canvas-job-test'),
    dir: await mkdtemp(path.join(work, 'job-')),
    storage,
    stage: async (stage, _percent, detail) => void stages.push({ stage, detail }),
    progress: () => {},
    canvasesReady: async (assetIds) => {
      const ready = [...assetIds];
      const req = (asset_id: string) => ({ projectId, photo: jobPhotos.find((p) => p.asset_id === asset_id)!, resolution: ctx.cmd.payload.resolution });
      const stored = [];
      // faces are a small JSON beside the canvas (no upload marker): present is enough
      for (const id of ready) if ((await storage.exists(canvasKey(req(id)))) && (await storage.head(canvasFacesKey(req(id)))) !== null) stored.push(id);
      readyReports.push({ ready, stored });
    },
  };
  return { ctx, stages, readyReports };
}

describe('canvases made by one function', () => {
  it('the canvas job stores every canvas at a key naming the canvas method, then keeps them', async () => {
    const first = await canvasContext(photos);
    const result = await runCanvasJob(first.ctx);
    const faces = [1, 0, 3]; // a portrait, a shuttle on a jumbo jet, three musicians
    expect(result).toEqual({
      canvases: photos.map((p, i) => ({
        asset_id: p.asset_id,
        key: `projects/${projectId}/canvases/${p.asset_id}-720p-v${CANVAS_VERSION}.png`,
        faces: faces[i],
      })),
    });
    expect(first.stages.map((s) => s.stage)).toEqual(['canvas_start', 'canvas_generate', 'canvas_validate', 'canvas_done']);
    expect(first.stages.at(-1)!.detail).toBe('3 canvases ready (3 new); faces found on 2 of 3 photos (4 faces)');
    // Each canvas is reported ready as soon as it is stored with its faces (the pipeline starts its clips then), the list growing to all.
    expect(first.readyReports.map((r) => r.ready.length)).toEqual([1, 2, 3]);
    for (const r of first.readyReports) expect(r.stored).toEqual(r.ready);
    expect([...first.readyReports.at(-1)!.ready].sort()).toEqual(photos.map((p) => p.asset_id));
    for (const p of photos) {
      const key = objectKeys.canvas(projectId, p.asset_id, '720p', CANVAS_VERSION);
      const local = path.join(first.ctx.dir, 'stored.png');
      await storage.getFile(key, local);
      expect(await sharp(local).metadata()).toMatchObject({ format: 'png', width: 1600, height: 900 });
    }

    const calls = detections.calls;
    const second = await canvasContext(photos);
    expect(await runCanvasJob(second.ctx)).toEqual(result);
    expect(detections.calls).toBe(calls); // the faces were read from beside the canvases, not detected again
    expect(second.stages.at(-1)!.detail).toBe('3 canvases ready (0 new); faces found on 2 of 3 photos (4 faces)');
  });

  it('canvases at another size (a draft) take the faces found for the first size instead of detecting them again', async () => {
    const calls = detections.calls;
    const draft = await canvasContext(photos);
    draft.ctx.cmd.payload.resolution = '480p';
    const result = made(await runCanvasJob(draft.ctx));
    expect(detections.calls).toBe(calls);
    expect(result.canvases.map((c) => c.faces)).toEqual([1, 0, 3]);
    expect(draft.stages.at(-1)!.detail).toBe('3 canvases ready (3 new); faces found on 2 of 3 photos (4 faces)');
  });

  it('keeps the faces beside each canvas, placed where makeCanvas put the photo', async () => {
    const { ctx } = await canvasContext(photos);
    const request = { projectId, photo: photos[2]!, resolution: '720p' as const };
    await storeCanvas(storage, request, { dir: ctx.dir });
    expect(canvasFacesKey(request)).toBe(`projects/${projectId}/canvases/a3-720p-v${CANVAS_VERSION}-faces-v${FACES_VERSION}.json`);
    const stored = (await loadCanvasFaces(storage, request))!;
    expect(stored.canvas).toEqual(canvasSize(1280, 720));
    expect(stored.photo).toEqual({ width: 1024, height: 1074 });
    expect(stored.faces).toHaveLength(3);
    const rect = fitPhoto(stored.photo, stored.canvas);
    const s = rect.height / stored.photo.height;
    for (const [i, f] of stored.faces.entries()) {
      const g = stored.photo_faces[i]!;
      expect(f.x).toBeCloseTo(rect.left + g.x * s, 0);
      expect(f.y).toBeCloseTo(rect.top + g.y * s, 0);
      expect(f.w).toBeCloseTo(g.w * s, 0);
      // Inside the photo's place on the canvas, so inside the whole canvas (the neutral frame).
      expect(keepsFaces({ zoom: 0, panX: 0, panY: 0 }, 0, [f], stored.canvas.width, stored.canvas.height, false)).toBe(true);
      expect(f.x).toBeGreaterThanOrEqual(rect.left);
      expect(f.x + f.w).toBeLessThanOrEqual(rect.left + rect.width);
    }
  });

  it('a canvas made before faces were kept gets its faces detected on the next run', async () => {
    const { ctx } = await canvasContext(photos);
    const request = { projectId, photo: photos[0]!, resolution: '720p' as const };
    await storeCanvas(storage, request, { dir: ctx.dir });
    await storage.delete(canvasFacesKey(request));
    expect(await loadCanvasFaces(storage, request)).toBeUndefined();
    expect(await storeCanvas(storage, request, { dir: ctx.dir })).toEqual({ key: expect.any(String), made: false, faces: 1 });
    expect((await loadCanvasFaces(storage, request))!.faces).toHaveLength(1);
  });

  it('a face detection that fails never fails the job: the photo is reported without faces and why', async () => {
    const broken = { asset_id: 'model-broken', key: objectKeys.upload(projectId, 'model-broken'), content_type: 'image/png' };
    await storage.putFile(broken.key, path.join(CORPUS, 'photos', PHOTOS[0]!), 'image/png');
    const { ctx, stages } = await canvasContext([photos[1]!, broken]);
    const result = made(await runCanvasJob(ctx));
    expect(result.canvases[1]).toMatchObject({ asset_id: 'model-broken', faces: null, faces_error: expect.stringMatching(/wasm backend did not start/) });
    expect(stages.at(-1)!.detail).toBe('2 canvases ready (1 new); faces found on 0 of 2 photos (0 faces); detection failed on 1 (moved as before)');
    expect(await storage.exists(objectKeys.canvas(projectId, 'model-broken', '720p', CANVAS_VERSION))).toBe(true);
    expect(await loadCanvasFaces(storage, { projectId, photo: broken, resolution: '720p' })).toBeUndefined();
  });

  it('facesSummary says how many photos have faces and where detection failed', () => {
    expect(facesSummary([0, 0])).toBe('faces found on 0 of 2 photos (0 faces)');
    expect(facesSummary([1])).toBe('faces found on 1 of 1 photos (1 face)');
    expect(facesSummary([2, null, 3, undefined])).toBe('faces found on 2 of 4 photos (5 faces); detection failed on 2 (moved as before)');
  });

  it('a clip job gets the very canvas the canvas job stored, and makes a missing one the same way', async () => {
    const { ctx } = await canvasContext(photos);
    const request = { projectId, photo: photos[0]!, resolution: '720p' as const };
    await storeCanvas(storage, request, { dir: ctx.dir }); // as the canvas job does
    const got = await ensureCanvas(storage, request, { dir: ctx.dir });
    expect(got.made).toBe(false);
    const stored = path.join(ctx.dir, 'stored.png');
    await storage.getFile(got.key, stored);
    expect((await readFile(got.file)).equals(await readFile(stored))).toBe(true);

    // At 1080p nothing is stored yet: the clip job's call makes it, the canvas job's finds it.
    const at1080 = { ...request, resolution: '1080p' as const };
    const made = await ensureCanvas(storage, at1080, { dir: ctx.dir });
    expect(made).toMatchObject({ made: true, key: objectKeys.canvas(projectId, photos[0]!.asset_id, '1080p', CANVAS_VERSION) });
    expect(await sharp(made.file).metadata()).toMatchObject({ width: 2400, height: 1350 });
    expect(await storeCanvas(storage, at1080, { dir: ctx.dir })).toEqual({ key: made.key, made: false, faces: 1 });
  });

  it('a canvas of an older method is not reused', async () => {
    // What the code before versioned keys stored: a canvas at the unversioned key.
    const { ctx } = await canvasContext(photos);
    const stale = path.join(ctx.dir, 'stale.png');
    await sharp({ create: { width: 1600, height: 900, channels: 3, background: '#ff0000' } })
      .png()
      .toFile(stale);
    const photo = { asset_id: 'old1', key: photos[0]!.key, content_type: 'image/png' };
    await storage.putFile(`projects/${projectId}/canvases/old1-720p.png`, stale, 'image/png');
    const got = await ensureCanvas(storage, { projectId, photo, resolution: '720p' }, { dir: ctx.dir });
    expect(got.made).toBe(true);
    const red = (await sharp(got.file).stats()).channels;
    expect(red[0]!.mean - red[1]!.mean).toBeLessThan(100); // the photo, not the plain red stand-in
  });

  it('a photo whose upload is gone fails as input_missing, naming the photo', async () => {
    const gone = { asset_id: 'gone', key: objectKeys.upload(projectId, 'gone'), content_type: 'image/png' };
    const { ctx } = await canvasContext([photos[0]!, gone]);
    const err = await runCanvasJob(ctx).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JobFailure);
    expect(err).toMatchObject({ code: 'input_missing', transient: false });
    expect((err as JobFailure).message).toMatch(/^Photo 2: A file this step needs is missing from storage/);
  });
});

describe('the soundtrack made ahead', () => {
  it('a canvas job asked for the soundtrack stores it where the render looks, and a second one finds it', async () => {
    const { ctx } = await canvasContext([photos[0]!]);
    const request = { music: null, frames: 45 };
    ctx.cmd.payload.soundtrack = request;
    await runCanvasJob(ctx);
    const key = soundtrackKey({ projectId, ...request, fps: 30 });
    expect(await storage.exists(key)).toBe(true);
    const file = path.join(ctx.dir, 'again');
    await mkdir(file);
    const again = await ensureSoundtrack(storage, { projectId, ...request, fps: 30 }, { dir: file });
    expect(again.reused).toBe(true);
    // 45 frames at 30 fps of (silent) AAC audio
    const audio = (await ffprobe(again.file)).streams.find((st) => st.codec_type === 'audio')!;
    expect(audio.codec_name).toBe('aac');
    expect(Number(audio.duration)).toBeCloseTo(1.5, 1);
  });
});
