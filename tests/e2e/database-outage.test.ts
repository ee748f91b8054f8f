// Postgres goes away (a cluster of this test's own, stopped at once as a crash would): the gateway
// answers 503 `dependency_unavailable` meanwhile, never 500; a job that was running keeps working and
// its progress lands once Postgres is back (the projector resumes from its durable consumer); new
// requests succeed again without restarting anything.
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Api } from '../lib/api.js';
import { OwnPostgres } from '../lib/servers.js';
import { Stack } from '../lib/stack.js';

const stack = new Stack();
let api: Api;
let dir: string;
let postgres: OwnPostgres;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'mt-pg-outage-'));
  await chmod(dir, 0o755); // the postgres user must reach its cluster folder inside
  postgres = new OwnPostgres(path.join(dir, 'cluster'));
  await postgres.init();
  const e = await stack.start({ pgUrl: postgres.url, services: ['gateway', 'canvas'] });
  api = new Api(e.url);
}, 120_000);
afterAll(async () => {
  await stack.stop();
  await postgres?.destroy();
  await rm(dir, { recursive: true, force: true });
});

it('answers 503 while Postgres is down, then recovers; a running job finishes with all its stages', async () => {
  const project = await api.project({ title: 'before the outage' });
  const running = await api.req('POST', '/jobs/test', { steps: 12, step_ms: 400 });
  expect(running.status).toBe(202);
  await api.waitJob(running.body.id, 20_000, (j) => j.status === 'running');

  await postgres.stop('immediate');
  try {
    for (const [method, p, body] of [['GET', `/projects/${project.id}`], ['GET', '/projects'], ['POST', '/projects', { title: 'during' }], ['GET', `/jobs/${running.body.id}`]] as const) {
      const r = await api.req(method, p, body);
      expect([p, r.status, r.body.error?.code]).toEqual([p, 503, 'dependency_unavailable']);
    }
    const ready = await fetch(`${stack.e.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(Object.keys(((await ready.json()) as { error: { details: object } }).error.details)).toContain('postgres');
    await sleep(2_000); // the test job goes on stepping meanwhile; its events wait in JetStream
  } finally {
    await postgres.start();
  }

  // back without a restart: reads, writes, and the job that ran through the outage
  const until = Date.now() + 30_000;
  let r = await api.req('GET', `/projects/${project.id}`);
  while (r.status !== 200 && Date.now() < until) {
    await sleep(250);
    r = await api.req('GET', `/projects/${project.id}`);
  }
  expect(r.status).toBe(200);
  expect((await api.req('POST', '/projects', { title: 'after the outage' })).status).toBe(201);
  const job = await api.waitJob(running.body.id, 30_000);
  expect(job.status).toBe('succeeded');
  expect(job.runtime.stages.map((s) => s.stage)).toEqual(['test_start', 'test_run', 'test_done']);
  expect(job.runtime.progress_percent).toBe(100);
  const after = await api.waitJob((await api.req('POST', '/jobs/test', { steps: 2, step_ms: 50 })).body.id, 20_000);
  expect(after.status).toBe('succeeded');
}, 120_000);
