// Postgres goes away (a cluster of this test's own, stopped at once as a crash would): the gateway
// answers 503 `dependency_unavailable` meanwhile, never 500; a job that was running keeps working and
// its progress lands once Postgres is back (the projector resumes from its durable consumer); new
// requests succeed again without restarting anything.
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { busNames } from '@mt/contracts';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ok, type TestClient } from '../lib/api.js';
import { OwnPostgres } from '../lib/servers.js';
import { Stack } from '../lib/stack.js';
import { waitFor } from '../lib/wait.js';

const stack = new Stack();
let api: TestClient;
let dir: string;
let postgres: OwnPostgres;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'mt-pg-outage-'));
  await chmod(dir, 0o755); // the postgres user must reach its cluster folder inside
  postgres = new OwnPostgres(path.join(dir, 'cluster'));
  await postgres.init();
  await stack.start({ pgUrl: postgres.url, services: ['gateway', 'canvas'] });
  api = stack.client();
}, 120_000);
afterAll(async () => {
  await stack.stop();
  await postgres?.destroy();
  await rm(dir, { recursive: true, force: true });
});

it('answers 503 while Postgres is down, then recovers; a running job finishes with all its stages', async () => {
  const project = await api.project({ title: 'before the outage' });
  const running = await api.POST('/api/v1/jobs/test', { body: { steps: 12, step_ms: 400 } });
  expect(running.response.status).toBe(202);
  const job_id = running.data!.id;
  await api.waitJob(job_id, 20_000, (j) => j.status === 'running');
  const nc = await connect({ servers: stack.e.natsUrl });
  const jsm = await jetstreamManager(nc);
  const eventsKept = async () => (await jsm.streams.info(busNames(stack.e.namespace).eventStream)).state.messages;

  await postgres.stop('immediate');
  try {
    const project_id = project.id;
    const during = {
      [`/projects/${project_id}`]: await api.GET('/api/v1/projects/{project_id}', { params: { path: { project_id } } }),
      '/projects': await api.GET('/api/v1/projects'),
      'POST /projects': await api.POST('/api/v1/projects', { body: { title: 'during' } }),
      [`/jobs/${job_id}`]: await api.GET('/api/v1/jobs/{job_id}', { params: { path: { job_id } } }),
    };
    for (const [p, r] of Object.entries(during)) expect([p, r.response.status, r.error?.error.code]).toEqual([p, 503, 'dependency_unavailable']);
    const ready = await fetch(`${stack.e.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(Object.keys(((await ready.json()) as { error: { details: object } }).error.details)).toContain('postgres');
    // the test job goes on stepping meanwhile; its events wait in JetStream
    const before = await eventsKept();
    await waitFor(async () => (await eventsKept()) >= before + 3, { timeoutMs: 10_000, what: 'the running job to publish events while Postgres is down' });
  } finally {
    await nc.close();
    await postgres.start();
  }

  // back without a restart: reads, writes, and the job that ran through the outage
  const readProject = () => api.GET('/api/v1/projects/{project_id}', { params: { path: { project_id: project.id } } });
  await expect.poll(async () => (await readProject()).response.status, { timeout: 30_000, interval: 250 }).toBe(200);
  expect((await api.POST('/api/v1/projects', { body: { title: 'after the outage' } })).response.status).toBe(201);
  const job = await api.waitJob(job_id, 30_000);
  expect(job.status).toBe('succeeded');
  expect(job.runtime.stages.map((s) => s.stage)).toEqual(['test_start', 'test_run', 'test_done']);
  expect(job.runtime.progress_percent).toBe(100);
  const after = await api.waitJob(ok(await api.POST('/api/v1/jobs/test', { body: { steps: 2, step_ms: 50 } })).id, 20_000);
  expect(after.status).toBe('succeeded');
}, 120_000);
