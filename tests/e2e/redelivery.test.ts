// A command redelivered while the same process still works on it (its in-progress acks were lost,
// e.g. across a NATS restart). The transition service takes two clips at once, so without a guard
// its second slot would start the same job beside the first, and a cancel would reach only one of
// them. Here the ack wait (0.6 s) is shorter than the keep-alive interval (1 s), so JetStream
// redelivers the running transition about once a second, on purpose.
import path from 'node:path';
import { busNames } from '@mt/contracts';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ok, type TestClient } from '../lib/api.js';
import { CORPUS, pidsMatching, Stack, startedCount } from '../lib/stack.js';
import { waitFor } from '../lib/wait.js';

const stack = new Stack();
let api: TestClient;
let db: pg.Client;
// The fixture both tests use: a project of two photos whose canvases are made.
let project: { id: string };
let photos: string[];

/** Deliveries so far by the transition service's durable consumer (a redelivery counts again). */
async function transitionDeliveries(): Promise<number> {
  const nc = await connect({ servers: stack.e.natsUrl });
  try {
    const names = busNames(stack.e.namespace);
    const info = await (await jetstreamManager(nc)).consumers.info(names.commandStream, names.consumer('cmd_transition'));
    return info.delivered.consumer_seq;
  } finally {
    await nc.close();
  }
}

const transition = async (from_asset_id: string, to_asset_id: string) =>
  ok(await api.POST('/api/v1/jobs/transition', { body: { project_id: project.id, from_asset_id, to_asset_id } })).id;

/** ffmpeg processes working in this job's temp folder. */
const ffmpegOf = (jobId: string) => pidsMatching(`ffmpeg.*${jobId}`).length;

beforeAll(async () => {
  const e = await stack.start({ services: ['gateway', 'canvas', 'transition'], env: { MT_ACK_WAIT_MS: '600', MT_MAX_DELIVER: '100' } });
  api = stack.client();
  db = new pg.Client({ connectionString: e.databaseUrl });
  await db.connect();
  project = await api.project({ title: 'redelivery', resolution: '720p', transition_seconds: 10, transition_style: 'classic' });
  const up = ok(
    await api.uploadFiles(project.id, [{ path: path.join(CORPUS, 'photos/kodak/kodim03.png') }, { path: path.join(CORPUS, 'photos/kodak/kodim05.png') }]),
  );
  photos = up.items.map((a) => a.id);
  const canvas = await api.waitJob(ok(await api.POST('/api/v1/jobs/canvas', { body: { project_id: project.id } })).id, 60_000);
  expect(canvas.status).toBe('succeeded');
}, 120_000);
afterAll(async () => {
  await db?.end();
  await stack.stop();
});

it('a transition redelivered while it runs is made once', async () => {
  const job = await api.waitJob(await transition(photos[0]!, photos[1]!), 120_000);
  expect(job.status).toBe('succeeded');
  expect(await startedCount(db, job.id)).toBe(1);
});

it('a cancel stops it even after redeliveries: no second run left behind', async () => {
  const id = await transition(photos[1]!, photos[0]!);
  await waitFor(() => ffmpegOf(id) > 0, { timeoutMs: 30_000, intervalMs: 50, what: `ffmpeg of transition ${id} to start` });
  const delivered = await transitionDeliveries();
  await waitFor(async () => (await transitionDeliveries()) >= delivered + 2, { timeoutMs: 10_000, what: 'two redeliveries while ffmpeg runs' });
  expect((await api.POST('/api/v1/jobs/{job_id}/cancel', { params: { path: { job_id: id } } })).response.status).toBe(202);
  const job = await api.waitJob(id, 10_000);
  expect(job.status).toBe('canceled');
  await expect.poll(() => ffmpegOf(id), { timeout: 2_000, interval: 100 }).toBe(0);
  expect(await startedCount(db, id)).toBe(1);
});
