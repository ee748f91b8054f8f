// A command redelivered while the same process still works on it (its in-progress acks were lost,
// e.g. across a NATS restart). The transition service takes two clips at once, so without a guard
// its second slot would start the same job beside the first, and a cancel would reach only one of
// them. Here the ack wait (0.6 s) is shorter than the keep-alive interval (1 s), so JetStream
// redelivers the running transition about once a second, on purpose.
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Api } from '../lib/api.js';
import { CORPUS, pidsMatching, Stack, startedCount } from '../lib/stack.js';

const stack = new Stack();
let api: Api;
let db: pg.Client;
let project: { id: string };
let photos: string[];

/** ffmpeg processes working in this job's temp folder. */
const ffmpegOf = (jobId: string) => pidsMatching(`ffmpeg.*${jobId}`).length;

beforeAll(async () => {
  const e = await stack.start({ services: ['gateway', 'canvas', 'transition'], env: { MT_ACK_WAIT_MS: '600', MT_MAX_DELIVER: '100' } });
  api = new Api(e.url);
  db = new pg.Client({ connectionString: e.databaseUrl });
  await db.connect();
  project = await api.project({ title: 'redelivery', resolution: '720p', transition_seconds: 10, transition_style: 'classic' });
  const up = await api.upload(project.id, [{ path: path.join(CORPUS, 'photos/kodak/kodim03.png') }, { path: path.join(CORPUS, 'photos/kodak/kodim05.png') }]);
  photos = up.body.items.map((a: { id: string }) => a.id);
  const canvas = await api.waitJob((await api.req('POST', '/jobs/canvas', { project_id: project.id })).body.id, 60_000);
  expect(canvas.status).toBe('succeeded');
}, 120_000);
afterAll(async () => {
  await db?.end();
  await stack.stop();
});

it('a transition redelivered while it runs is made once', async () => {
  const t = await api.req('POST', '/jobs/transition', { project_id: project.id, from_asset_id: photos[0], to_asset_id: photos[1] });
  const job = await api.waitJob(t.body.id, 120_000);
  expect(job.status).toBe('succeeded');
  expect(await startedCount(db, job.id)).toBe(1);
});

it('a cancel stops it even after redeliveries: no second run left behind', async () => {
  const t = await api.req('POST', '/jobs/transition', { project_id: project.id, from_asset_id: photos[1], to_asset_id: photos[0] });
  const id: string = t.body.id;
  const until = Date.now() + 30_000;
  while (ffmpegOf(id) === 0 && Date.now() < until) await sleep(50);
  await sleep(2_500); // two or three redeliveries while ffmpeg runs
  expect((await api.req('POST', `/jobs/${id}/cancel`)).status).toBe(202);
  const job = await api.waitJob(id, 10_000);
  expect(job.status).toBe('canceled');
  await sleep(1_000);
  expect(ffmpegOf(id)).toBe(0);
  expect(await startedCount(db, id)).toBe(1);
});
