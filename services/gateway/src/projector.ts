import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import { isTerminal, JobEvent, RenderResult, type JobStatus } from '@mt/contracts';
import { jobLogger, type Bus, type Logger } from '@mt/platform';
import type { StageTiming } from './db/entities.js';
import type { JobRecord, JobStore } from './jobs.js';
import { metrics } from './metrics.js';

export interface Applied {
  job: JobRecord;
  event: JobEvent;
  /** The job reached a final status with this event. */
  finished: boolean;
}
export type AppliedListener = (a: Applied) => Promise<void>;

const FINAL: Record<string, JobStatus> = { succeeded: 'succeeded', failed: 'failed', canceled: 'canceled' };

/**
 * The runtime projector: the only writer of job progress. It consumes every event durably, records
 * it once (`event_id` is unique), and moves the job and its runtime forward: progress never goes
 * backwards and a finished job is never revived by a late event.
 */
export class Projector {
  private listeners: AppliedListener[] = [];
  private stopped = false;
  private stopMsgs?: () => void;

  constructor(
    private readonly orm: MikroORM,
    private readonly bus: Bus,
    private readonly jobs: JobStore,
    private readonly log: Logger,
  ) {}

  onApplied(l: AppliedListener): void {
    this.listeners.push(l);
  }

  async start(): Promise<void> {
    void this.loop();
  }

  stop(): void {
    this.stopped = true;
    this.stopMsgs?.();
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      try {
        const consumer = await this.bus.js.consumers.get(this.bus.names.eventStream, this.bus.names.projectorConsumer);
        const msgs = await consumer.consume({ max_messages: 64 });
        this.stopMsgs = () => void msgs.stop();
        for await (const m of msgs) {
          let event: JobEvent;
          try {
            event = JobEvent.parse(m.json());
          } catch (e) {
            this.log.error({ err: e, subject: m.subject }, 'invalid event: dropped');
            m.term();
            continue;
          }
          try {
            await this.handle(event);
            m.ack();
          } catch (e) {
            this.log.warn({ err: (e as Error).message, job_id: event.job_id }, 'event not projected yet; redelivering');
            m.nak(1_000);
          }
        }
      } catch (e) {
        if (this.stopped) return;
        this.log.warn({ err: (e as Error).message }, 'projector consumer interrupted; re-establishing');
        await new Promise((r) => setTimeout(r, 1_000));
      }
    }
  }

  /** Applies one event and runs the listeners (pipeline coordinator, project state). Idempotent. */
  async handle(event: JobEvent): Promise<Applied | null> {
    const applied = await this.orm.em.fork().transactional((em) => this.apply(em, event));
    if (!applied) return null;
    for (const l of this.listeners) await l(applied);
    return applied;
  }

  private async apply(em: EntityManager, e: JobEvent): Promise<Applied | null> {
    const locked = await em.execute<{ status: JobStatus }[]>(`select status from jobs where id = ? for update`, [e.job_id]);
    const current = locked[0];
    if (!current) {
      this.log.debug({ job_id: e.job_id }, 'event for an unknown job: ignored');
      return null;
    }
    const inserted = await em.execute<{ id: number }[]>(
      `insert into job_events (event_id, job_id, trace_id, kind, stage, progress_percent, detail_message, attempt, service, body, at)
       values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?::jsonb, ?) on conflict (event_id) do nothing returning id`,
      [e.event_id, e.job_id, e.trace_id, e.kind, e.stage, e.progress_percent, e.detail_message, e.attempt, e.service, JSON.stringify(e), e.at],
    );
    if (inserted.length === 0) return null; // the same event again
    if (isTerminal(current.status)) return null; // late event: recorded, but a finished job stays finished

    const job = (await this.jobs.find(e.job_id, em))!;
    const at = new Date(e.at);
    let timings: StageTiming[] = [...(job.r_timings ?? [])];
    let stage = job.r_stage;
    let progress = Number(job.r_progress);
    let detail = e.detail_message ?? job.r_detail;
    const closeStage = () => {
      const open = timings.at(-1);
      if (open && open.finished_at === null) {
        open.finished_at = at.toISOString();
        open.duration_ms = Math.max(0, at.getTime() - Date.parse(open.started_at));
        metrics.stageDuration.observe({ type: job.type, stage: open.stage }, open.duration_ms / 1000);
      }
    };
    let status: JobStatus = current.status;
    const finalStatus = FINAL[e.kind];

    if (e.kind === 'started') {
      status = 'running';
      await em.execute(`update jobs set status = 'running', started_at = coalesce(started_at, ?), updated_at = now() where id = ?`, [at, e.job_id]);
      detail = e.attempt > 1 ? `Started again (attempt ${e.attempt})` : 'Started';
    } else if (e.kind === 'progress') {
      if (status === 'queued') {
        status = 'running';
        await em.execute(`update jobs set status = 'running', started_at = coalesce(started_at, ?), updated_at = now() where id = ?`, [at, e.job_id]);
      }
      if (e.stage && e.stage !== stage) {
        closeStage();
        if (!timings.some((t) => t.stage === e.stage && t.finished_at === null)) timings.push({ stage: e.stage, started_at: at.toISOString(), finished_at: null, duration_ms: null });
        stage = e.stage;
      }
      if (e.progress_percent !== null) progress = Math.max(progress, e.progress_percent);
    } else if (finalStatus) {
      closeStage();
      status = finalStatus;
      if (finalStatus === 'succeeded') {
        progress = 100;
        detail = e.detail_message ?? 'Done';
      } else {
        stage = finalStatus;
        detail = e.error?.message ?? e.detail_message ?? (finalStatus === 'canceled' ? 'Canceled' : 'Failed');
      }
      await em.execute(
        `update jobs set status = ?, result = ?::jsonb, error = ?::jsonb, started_at = coalesce(started_at, ?), finished_at = ?, updated_at = now() where id = ?`,
        [finalStatus, e.result ? JSON.stringify(e.result) : null, e.error ? JSON.stringify(e.error) : null, at, at, e.job_id],
      );
      metrics.jobsFinished.inc({ type: job.type, outcome: finalStatus });
      // Generative → classic fallbacks (issue #5): counted once, when the job's success is projected.
      const fallbackReason = (e.result as { fallback_reason?: unknown } | null)?.fallback_reason;
      if (finalStatus === 'succeeded' && (job.type === 'transition' || job.type === 'last_clip') && typeof fallbackReason === 'string')
        metrics.transitionFallbacks.inc({ reason: fallbackReason });
      metrics.workerJobs.inc({ service: e.service, worker: e.worker ?? 'unknown', outcome: finalStatus });
      await this.updateProject(em, job, finalStatus, e);
    }
    timings = timings.slice(-200);
    await em.execute(
      `update job_runtimes set stage = ?, progress_percent = ?, detail_message = ?, stage_timings = ?::jsonb, updated_at = now() where job_id = ?`,
      [stage, progress, detail, JSON.stringify(timings), e.job_id],
    );
    jobLogger(this.log, { job_id: job.id, trace_id: job.trace_id }, stage).debug({ kind: e.kind, progress }, 'event projected');
    const fresh = (await this.jobs.find(e.job_id, em))!;
    return { job: fresh, event: e, finished: Boolean(finalStatus) };
  }

  /** A project's status and video follow its top-level job and its renders. */
  private async updateProject(em: EntityManager, job: JobRecord, status: JobStatus, e: JobEvent): Promise<void> {
    if (!job.project_id) return;
    if (job.type === 'render' && status === 'succeeded' && e.result) {
      const r = RenderResult.parse(e.result);
      const video = {
        job_id: job.id,
        url: `/api/v1/projects/${job.project_id}/video`,
        poster_url: `/api/v1/projects/${job.project_id}/poster`,
        duration_seconds: r.duration_seconds,
        size_bytes: r.size_bytes,
        video_key: r.video_key,
        poster_key: r.poster_key,
      };
      await em.execute(`update projects set video = ?::jsonb, updated_at = now() where id = ?`, [JSON.stringify(video), job.project_id]);
    }
    if (job.parent_job_id) return;
    const next =
      job.type === 'pipeline' || job.type === 'render'
        ? ({ succeeded: 'completed', failed: 'failed', canceled: 'canceled' } as const)[status as 'succeeded']
        : null;
    if (next) await em.execute(`update projects set status = ?, updated_at = now() where id = ?`, [next, job.project_id]);
    else await em.execute(`update projects set status = case when video is null then 'draft' else 'completed' end, updated_at = now() where id = ? and status = 'running'`, [job.project_id]);
  }
}
