// The camera looks at the people, end to end through the clip jobs against a real S3 server (s3rver)
// and ffmpeg: the canvas job's faces (stored beside each canvas) guide the transition's and the last
// clip's moves, the results say so, the faces are still wholly in the picture at the far end of the
// move in the encoded clip, and a photo whose faces are unknown moves as before, with a note.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { type AssetRef, type Command, objectKeys } from '@mt/contracts';
import { detectFaces, planClassic, runFfmpeg } from '@mt/media';
import { canvasFacesKey, config, createLogger, type JobContext, Storage, storeCanvas } from '@mt/platform';
import S3rver from 's3rver';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLastClipJob, runTransitionJob } from './transition-job.js';

/** A handler's result (these handlers never defer). */
const made = <T>(r: T): Exclude<T, symbol> => {
  if (typeof r === 'symbol') throw new Error('the handler deferred');
  return r as Exclude<T, symbol>;
};

const CORPUS = process.env.MT_CORPUS ?? '/work/shared/corpus';
const projectId = 'p-faces-test';
const GROUP = 'person_mary_lou_williams/mlw_08_1947_with_josh_white.jpg'; // three musicians
const LANDSCAPE = 'landscape_pd/endeavour_columbia_ferry_flyby_nasa.png';

let work: string;
let s3: S3rver;
let storage: Storage;
const asset = (id: string): AssetRef => ({ asset_id: id, key: objectKeys.upload(projectId, id), content_type: 'image/jpeg' });
const group = asset('group');
const landscape = asset('landscape');

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'mt-transition-faces-'));
  s3 = new S3rver({ address: '127.0.0.1', port: 0, directory: path.join(work, 's3'), silent: true });
  const { port } = await s3.run();
  storage = new Storage('transition-faces-test', { ...config.s3, endpoint: `http://127.0.0.1:${port}` });
  await storage.ensureBucket();
  await storage.putFile(group.key, path.join(CORPUS, 'photos', GROUP), 'image/jpeg');
  await storage.putFile(landscape.key, path.join(CORPUS, 'photos', LANDSCAPE), 'image/png');
  // As the canvas job does: canvases with their faces beside them.
  for (const photo of [group, landscape]) await storeCanvas(storage, { projectId, photo, resolution: '720p' }, { dir: work });
});
afterAll(async () => {
  await s3?.close();
  await rm(work, { recursive: true, force: true });
});

async function context<K extends 'transition' | 'last_clip'>(type: K, jobId: string, payload: Command<K>['payload']) {
  const stages: { stage: string; detail?: string | undefined }[] = [];
  const ctx = {
    cmd: { job_id: jobId, trace_id: '0'.repeat(32), type, attempt: 1, payload } as Command<K>,
    signal: new AbortController().signal,
    log: createLogger('transition-faces-test'),
    dir: await mkdtemp(path.join(work, 'job-')),
    storage,
    stage: async (stage: string, _percent: number, detail?: string) => void stages.push({ stage, detail }),
    progress: () => {},
  } as unknown as JobContext<K>;
  return { ctx, stages };
}

/** One frame of a stored clip as a PNG. */
async function frameOf(clipKey: string, n: number, dir: string): Promise<string> {
  const clip = path.join(dir, 'clip-copy.mp4');
  await storage.getFile(clipKey, clip);
  const out = path.join(dir, `frame-${n}.png`);
  await runFfmpeg(['-i', clip, '-vf', `select=eq(n\\,${n})`, '-frames:v', '1', out]);
  return out;
}

describe('face-guided clips', () => {
  it('a transition from a group photo heads for the faces, keeps all three in the picture, and says so', async () => {
    const payload = { project_id: projectId, from: group, to: landscape, seconds: 6, style: 'classic', seed: 11, resolution: '720p', fps: 30 } as const;
    const { ctx, stages } = await context('transition', 'job-t1', payload);
    const result = made(await runTransitionJob(ctx));
    expect(result.face_guided).toEqual({ from: true, to: false });
    expect(result.faces_note).toBeUndefined();
    expect(stages.find((s) => s.stage === 'transition_done')?.detail).toMatch(/heading for the faces in the first photo/);
    // The last frame before the crossfade begins: the three faces are found again in the encoded
    // frame (BlazeFace squashes a 16:9 frame to a square, so it looks at the middle of the frame,
    // where the upright photo is), none touching the edges.
    const plan = planClassic({ seconds: 6, fps: 30, seed: payload.seed, headroom: 1.25 });
    const frame = await frameOf(result.clip_key, plan.offsetFrames - 1, ctx.dir);
    const middle = path.join(ctx.dir, 'middle.png');
    await sharp(frame).extract({ left: 240, top: 0, width: 800, height: 720 }).toFile(middle);
    const seen = await detectFaces(middle);
    expect(seen.faces.length).toBe(3);
    for (const f of seen.faces) {
      expect(f.x).toBeGreaterThan(2);
      expect(f.y).toBeGreaterThan(2);
      expect(f.x + f.w).toBeLessThan(seen.width - 2);
      expect(f.y + f.h).toBeLessThan(seen.height - 2);
    }
  });

  it('when a photo has no faces stored, its move is the seeded one and the result says why', async () => {
    await storage.delete(canvasFacesKey({ projectId, photo: group, resolution: '720p' }));
    const payload = { project_id: projectId, from: group, to: landscape, seconds: 6, style: 'classic', seed: 11, resolution: '720p', fps: 30 } as const;
    const { ctx } = await context('transition', 'job-t2', payload);
    const result = made(await runTransitionJob(ctx));
    expect(result.face_guided).toEqual({ from: false, to: false });
    expect(result.faces_note).toBe('faces of the first photo unknown: moved as without faces');
    // A redelivered command reports the same from the clip's record.
    const again = await context('transition', 'job-t2', payload);
    expect(await runTransitionJob(again.ctx)).toMatchObject({ face_guided: { from: false, to: false }, faces_note: result.faces_note });
    // The canvas job's next run detects them again.
    expect(await storeCanvas(storage, { projectId, photo: group, resolution: '720p' }, { dir: ctx.dir })).toMatchObject({ made: false, faces: 3 });
  });

  it('the last clip moves toward the faces of the last photo', async () => {
    const payload = { project_id: projectId, asset: group, seconds: 6, style: 'classic', epilogue: null, resolution: '720p', fps: 30 } as const;
    const { ctx, stages } = await context('last_clip', 'job-l1', payload);
    const result = made(await runLastClipJob(ctx));
    expect(result.face_guided).toEqual({ from: true });
    expect(stages.at(-1)?.detail).toBe('Closing scene ready, the camera heading for the faces');
  });
});
