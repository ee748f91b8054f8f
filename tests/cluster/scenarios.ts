// What the cluster test does: the scale-out measurement (the transition stage with 1, 2, 3 replicas on
// 1, 2, 3 capped hosts) and the failures (a whole host lost, the command stream's NATS leader among
// them; a host partitioned for longer than the ack wait). Each returns a row for report.ts.
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { ffprobe } from '@mt/media';
import { CORPUS, ROOT } from '../lib/stack.js';
import { waitFor } from '../lib/wait.js';
import type { Cluster } from './cluster.js';
import { cpuStat } from './host-net.js';
import { type Host, type Placed, s3Endpoint, spread } from './topology.js';

const FINAL = ['succeeded', 'failed', 'canceled'];
const SECONDS = 6;
const kodak = (i: number) => path.join(CORPUS, 'photos', 'kodak', `kodim${String((i % 24) + 1).padStart(2, '0')}.png`);

export interface PipelineRun {
  project: string;
  job: string;
  photos: number;
}

/** Makes a memorial of `photos` photos (720p, 6 s classic transitions) and runs it. */
export async function startPipeline(c: Cluster, photos: number, offset = 0, title = 'cluster'): Promise<PipelineRun> {
  const p = await c.api.project({ title, resolution: '720p', transition_seconds: SECONDS, transition_style: 'classic' });
  const up = await c.api.uploadFiles(
    p.id,
    Array.from({ length: photos }, (_, i) => ({ path: kodak(offset + i) })),
  );
  if (up.response.status !== 201) throw new Error(`upload answered ${up.response.status}`);
  const r = await c.api.POST('/api/v1/projects/{project_id}/run', { params: { path: { project_id: p.id } } });
  if (r.response.status !== 202) throw new Error(`run answered ${r.response.status}: ${JSON.stringify(r.error)}`);
  return { project: p.id, job: r.data!.id, photos };
}

interface JobRow {
  id: string;
  type: string;
  status: string;
  parent_job_id: string | null;
  started_at: Date | null;
  finished_at: Date | null;
}

async function jobsOf(c: Cluster, pipelineJob: string): Promise<JobRow[]> {
  return (
    await c.db.query<JobRow>('select id, type, status, parent_job_id, started_at, finished_at from jobs where id = $1 or parent_job_id = $1', [pipelineJob])
  ).rows;
}

/** Waits until every pipeline has ended (its job final), or the deadline; the statuses by job id. */
export async function waitPipelines(c: Cluster, runs: PipelineRun[], timeoutMs: number): Promise<Map<string, string>> {
  const status = new Map<string, string>();
  await waitFor(
    async () => {
      const rows = (await c.db.query<{ id: string; status: string }>('select id, status from jobs where id = any($1)', [runs.map((r) => r.job)])).rows;
      for (const r of rows) status.set(r.id, r.status);
      return rows.length === runs.length && rows.every((r) => FINAL.includes(r.status));
    },
    { timeoutMs, intervalMs: 1_000, what: `${runs.length} pipelines to end` },
  ).catch(() => {});
  return status;
}

const span = (rows: JobRow[]) => {
  const starts = rows.map((r) => r.started_at?.getTime() ?? Number.NaN);
  const ends = rows.map((r) => r.finished_at?.getTime() ?? Number.NaN);
  return (Math.max(...ends) - Math.min(...starts)) / 1000;
};

/** Which process made each clip, from the `started` events' worker (`hostname:pid`). */
async function clipsByProcess(c: Cluster, jobIds: string[]): Promise<Record<string, number>> {
  const rows = (
    await c.db.query<{ job_id: string; worker: string }>(
      `select distinct on (job_id) job_id, body->>'worker' as worker from job_events where kind = 'succeeded' and job_id = any($1) order by job_id, at`,
      [jobIds],
    )
  ).rows;
  const out: Record<string, number> = {};
  for (const r of rows) {
    const name = c.launcher.byPid.get(Number(r.worker?.split(':').pop())) ?? r.worker;
    out[name] = (out[name] ?? 0) + 1;
  }
  return out;
}

export interface ScaleRow {
  replicas: number;
  hosts: number;
  clips: number;
  canvasS: number;
  transitionS: number;
  renderS: number;
  totalS: number;
  perProcess: Record<string, number>;
  /** Share of the transition hosts' busy scheduler periods in which they hit their CPU cap. */
  cappedShare: number;
}

/**
 * The same pipeline with k transition replicas on k capped hosts (one each), for each k. Canvas and
 * render are one job per pipeline: one replica each, on the last worker host (idle while the
 * transitions run, so they do not share the measured hosts' CPU).
 */
export async function scaleOut(c: Cluster, ks: number[], photos: number): Promise<ScaleRow[]> {
  const last = c.t.workers.at(-1)!;
  const fixed: Placed[] = [
    { name: `canvas@${last.name}`, service: 'canvas', host: last },
    { name: `render@${last.name}`, service: 'render', host: last },
  ];
  await c.startServices(fixed);
  const rows: ScaleRow[] = [];
  for (const k of ks) {
    const placed = spread({ transition: k }, c.t.workers.slice(0, k));
    await c.startServices(placed);
    c.say(`scale-out: ${k} transition replica(s) on ${placed.map((p) => p.host.name).join(', ')}; one pipeline of ${photos} photos`);
    const hosts = [...new Set(placed.map((p) => p.host))];
    const before = hosts.map(cpuStat);
    const run = await startPipeline(c, photos, 0, `scale ${k}`);
    const status = (await waitPipelines(c, [run], 15 * 60_000)).get(run.job);
    if (status !== 'succeeded') throw new Error(`the scale-out pipeline with ${k} replicas ended ${status}`);
    const after = hosts.map(cpuStat);
    const periods = after.reduce((n, a, i) => n + a.periods - before[i]!.periods, 0);
    const throttled = after.reduce((n, a, i) => n + a.throttled - before[i]!.throttled, 0);
    const jobs = await jobsOf(c, run.job);
    const clips = jobs.filter((j) => j.type === 'transition' || j.type === 'last_clip');
    const row: ScaleRow = {
      replicas: k,
      hosts: hosts.length,
      cappedShare: periods ? throttled / periods : 0,
      clips: clips.length,
      canvasS: span(jobs.filter((j) => j.type === 'canvas')),
      transitionS: span(clips),
      renderS: span(jobs.filter((j) => j.type === 'render')),
      totalS: span(jobs.filter((j) => j.id === run.job)),
      perProcess: await clipsByProcess(
        c,
        clips.map((j) => j.id),
      ),
    };
    c.say(`  transition stage ${row.transitionS.toFixed(1)} s (${JSON.stringify(row.perProcess)})`);
    rows.push(row);
    for (const p of placed) await c.stopService(p.name);
  }
  for (const p of fixed) await c.stopService(p.name);
  return rows;
}

export interface FailureRow {
  scenario: string;
  victim: string;
  pipelines: number;
  succeeded: number;
  failed: number;
  lost: number;
  stuck: number;
  duplicates: number;
  leftover: number;
  redelivered: number;
  /** From the cut to the last pipeline's end. */
  recoveryS: number;
  /** From the host's return to its NATS node being current in every stream again. */
  rejoinS: number | null;
  notes: string[];
}

/**
 * Every worker host runs a gateway (besides the data host's), a canvas, a transition and a render
 * replica: whichever host is lost takes a gateway with it, mid-transaction perhaps.
 */
export function failurePlacement(c: Cluster): Placed[] {
  const w = c.t.workers;
  return spread({ gateway: w.length, canvas: w.length, transition: w.length, render: w.length }, w);
}

/** Waits (bounded) until a transition is being made on `h`, so that losing it loses work in progress. */
async function waitWorkOn(c: Cluster, runs: PipelineRun[], h: Host, timeoutMs: number): Promise<boolean> {
  const names = new Set(c.launcher.on(h).map((r) => r.pid));
  return waitFor(
    async () => {
      const rows = (
        await c.db.query<{ worker: string }>(
          `select e.body->>'worker' as worker from jobs j join job_events e on e.job_id = j.id and e.kind = 'started'
           where j.parent_job_id = any($1) and j.type in ('transition', 'last_clip') and j.status = 'running'`,
          [runs.map((r) => r.job)],
        )
      ).rows;
      return rows.some((r) => names.has(Number(r.worker?.split(':').pop())));
    },
    { timeoutMs, intervalMs: 300, what: `a transition running on ${h.name}` },
  ).then(
    () => true,
    () => false,
  );
}

/** The outcome of pipelines: the failure table's columns (except timings). */
async function outcome(
  c: Cluster,
  runs: PipelineRun[],
  status: Map<string, string>,
  dir: string,
): Promise<Omit<FailureRow, 'scenario' | 'victim' | 'recoveryS' | 'rejoinS' | 'notes' | 'leftover'>> {
  const s3 = new S3Client({
    endpoint: s3Endpoint(c.t),
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  });
  let succeeded = 0;
  let failed = 0;
  let lost = 0;
  let duplicates = 0;
  for (const r of runs) {
    const st = status.get(r.job);
    const jobs = await jobsOf(c, r.job);
    const renders = jobs.filter((j) => j.type === 'render' && j.status === 'succeeded');
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: 'memorialtube', Prefix: `projects/${r.project}/` }));
    const mp4s = (listed.Contents ?? []).filter((o) => o.Key!.endsWith('/memorial.mp4'));
    if (renders.length > 1 || mp4s.length > 1) duplicates++;
    if (st === 'succeeded') {
      const file = path.join(dir, `${r.project}.mp4`);
      await c.api.downloadVideo(r.project, file);
      const seconds = Number((await ffprobe(file)).format.duration);
      if (Math.abs(seconds - r.photos * SECONDS) < 0.5) succeeded++;
      else lost++; // a video, but not the whole memorial
    } else if (st === 'failed' || st === 'canceled') {
      failed++;
      lost++;
    } else if (st === undefined) lost++;
  }
  s3.destroy();
  const idle = (
    await c.db.query<{ addr: string; n: string }>(
      `select host(client_addr) as addr, count(*) as n from pg_stat_activity
       where state = 'idle in transaction' and xact_start < now() - interval '10 seconds' group by 1`,
    )
  ).rows;
  if (idle.length) c.say(`  Postgres sessions idle in a transaction for > 10 s: ${idle.map((r) => `${r.n} from ${r.addr}`).join(', ')}`);
  const stuck = Number(
    (
      await c.db.query<{ n: string }>(
        `select count(*) as n from jobs where (id = any($1) or parent_job_id = any($1)) and status not in ('succeeded', 'failed', 'canceled')`,
        [runs.map((r) => r.job)],
      )
    ).rows[0]!.n,
  );
  const redelivered = Number(
    (
      await c.db.query<{ n: string }>(
        `select count(*) as n from (select job_id from job_events e join jobs j on j.id = e.job_id
         where (j.id = any($1) or j.parent_job_id = any($1)) and e.kind = 'started' group by job_id having count(*) > 1) x`,
        [runs.map((r) => r.job)],
      )
    ).rows[0]!.n,
  );
  return { pipelines: runs.length, succeeded, failed, lost, stuck, duplicates, redelivered };
}

export interface FailureOptions {
  pipelines: number;
  photos: number;
  /** How long the pipelines may take after the failure. */
  timeoutMs?: number;
}

/**
 * A whole host lost mid-pipeline: the host whose NATS node leads the command stream has its link cut,
 * then (a moment later, as when a machine dies) every process on it killed. The pipelines must end on
 * the other hosts. Then the host comes back (link up, NATS and its services started again) and its
 * NATS node must be current again in every stream.
 */
export async function hostLoss(c: Cluster, o: FailureOptions): Promise<FailureRow> {
  const dir = path.join(ROOT, 'test-output', 'cluster', 'videos');
  await mkdir(dir, { recursive: true });
  const notes: string[] = [];
  const runs: PipelineRun[] = [];
  for (let i = 0; i < o.pipelines; i++) runs.push(await startPipeline(c, o.photos, i * o.photos, `loss ${i}`));
  const victim = await c.leaderOf('MT_COMMANDS');
  const consumerLeader = (await c.jsm.consumers.info('MT_COMMANDS', 'MT_CMD_TRANSITION')).cluster?.leader;
  const busy = await waitWorkOn(c, runs, victim, 120_000);
  notes.push(`${victim.name} led MT_COMMANDS (MT_CMD_TRANSITION: ${consumerLeader})${busy ? ' and was making a clip' : ''}`);
  const services = c.placedOn(victim);
  c.say(`host loss: cutting ${victim.name} off (${services.map((p) => p.name).join(', ')}, ${victim.nats})`);
  const cut = Date.now();
  await c.link(victim, false);
  await sleep(2_000);
  const killed = await c.launcher.killHost(victim);
  c.say(`  ${victim.name}: link down, ${killed} processes killed`);
  const status = await waitPipelines(c, runs, o.timeoutMs ?? 10 * 60_000);
  const recoveryS = (Date.now() - cut) / 1000;
  const newLeader = await c.leaderOf('MT_COMMANDS').then(
    (h) => h.name,
    () => 'none',
  );
  notes.push(`new MT_COMMANDS leader: ${newLeader}`);
  const result = await outcome(c, runs, status, dir);
  await waitFor(() => c.ffmpegs().length === 0, { timeoutMs: 10_000, what: 'no ffmpeg left' }).catch(() => {});
  const leftover = c.ffmpegs().length + c.launcher.on(victim).length;
  // The host comes back: link up, its NATS node (same store) and its services started again.
  const back = Date.now();
  await c.link(victim, true);
  await c.startNats(victim);
  await c.startServices(services);
  const rejoined = await waitFor(() => c.natsCurrent(victim), { timeoutMs: 120_000, intervalMs: 500, what: `${victim.nats} current again` }).then(
    () => (Date.now() - back) / 1000,
    () => null,
  );
  c.say(`  ${victim.name} back: ${rejoined === null ? 'its NATS node did NOT become current' : `NATS node current after ${rejoined.toFixed(1)} s`}`);
  await rm(dir, { recursive: true, force: true });
  return { scenario: 'host lost (NATS leader)', victim: victim.name, ...result, leftover, recoveryS, rejoinS: rejoined, notes };
}

/**
 * A network partition: one host (one making a clip, not the command stream's leader) cut off for
 * longer than the ack wait while its processes keep running, then healed. Its clips go to other hosts
 * after the ack wait; what it finishes late must not make a second video or fail a job.
 */
export async function partition(c: Cluster, o: FailureOptions & { cutMs?: number }): Promise<FailureRow> {
  const dir = path.join(ROOT, 'test-output', 'cluster', 'videos');
  await mkdir(dir, { recursive: true });
  const cutMs = o.cutMs ?? Math.round(c.settings.ackWaitMs * 2.5);
  const runs: PipelineRun[] = [];
  for (let i = 0; i < o.pipelines; i++) runs.push(await startPipeline(c, o.photos, 3 + i * o.photos, `partition ${i}`));
  const leader = await c.leaderOf('MT_COMMANDS');
  const victim = c.t.workers.find((h) => h !== leader && h.nats)!;
  const busy = await waitWorkOn(c, runs, victim, 120_000);
  c.say(`partition: ${victim.name} cut off for ${cutMs / 1000} s (ack wait ${c.settings.ackWaitMs / 1000} s)${busy ? ' while making a clip' : ''}`);
  const cut = Date.now();
  await c.link(victim, false);
  await sleep(cutMs);
  await c.link(victim, true);
  const back = Date.now();
  const rejoined = await waitFor(() => c.natsCurrent(victim), { timeoutMs: 120_000, intervalMs: 500, what: `${victim.nats} current again` }).then(
    () => (Date.now() - back) / 1000,
    () => null,
  );
  const status = await waitPipelines(c, runs, o.timeoutMs ?? 10 * 60_000);
  const recoveryS = (Date.now() - cut) / 1000;
  const result = await outcome(c, runs, status, dir);
  await waitFor(() => c.ffmpegs().length === 0, { timeoutMs: 10_000, what: 'no ffmpeg left' }).catch(() => {});
  await rm(dir, { recursive: true, force: true });
  return {
    scenario: `partition ${cutMs / 1000} s`,
    victim: victim.name,
    ...result,
    leftover: c.ffmpegs().length,
    recoveryS,
    rejoinS: rejoined,
    notes: [`${victim.name} kept running, cut off for ${cutMs / 1000} s${busy ? ' while making a clip' : ''}`],
  };
}
