// The event stream as subscribers see it. The AsyncAPI document the gateway serves is valid AsyncAPI 3
// (@asyncapi/parser) and names the real subjects; real events published by pipelines match its JobEvent
// schema. A subscriber (watchEvents, what `./mt watch` runs) follows three pipelines while the NATS
// server is killed (-9) and started again on the same store, and is itself stopped and started again:
// it shows every event exactly once, in each job's order, and the pipelines all succeed.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Parser } from '@asyncapi/parser';
import { BUS_CONTRACT_VERSION, busNames, type JobEvent, STAGES } from '@mt/contracts';
import { formatEvent, type Watcher, watchEvents } from '@mt/platform';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { Ajv } from 'ajv';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Job, ok, type TestClient } from '../lib/api.js';
import { OwnNats } from '../lib/servers.js';
import { CORPUS, Stack } from '../lib/stack.js';
import { waitFor } from '../lib/wait.js';

const PHOTOS = [
  ['kodak/kodim04.png', 'kodak/kodim23.png'],
  ['person_mary_lou_williams/mlw_01_1946_piano.jpg', 'people_pd/cameraman_varshney_cc0.png'],
  ['everyday_cc0/chelsea_cat_vanderwalt_cc0.png', 'kodak/kodim04.png'],
].map((pair) => pair.map((p) => path.join(CORPUS, 'photos', p)));

const stack = new Stack();
let nats: OwnNats;
let natsDir: string;
let api: TestClient;

beforeAll(async () => {
  natsDir = await mkdtemp(path.join(os.tmpdir(), 'mt-nats-'));
  nats = new OwnNats(natsDir);
  await nats.start();
  await stack.start({ natsUrl: nats.url });
  api = stack.client();
});
afterAll(async () => {
  await stack.stop().catch(() => {});
  await nats?.kill();
  if (natsDir) await rm(natsDir, { recursive: true, force: true });
});

describe('the AsyncAPI document', () => {
  it('is valid AsyncAPI 3 with the real subjects and the contract version', async () => {
    const res = await fetch(`${stack.e.url}/asyncapi.json`); // no credential, like /openapi.json
    expect(res.status).toBe(200);
    const { document, diagnostics } = await new Parser().parse(await res.text());
    expect(diagnostics.filter((d) => d.severity === 0).map((d) => `${d.code} ${d.message} at ${d.path.join('.')}`)).toEqual([]);
    expect(document).toBeDefined();
    expect(document!.version()).toBe('3.0.0');
    expect(document!.info().version()).toBe(BUS_CONTRACT_VERSION);
    const names = busNames(stack.e.namespace);
    expect(
      document!
        .channels()
        .all()
        .map((c) => c.address())
        .sort(),
    ).toEqual([names.event('{jobId}', '{kind}' as never), names.command('{type}' as never), names.cancel('{jobId}')].sort());
    expect(document!.servers().all()[0]!.protocol()).toBe('nats');
  });
});

describe('a subscriber across a NATS restart', () => {
  const shown: { e: JobEvent; seq: number; by: string }[] = [];
  const onlyFirst: JobEvent[] = [];
  const lines: string[] = [];
  let watcher: Watcher;
  let filtered: Watcher;
  const runs: { projectId: string; jobId: string }[] = [];
  let finals: Job[] = [];
  let restartedAt = 0;
  let firstStats: Watcher['stats'] | undefined;

  const watch = (name: string, by: string) =>
    watchEvents({
      name,
      natsUrl: stack.e.natsUrl,
      namespace: stack.e.namespace,
      from: 'all',
      onEvent: (e, seq) => {
        shown.push({ e, seq, by });
        lines.push(formatEvent(e));
      },
    });

  beforeAll(async () => {
    watcher = await watch('test-watch', 'first');
    for (const photos of PHOTOS) {
      const p = await api.project({ transition_seconds: 6, transition_style: 'classic', resolution: '720p' });
      expect(
        (
          await api.uploadFiles(
            p.id,
            photos.map((f) => ({ path: f })),
          )
        ).response.status,
      ).toBe(201);
      runs.push({ projectId: p.id, jobId: '' });
    }
    // Another subscriber for the first memorial only.
    filtered = await watchEvents({
      name: 'test-watch-one',
      natsUrl: stack.e.natsUrl,
      namespace: stack.e.namespace,
      projectId: runs[0]!.projectId,
      from: 'all',
      onEvent: (e) => void onlyFirst.push(e),
    });
    for (const r of runs) r.jobId = ok(await api.POST('/api/v1/projects/{project_id}/run', { params: { path: { project_id: r.projectId } } })).id;

    // Mid-pipeline (a transition under way): NATS is killed and started again on the same store.
    await waitFor(() => shown.some((s) => s.e.stage === 'transition_generate'), { timeoutMs: 300_000, intervalMs: 100, what: 'a transition under way' });
    await nats.kill();
    await nats.start();
    restartedAt = Date.now();
    // The subscriber itself stops and starts again (same name) while the pipelines go on.
    const before = shown.length;
    await waitFor(() => shown.length > before + 3, { timeoutMs: 120_000, intervalMs: 100, what: 'events after the NATS restart' });
    firstStats = watcher.stats;
    await watcher.stop();
    expect(firstStats.shown).toBeGreaterThan(0);
    watcher = await watch('test-watch', 'second');

    finals = await Promise.all(runs.map((r) => api.waitJob(r.jobId, 480_000)));
  }, 900_000);
  afterAll(async () => {
    await watcher?.stop();
    await filtered?.stop();
  });

  it('the pipelines succeed', () => {
    expect(restartedAt).toBeGreaterThan(0);
    expect(finals.map((j) => j.status)).toEqual(['succeeded', 'succeeded', 'succeeded']);
  });

  it('shows every event of the pipelines exactly once, in order per job', async () => {
    // Every event the platform recorded (the projector keeps each once) reaches the subscriber.
    const db = new pg.Client({ connectionString: stack.e.databaseUrl });
    await db.connect();
    const recorded = async () =>
      (
        await db.query<{ event_id: string }>(`select e.event_id from job_events e join jobs j on j.id = e.job_id where j.project_id = any($1)`, [
          runs.map((r) => r.projectId),
        ])
      ).rows.map((r) => r.event_id);
    const ids = await waitFor(
      async () => {
        const want = new Set(await recorded());
        const seen = new Set(shown.map((s) => s.e.event_id));
        return [...want].every((id) => seen.has(id)) ? want : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 250, what: 'the subscriber to show every recorded event' },
    );
    await db.end();
    const mine = shown.filter((s) => runs.some((r) => r.projectId === s.e.project_id));
    const counts = new Map<string, number>();
    for (const s of mine) counts.set(s.e.event_id, (counts.get(s.e.event_id) ?? 0) + 1);
    const twice = [...counts].filter(([, n]) => n > 1);
    console.log(
      `subscriber: ${mine.length} events shown (${counts.size} distinct, ${ids.size} recorded), ${twice.length} shown twice; ` +
        `redeliveries dropped by event id: ${firstStats!.duplicates} + ${watcher.stats.duplicates}; shown by the first subscriber ${shown.filter((s) => s.by === 'first').length}, by the second (same durable consumer, restarted) ${shown.filter((s) => s.by === 'second').length}\n` +
        lines.slice(0, 8).join('\n'),
    );
    expect(twice).toEqual([]);
    expect(counts.size).toBe(ids.size);

    // In order per job: stream order, each job opens with `started` and ends with one final event,
    // and within an attempt a worker job's stages go forward.
    const byJob = new Map<string, typeof mine>();
    for (const s of mine) byJob.set(s.e.job_id, [...(byJob.get(s.e.job_id) ?? []), s]);
    for (const [jobId, evs] of byJob) {
      const seqs = evs.map((s) => s.seq);
      expect(seqs, jobId).toEqual([...seqs].sort((a, b) => a - b));
      expect(evs[0]!.e.kind, jobId).toBe('started');
      expect(evs.at(-1)!.e.kind, jobId).toBe('succeeded');
      expect(
        evs.filter((s) => s.e.kind === 'succeeded'),
        jobId,
      ).toHaveLength(1);
      const type = evs[0]!.e.job_type!;
      expect(evs.every((s) => s.e.job_type === type)).toBe(true);
      if (type === 'pipeline') continue; // a pipeline shows its children's stages side by side
      const order: readonly string[] = STAGES[type];
      for (const attempt of new Set(evs.map((s) => s.e.attempt))) {
        const idx = evs.filter((s) => s.e.attempt === attempt && s.e.stage).map((s) => order.indexOf(s.e.stage!));
        expect(idx, `${jobId} attempt ${attempt}`).toEqual([...idx].sort((a, b) => a - b));
      }
    }
    // Every job of the pipelines was seen: 3 × (pipeline, canvas, 1 transition, last clip, render).
    expect(byJob.size).toBe(15);
    expect(lines.some((l) => /transition\s+[0-9a-f]{8}\s+transition_generate/.test(l))).toBe(true);
  });

  it('a subscriber for one memorial sees only its events, all of them', () => {
    const first = runs[0]!.projectId;
    expect(onlyFirst.length).toBeGreaterThan(0);
    expect(onlyFirst.every((e) => e.project_id === first)).toBe(true);
    const all = new Set(shown.filter((s) => s.e.project_id === first).map((s) => s.e.event_id));
    expect(new Set(onlyFirst.map((e) => e.event_id))).toEqual(all);
    expect(filtered.stats.filtered).toBeGreaterThan(0);
  });

  it('real events match the JobEvent schema of the document', async () => {
    const doc = (await (await fetch(`${stack.e.url}/asyncapi.json`)).json()) as { components: Record<string, unknown> };
    const ajv = new Ajv({ strict: false, allErrors: true });
    ajv.addSchema({ $id: 'asyncapi.json', components: doc.components });
    const validate = ajv.getSchema('asyncapi.json#/components/schemas/JobEvent')!;
    // The messages exactly as published (not as the subscriber parsed them), one of each kind and stage.
    const nc = await connect({ servers: stack.e.natsUrl });
    const jsm = await jetstreamManager(nc);
    const picked = new Map<string, number>();
    for (const s of shown) picked.set(`${s.e.kind}:${s.e.stage}:${s.e.service}`, s.seq);
    let checked = 0;
    for (const seq of picked.values()) {
      const m = await jsm.streams.getMessage(busNames(stack.e.namespace).eventStream, { seq });
      const raw = m!.json();
      expect(validate(raw), JSON.stringify(validate.errors)).toBe(true);
      checked++;
    }
    await nc.close();
    expect(checked).toBeGreaterThan(10);
    expect(validate({ event_id: 'x', kind: 'progress' })).toBe(false); // the schema does hold something
  });
});
