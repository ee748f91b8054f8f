// The foundation end to end: REST contract, a `test` job across gateway → JetStream → worker →
// events → projector → Postgres → REST, trace ids, cancel, projector idempotency, readiness.
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { busNames } from '@mt/contracts';
import { jetstream } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Job, ok, type TestClient, testClient } from '../lib/api.js';
import { freePort, Stack } from '../lib/stack.js';
import { waitFor } from '../lib/wait.js';

const stack = new Stack();
let api: TestClient;
let db: pg.Client;

beforeAll(async () => {
  const e = await stack.start({ services: ['gateway', 'canvas'] });
  api = stack.client();
  db = new pg.Client({ connectionString: e.databaseUrl });
  await db.connect();
});
afterAll(async () => {
  await db?.end();
  await stack.stop();
});

describe('projects API', () => {
  it('creates a project with defaults and reads it back', async () => {
    const r = await api.POST('/api/v1/projects', { body: { title: '할머니를 기억하며', subject_name: '김영희', born: '1941-03-02', died: '2026' } });
    expect(r.response.status).toBe(201);
    expect(r.data).toMatchObject({
      title: '할머니를 기억하며',
      subject_name: '김영희',
      born: '1941-03-02',
      died: '2026',
      status: 'draft',
      settings: { transition_seconds: 6, transition_style: 'auto', resolution: '1080p', fps: 30 },
      photo_count: 0,
      active_job_id: null,
      video: null,
    });
    const got = await api.GET('/api/v1/projects/{project_id}', { params: { path: { project_id: r.data!.id } } });
    expect(got.response.status).toBe(200);
    expect(got.data).toEqual(r.data);
  });

  it('lists projects newest first with a working cursor', async () => {
    for (const t of ['a', 'b', 'c']) await api.project({ title: `list ${t}` });
    const first = await api.GET('/api/v1/projects', { params: { query: { limit: 2 } } });
    expect(first.response.status).toBe(200);
    expect(first.data!.items).toHaveLength(2);
    expect(first.data!.next_cursor).toEqual(expect.any(String));
    const second = await api.GET('/api/v1/projects', { params: { query: { limit: 2, cursor: first.data!.next_cursor! } } });
    const ids = [...first.data!.items, ...second.data!.items].map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('answers 400 invalid_json for a broken body', async () => {
    const r = await api.raw('POST', '/projects', '{"title": ');
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('invalid_json');
  });

  it.each([
    [{}, 'title'],
    [{ title: 'x', transition_seconds: 7 }, 'transition_seconds'],
    [{ title: 'x', resolution: '4k' }, 'resolution'],
    [{ title: 'x', transition_style: 'fancy' }, 'transition_style'],
    [{ title: 'x', fps: 60 }, 'fps'],
    [{ title: 'x', born: '1941-13-45' }, 'born'],
    [{ title: 'x'.repeat(201) }, 'title'],
  ])('answers 422 naming the field for %j', async (body, field) => {
    const r = await api.raw('POST', '/projects', body);
    expect(r.status).toBe(422);
    expect(r.body.error.code).toBe('validation_failed');
    expect(r.body.error.details.field).toBe(field);
  });

  it('answers 404 not_found for unknown ids and paths', async () => {
    for (const p of [`/projects/${randomUUID()}`, `/jobs/${randomUUID()}`, `/jobs/${randomUUID()}/runtime`, '/nope']) {
      const r = await api.raw('GET', p); // also a path the document does not have
      expect(r.status, p).toBe(404);
      expect(r.body.error.code).toBe('not_found');
    }
  });

  it('answers 413 for a huge JSON body', async () => {
    // Its own connection: the server answers before reading the rest and closes it.
    const body = JSON.stringify({ title: 'x', pad: 'y'.repeat(2 * 1024 * 1024) });
    const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = http.request(
        `${api.base}/api/v1/projects`,
        {
          method: 'POST',
          agent: false,
          headers: { authorization: `Bearer ${api.key}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          let t = '';
          res.on('data', (d) => (t += d));
          res.on('end', () => {
            resolve({ status: res.statusCode!, text: t });
            req.destroy();
          });
        },
      );
      req.on('error', reject);
      // Only the start of the body: the answer must come from the declared length alone. Writing all of
      // it raced the server's close (EPIPE before the response was read, on a quiet machine).
      req.write(body.slice(0, 64 * 1024));
    });
    expect(status).toBe(413);
    expect(JSON.parse(text).error.code).toBe('payload_too_large');
  });

  it('refuses to run a project with fewer than 2 photos (422)', async () => {
    const p = await api.project();
    const r = await api.POST('/api/v1/projects/{project_id}/run', { params: { path: { project_id: p.id } } });
    expect(r.response.status).toBe(422);
    expect(r.error!.error.details.field).toBe('photos');
  });

  it('answers 409 when cancelling a project with nothing running', async () => {
    const p = await api.project();
    const r = await api.POST('/api/v1/projects/{project_id}/cancel', { params: { path: { project_id: p.id } } });
    expect(r.response.status).toBe(409);
  });
});

describe('the test job', () => {
  it('runs test_start → test_run → test_done with one trace id everywhere', async () => {
    const r = await api.POST('/api/v1/jobs/test', { body: { steps: 3, step_ms: 200 } });
    expect(r.response.status).toBe(202);
    expect(r.data!.status).toBe('queued');
    const job = await api.waitJob(r.data!.id, 20_000);
    expect(job.status).toBe('succeeded');
    expect(job.runtime.stages.map((s) => s.stage)).toEqual(['test_start', 'test_run', 'test_done']);
    expect(job.runtime.progress_percent).toBe(100);
    expect(job.runtime.stages.every((s) => s.duration_ms !== null && s.finished_at)).toBe(true);
    expect(job.trace_id).toMatch(/^[0-9a-f]{32}$/);
    expect(job.started_at && job.finished_at).toBeTruthy();

    const events = await db.query('select distinct trace_id from job_events where job_id = $1', [job.id]);
    expect(events.rows).toEqual([{ trace_id: job.trace_id }]);
    const recorded = (await db.query('select kind, stage from job_events where job_id = $1 order by id', [job.id])).rows as Array<{
      kind: string;
      stage: string | null;
    }>;
    expect(recorded[0]!.kind).toBe('started');
    expect(recorded.at(-1)!.kind).toBe('succeeded');
    // every stage as it began, in order; the steps' progress in between at most twice a second
    const progress = recorded.slice(1, -1);
    expect(progress.every((e) => e.kind === 'progress')).toBe(true);
    expect(progress.map((e) => e.stage).filter((stage, i, all) => stage !== all[i - 1])).toEqual(['test_start', 'test_run', 'test_done']);
    expect(progress.length).toBeLessThanOrEqual(6);
    const row = await db.query('select j.trace_id from jobs j join job_runtimes r on r.job_id = j.id where j.id = $1', [job.id]);
    expect(row.rows[0].trace_id).toBe(job.trace_id);

    const runtime = await api.GET('/api/v1/jobs/{job_id}/runtime', { params: { path: { job_id: job.id } } });
    expect(runtime.data).toEqual(job.runtime);
  });

  it('fails at fail_at_step with an error code and the stage', async () => {
    const r = await api.POST('/api/v1/jobs/test', { body: { steps: 4, step_ms: 50, fail_at_step: 2 } });
    const job = await api.waitJob(r.data!.id, 20_000);
    expect(job.status).toBe('failed');
    expect(job.error).toMatchObject({ code: 'test_failure', stage: 'test_run' });
    expect(job.error!.message).toMatch(/step 2/);
    expect(job.runtime.stage).toBe('failed');
  });

  it('cancels a running job within a second, and a finished one gets 409', async () => {
    const r = await api.POST('/api/v1/jobs/test', { body: { steps: 50, step_ms: 500 } });
    const job_id = r.data!.id;
    await api.waitJob(job_id, 10_000, (j) => j.runtime.stage === 'test_run');
    const t0 = Date.now();
    const c = await api.POST('/api/v1/jobs/{job_id}/cancel', { params: { path: { job_id } } });
    expect(c.response.status).toBe(202);
    expect(c.data!.runtime.cancel_requested).toBe(true);
    const job = await api.waitJob(job_id, 5_000);
    expect(job.status).toBe('canceled');
    expect(job.runtime.stage).toBe('canceled');
    expect(Date.now() - t0).toBeLessThan(1_000);
    const again = await api.POST('/api/v1/jobs/{job_id}/cancel', { params: { path: { job_id } } });
    expect(again.response.status).toBe(409);
    expect(again.error!.error.code).toBe('job_finished');
  });

  it('streams runtime updates over SSE until the job ends', async () => {
    const r = await api.POST('/api/v1/jobs/test', { body: { steps: 3, step_ms: 150 } });
    // the stream itself is what is tested, with the key as the client sends it
    const res = await fetch(`${api.base}/api/v1/jobs/${r.data!.id}/events`, { headers: { authorization: `Bearer ${api.key}` } });
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    const text = await res.text(); // ends after the terminal update
    const updates = text
      .split('\n')
      .filter((l) => l.startsWith('data: '))
      .map((l) => JSON.parse(l.slice(6)));
    expect(updates.length).toBeGreaterThan(1);
    expect(updates.at(-1)).toMatchObject({ status: 'succeeded', stage: 'test_done', progress_percent: 100 });
    const progress = updates.map((u) => u.progress_percent);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
  });

  it('lists jobs filtered by type and status', async () => {
    const own = await api.POST('/api/v1/jobs/test', { body: { steps: 1, step_ms: 10 } });
    expect((await api.waitJob(own.data!.id, 20_000)).status).toBe('succeeded');
    const r = await api.GET('/api/v1/jobs', { params: { query: { type: 'test', status: 'succeeded', limit: 50 } } });
    expect(r.response.status).toBe(200);
    expect(r.data!.items.length).toBeGreaterThan(0);
    expect(r.data!.items.every((j: Job) => j.type === 'test' && j.status === 'succeeded')).toBe(true);
    const bad = await api.raw('GET', '/jobs?status=done');
    expect(bad.status).toBe(422);
    expect(bad.body.error.details.field).toBe('status');
  });
});

describe('the runtime projector', () => {
  it('records an event delivered twice once, and a late event never revives a finished job', async () => {
    const r = await api.POST('/api/v1/jobs/test', { body: { steps: 1, step_ms: 10 } });
    const job = await api.waitJob(r.data!.id, 20_000);
    const names = busNames(stack.e.namespace);
    const nc = await connect({ servers: stack.e.natsUrl });
    const js = jetstream(nc);
    const event = {
      event_id: randomUUID(),
      job_id: job.id,
      trace_id: job.trace_id,
      kind: 'progress',
      attempt: 1,
      at: new Date().toISOString(),
      service: 'test',
      stage: 'test_run',
      progress_percent: 10,
      detail_message: 'late',
      result: null,
      error: null,
    };
    // Published twice without a msgID, so JetStream keeps both copies and the projector sees both.
    await js.publish(names.event(job.id, 'progress'), JSON.stringify(event));
    await js.publish(names.event(job.id, 'progress'), JSON.stringify(event));
    // A third, distinct event behind them: the projector takes the stream in order, so once this one
    // is recorded both copies have been handled.
    const marker = { ...event, event_id: randomUUID(), detail_message: 'after both copies' };
    await js.publish(names.event(job.id, 'progress'), JSON.stringify(marker));
    await nc.close();
    const recorded = async (id: string) => (await db.query('select count(*)::int as n from job_events where event_id = $1', [id])).rows[0].n as number;
    await waitFor(async () => (await recorded(marker.event_id)) === 1, {
      timeoutMs: 5_000,
      what: 'the projector to record the events published after the late one',
    });
    expect(await recorded(event.event_id)).toBe(1);
    const after = ok(await api.GET('/api/v1/jobs/{job_id}', { params: { path: { job_id: job.id } } }));
    expect(after.status).toBe('succeeded');
    expect(after.runtime.progress_percent).toBe(100);
    expect(after.runtime.stage).toBe('test_done');
  });
});

describe('outside /api/v1', () => {
  it('serves health, readiness, OpenAPI, docs and metrics', async () => {
    // a finished test job of its own, for the job metrics below
    expect((await api.waitJob((await api.POST('/api/v1/jobs/test', { body: { steps: 1, step_ms: 10 } })).data!.id, 20_000)).status).toBe('succeeded');
    expect((await fetch(`${api.base}/healthz`)).status).toBe(200);
    expect((await fetch(`${api.base}/readyz`)).status).toBe(200);
    const doc = (await (await fetch(`${api.base}/openapi.json`)).json()) as { paths: Record<string, unknown> };
    for (const p of [
      '/api/v1/projects',
      '/api/v1/projects/{project_id}/assets',
      '/api/v1/jobs/test',
      '/api/v1/jobs/{job_id}/cancel',
      '/api/v1/projects/{project_id}/run',
    ])
      expect(Object.keys(doc.paths)).toContain(p);
    const docs = await fetch(`${api.base}/docs`);
    expect(await docs.text()).toMatch(/swagger-ui/);
    expect((await fetch(`${api.base}/docs/swagger-ui-bundle.js`)).status).toBe(200);
    const metrics = await (await fetch(`${api.base}/metrics`)).text();
    expect(metrics).toMatch(/mt_http_request_duration_seconds_bucket/);
    expect(metrics).toMatch(/mt_jobs_finished_total\{type="test",outcome="succeeded"\}/);
    expect(metrics).toMatch(/mt_stage_duration_seconds_count\{type="test",stage="test_run"\}/);
  });

  it('/readyz answers 503 naming NATS when NATS is unreachable', async () => {
    const port = await freePort();
    const deadNats = await freePort();
    stack.spawn('gateway', 'gateway-no-nats', { PORT: String(port), NATS_URL: `nats://127.0.0.1:${deadNats}` });
    const r = await waitFor(() => fetch(`http://127.0.0.1:${port}/readyz`), { timeoutMs: 20_000, what: 'the gateway without NATS to answer /readyz' });
    expect(r.status).toBe(503);
    const body = (await r.json()) as { error: { code: string; details: Record<string, string> } };
    expect(body.error.code).toBe('dependency_unavailable');
    expect(Object.keys(body.error.details)).toEqual(['nats']);
    const job = await testClient(`http://127.0.0.1:${port}`, { key: api.key }).POST('/api/v1/jobs/test', { body: {} });
    expect(job.response.status).toBe(503);
    await stack.stopProcess('gateway-no-nats');
  });
});
