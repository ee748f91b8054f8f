// The chaos suite: M small pipelines while workers are killed with SIGKILL, NATS and Postgres are
// restarted, the gateway is killed, and some jobs are cancelled. At the end it prints a table and
// asserts that nothing was lost, nothing is stuck, nothing is left running and every video is good.
//   MT_CHAOS_PIPELINES (default 20)   pnpm test:chaos
import { chmod, mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { ffprobe } from '@mt/media';
import { processAlive } from '@mt/platform';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Job, TestClient } from '../lib/api.js';
import { OwnNats, OwnPostgres } from '../lib/servers.js';
import { CORPUS, pidsMatching, type ServiceName, Stack } from '../lib/stack.js';
import { waitFor } from '../lib/wait.js';

const M = Number(process.env.MT_CHAOS_PIPELINES ?? 20);
const REPLICAS: Record<Exclude<ServiceName, 'gateway'>, number> = { canvas: 2, transition: 2, render: 2 };
const FINAL = ['succeeded', 'failed', 'canceled'];

let dir: string;
let nats: OwnNats;
let postgres: OwnPostgres;
const stack = new Stack();
let api: TestClient;
const log = (s: string) => process.stdout.write(`[chaos] ${s}\n`);

/** A typed call through outages: retries connection errors and 503s for a minute, like a patient client. */
async function patiently<T extends { response: Response }>(request: () => Promise<T>): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      const r = await request();
      if (r.response.status !== 503 || i > 120) return r;
    } catch (e) {
      if (i > 120) throw e;
    }
    await sleep(500);
  }
}

/**
 * Temp folders left behind: every job folder, every folder of a dead process, and anything inside the
 * own temp folder (`<service>-<pid>-process-…`) of a process still running.
 */
async function leftoverTemp(root: string): Promise<number> {
  let left = 0;
  for (const name of await readdir(root).catch(() => [] as string[])) {
    const pid = Number(/^[a-z_]+-(\d+)-process-/.exec(name)?.[1]);
    left += pid > 0 && processAlive(pid) ? (await readdir(path.join(root, name))).length : 1;
  }
  return left;
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'mt-chaos-'));
  await chmod(dir, 0o755); // the postgres user must reach its cluster folder inside
  nats = new OwnNats(path.join(dir, 'nats'));
  await nats.start();
  postgres = new OwnPostgres(path.join(dir, 'pg', 'cluster'));
  await postgres.init();
  await stack.start({
    pgUrl: postgres.url,
    natsUrl: nats.url,
    services: ['gateway'],
    env: {
      MT_X264_PRESET: 'ultrafast',
      MT_ACK_WAIT_MS: '6000',
      MT_MAX_DELIVER: '6',
      MT_RETRY_BASE_MS: '300',
      MT_STALE_RUNNING_MS: '45000',
      MT_REAPER_INTERVAL_MS: '3000',
      MT_SHUTDOWN_GRACE_MS: '1000',
      LOG_LEVEL: 'warn',
    },
  });
  for (const [s, n] of Object.entries(REPLICAS)) for (let i = 1; i <= n; i++) stack.spawn(s as ServiceName, `${s}-${i}`);
  api = stack.client();
}, 120_000);

/** Ends the storm; set while it runs, so a failed run does not spawn replicas after the stack stopped. */
let endStorm: (() => Promise<void>) | undefined;

afterAll(async () => {
  await endStorm?.();
  await stack.stop().catch(() => {});
  await nats?.stop().catch(() => {});
  await postgres?.destroy().catch(() => {});
  await rm(dir, { recursive: true, force: true });
});

it(`survives chaos with ${M} pipelines`, async () => {
  const kodak = Array.from({ length: 24 }, (_, i) => path.join(CORPUS, 'photos', 'kodak', `kodim${String(i + 1).padStart(2, '0')}.png`));
  const pipelines: { project: string; job?: string; cancel: boolean; cancelAccepted?: boolean }[] = [];
  for (let i = 0; i < M; i++) {
    const p = await api.project({ title: `chaos ${i}`, resolution: '720p', transition_seconds: 6, transition_style: 'classic' });
    const up = await api.uploadFiles(p.id, [{ path: kodak[(2 * i) % 24]! }, { path: kodak[(2 * i + 1) % 24]! }]);
    expect(up.response.status).toBe(201);
    pipelines.push({ project: p.id, cancel: i % 5 === 2 });
  }

  const events: string[] = [];
  const kinds = new Set<string>();
  const start = Date.now();
  // Media code's scratch folders (mt-classic-…, mt-cmp-…) belong in the services' own temp folders, never in the system's.
  const MEDIA_SCRATCH = /^mt-(classic|cmp|last|concat|heic|smooth)-/;
  const systemScratch = async () => (await readdir(os.tmpdir())).filter((n) => MEDIA_SCRATCH.test(n));
  const scratchBefore = new Set(await systemScratch());
  let running = true;
  let tick = 0;
  /** Every kind of event happens early, while pipelines are starting; random worker kills fill the rest. */
  const SCHEDULE: Record<number, 'restart NATS' | 'kill -9 gateway' | 'restart Postgres'> = {
    2: 'restart NATS',
    3: 'kill -9 gateway',
    4: 'restart Postgres',
    8: 'restart NATS',
  };
  /** Worker kills take the services in turn (a random replica each), so every kind of step dies mid-work. */
  const KILL_ORDER: Exclude<ServiceName, 'gateway'>[] = ['transition', 'canvas', 'render'];
  const EVERY_KIND = 6; // ticks 1, 5, 6 kill each worker service; 2, 3, 4 the rest
  let kills = 0;
  const chaos = (async () => {
    // A bounded storm: enough kills and restarts to hit every kind of step, not so many that no
    // step can ever finish on a 2-core machine.
    const maxEvents = Math.min(30, 6 + 2 * M);
    while (running && tick < maxEvents) {
      await sleep(5_000 + Math.random() * 5_000);
      if (!running) break;
      tick++;
      const at = `${((Date.now() - start) / 1000).toFixed(0)}s`;
      const kind = SCHEDULE[tick];
      if (kind === 'restart NATS') {
        await nats.restart(1_500);
      } else if (kind === 'restart Postgres') {
        await postgres.restart(1_500);
      } else if (kind === 'kill -9 gateway') {
        await stack.stopProcess('gateway', 'SIGKILL');
        await sleep(1_000);
        stack.spawn('gateway');
      } else {
        const service = KILL_ORDER[kills++ % KILL_ORDER.length]!;
        const name = `${service}-${1 + Math.floor(Math.random() * REPLICAS[service])}`;
        events.push(`${at} kill -9 ${name}`);
        kinds.add(`kill -9 ${service}`);
        await stack.stopProcess(name, 'SIGKILL');
        await sleep(1_500);
        stack.spawn(service, name); // what the process manager does
        continue;
      }
      events.push(`${at} ${kind}`);
      kinds.add(kind);
    }
  })();
  endStorm = async () => {
    running = false;
    await chaos;
  };

  // Start the runs over time; cancel some of them a little after they start.
  for (const p of pipelines) {
    const r = await patiently(() => api.POST('/api/v1/projects/{project_id}/run', { params: { path: { project_id: p.project } } }));
    expect(r.response.status, JSON.stringify(r.error)).toBe(202);
    const job_id = r.data!.id;
    p.job = job_id;
    if (p.cancel)
      void sleep(2_000 + Math.random() * 8_000).then(async () => {
        const c = await patiently(() => api.POST('/api/v1/jobs/{job_id}/cancel', { params: { path: { job_id } } }));
        p.cancelAccepted = c.response.status === 202;
      });
    await sleep(1_500);
  }

  // Wait until every pipeline has ended (or the budget runs out).
  const budget = Date.now() + 120_000 + M * 60_000;
  const final = new Map<string, Job>();
  // ... and the storm has shown every kind of event at least once.
  while (Date.now() < budget && (final.size < M || tick < EVERY_KIND)) {
    for (const p of pipelines) {
      if (final.has(p.job!)) continue;
      const j = await patiently(() => api.GET('/api/v1/jobs/{job_id}', { params: { path: { job_id: p.job! } } }));
      if (j.data && FINAL.includes(j.data.status)) final.set(p.job!, j.data);
    }
    await sleep(1_000);
  }
  await endStorm();
  await stack.waitReady(60_000);

  // ---- measure, once the stack has settled: cancelled children and redeliveries ended, ffmpeg gone,
  // and the temp folders of killed processes removed by their restarted successors. At most 10 s:
  // what has not settled by then is counted below as stuck or left over.
  const db = new pg.Client({ connectionString: stack.e.databaseUrl });
  await db.connect();
  const unfinished = async () => Number((await db.query(`select count(*) from jobs where status not in ('succeeded', 'failed', 'canceled')`)).rows[0].count);
  const tempLeftover = async () => (await leftoverTemp(stack.e.env.MT_TMP_DIR!)) + (await systemScratch()).filter((n) => !scratchBefore.has(n)).length;
  const settled = async () => (await unfinished()) === 0 && pidsMatching(stack.e.tmpDir).length === 0 && (await tempLeftover()) === 0;
  await waitFor(settled, { timeoutMs: 10_000, intervalMs: 250, what: 'the stack to settle' }).catch((e: Error) => log(e.message));
  const jobs = (
    await db.query<{
      id: string;
      type: string;
      status: string;
      parent_job_id: string | null;
      project_id: string;
      error: { code: string; message: string } | null;
      result: any;
    }>('select id, type, status, parent_job_id, project_id, error, result from jobs where project_id is not null')
  ).rows;
  await db.end();
  const top = jobs.filter((j) => j.type === 'pipeline');
  const lost = pipelines.filter((p) => !top.some((j) => j.id === p.job)).length;
  const stuck = jobs.filter((j) => !FINAL.includes(j.status));
  const ffmpegLeft = pidsMatching(stack.e.tmpDir).length;
  const tempLeft = await tempLeftover();
  const s3 = new S3Client({
    endpoint: stack.e.s3Endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  });
  let duplicates = 0;
  let invalid = 0;
  const outcome = { succeeded: 0, failed: 0, canceled: 0 } as Record<string, number>;
  for (const p of pipelines) {
    const j = top.find((x) => x.id === p.job);
    if (!j) continue;
    outcome[j.status] = (outcome[j.status] ?? 0) + 1;
    const renders = jobs.filter((x) => x.parent_job_id === j.id && x.type === 'render' && x.status === 'succeeded');
    const videos = await s3.send(new ListObjectsV2Command({ Bucket: stack.e.bucket, Prefix: `projects/${p.project}/jobs/` }));
    const mp4s = (videos.Contents ?? []).filter((o) => o.Key!.endsWith('/memorial.mp4'));
    if (renders.length > 1 || mp4s.length > 1) duplicates++;
    if (j.status === 'succeeded') {
      const { file } = await api.downloadVideo(p.project, path.join(dir, `${p.project}.mp4`));
      const probe = await ffprobe(file, undefined, { countFrames: true });
      if (Number(probe.streams[0]?.nb_read_frames) !== 2 * 6 * 30) invalid++;
    }
  }
  const failedWithoutReason = top.filter((j) => j.status === 'failed' && !(j.error?.code && j.error?.message)).length;
  const cancelMismatch = pipelines.filter((p) => {
    const j = top.find((x) => x.id === p.job);
    return p.cancelAccepted === true && j?.status !== 'canceled';
  }).length;

  const table: [string, string | number][] = [
    ['pipelines', M],
    ['succeeded', outcome.succeeded ?? 0],
    ['failed (with a reason)', outcome.failed ?? 0],
    ['canceled (as asked)', outcome.canceled ?? 0],
    ['cancels accepted', pipelines.filter((p) => p.cancelAccepted).length],
    ['lost jobs', lost],
    ['stuck jobs (any level)', stuck.length],
    ['leftover ffmpeg processes', ffmpegLeft],
    ['leftover temp folders', tempLeft], // under MT_TMP_DIR and in the system temp
    ['duplicate final videos', duplicates],
    ['invalid videos', invalid],
    ['chaos events', events.length],
    ['kinds of chaos event', [...kinds].sort().join(', ')],
    ['wall time (s)', Math.round((Date.now() - start) / 1000)],
  ];
  log(`events: ${events.join('; ')}`);
  for (const [k, v] of table) log(`${k.padEnd(28)} ${v}`);
  for (const j of top.filter((x) => x.status === 'failed')) log(`failed ${j.id}: ${j.error?.code} ${j.error?.message}`);
  for (const j of stuck) log(`stuck ${j.type} ${j.id} ${j.status}`);

  expect(lost).toBe(0);
  expect(stuck).toEqual([]);
  expect(final.size).toBe(M);
  expect(ffmpegLeft).toBe(0);
  expect(tempLeft).toBe(0);
  expect(duplicates).toBe(0);
  expect(invalid).toBe(0);
  expect(failedWithoutReason).toBe(0);
  expect(cancelMismatch).toBe(0);
  expect(outcome.succeeded).toBeGreaterThan(0);
  expect([...kinds].sort()).toEqual(['kill -9 canvas', 'kill -9 gateway', 'kill -9 render', 'kill -9 transition', 'restart NATS', 'restart Postgres']);
}, 3_600_000);
