// The S3 server goes away: uploads get 503 and store nothing, a job retries with backoff and then
// fails with `storage_unavailable` and the stage it was in (never stuck running); when the server is
// back, the same work succeeds.
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ok, type TestClient } from '../lib/api.js';
import { CORPUS, Stack, startedCount } from '../lib/stack.js';

const stack = new Stack();
let api: TestClient;
let db: pg.Client;
// The fixture both tests use: a project with two photos stored while the file store was up.
let project: { id: string };
const PHOTOS = ['photos/kodak/kodim03.png', 'photos/kodak/kodim05.png'].map((p) => ({ path: path.join(CORPUS, p) }));

beforeAll(async () => {
  // Two SDK attempts per call and three deliveries 200 ms apart keep the outage short for a test.
  const e = await stack.start({ services: ['gateway', 'canvas'], env: { S3_MAX_ATTEMPTS: '2', MT_MAX_DELIVER: '3', MT_RETRY_BASE_MS: '200' } });
  api = stack.client();
  db = new pg.Client({ connectionString: e.databaseUrl });
  await db.connect();
  project = await api.project({ title: 'outage', resolution: '720p' });
  expect((await api.uploadFiles(project.id, PHOTOS)).response.status).toBe(201);
}, 120_000);
afterAll(async () => {
  await db?.end();
  await stack.stop();
});

it('while the file store is down: uploads answer 503 and keep nothing, a job fails with storage_unavailable after its retries', async () => {
  await stack.stopS3();
  try {
    const up = await api.uploadFiles(project.id, [{ path: path.join(CORPUS, 'photos/kodak/kodim07.png') }]);
    expect(up.response.status).toBe(503);
    expect(up.error!.error.code).toBe('dependency_unavailable');
    expect(up.error!.error.message).toMatch(/file store/i);
    const rows = await db.query(`select count(*)::int as n from assets where project_id = $1`, [project.id]);
    expect(rows.rows[0].n).toBe(2);

    const run = await api.POST('/api/v1/jobs/canvas', { body: { project_id: project.id } });
    expect(run.response.status).toBe(202);
    const job = await api.waitJob(run.data!.id, 60_000);
    expect(job.status).toBe('failed');
    expect(job.error?.code).toBe('storage_unavailable');
    expect(job.error?.message).toMatch(/file store could not be reached/);
    expect(job.error?.stage).toMatch(/^canvas_/);
    expect(await startedCount(db, job.id)).toBe(3); // tried MT_MAX_DELIVER times, not given up at the first error
  } finally {
    await stack.startS3();
  }
}, 90_000);

it('when the file store is back, the same upload and job succeed', async () => {
  expect((await api.uploadFiles(project.id, [{ path: path.join(CORPUS, 'photos/kodak/kodim07.png') }])).response.status).toBe(201);
  const job = await api.waitJob(ok(await api.POST('/api/v1/jobs/canvas', { body: { project_id: project.id } })).id, 60_000);
  expect(job.status).toBe('succeeded');
}, 90_000);
