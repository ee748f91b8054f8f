import type { EntityManager } from '@mikro-orm/postgresql';
import { DRAFT_RESOLUTION, isTerminal, JobEvent, type JobStatus, RenderResult } from '@mt/contracts';
import { type Bus, jobLogger, type Logger } from '@mt/platform';
import { type JobView, type Repositories, type StageTiming, transaction } from './db/index.js';
import { metrics } from './metrics.js';

export interface Applied {
  job: JobView;
  event: JobEvent;
  /** The job reached a final status with this event. */
  finished: boolean;
}
/**
 * Runs in the event's transaction: what a listener writes commits with the event or not at all. A
 * listener that throws rolls the event back, and its redelivery (about a second later) runs it again.
 */
export type AppliedListener = (a: Applied, em: EntityManager) => Promise<void>;

const FINAL: Partial<Record<JobEvent['kind'], JobStatus>> = { succeeded: 'succeeded', failed: 'failed', canceled: 'canceled' };
const PROJECT_AFTER_RUN = { succeeded: 'completed', failed: 'failed', canceled: 'canceled' } as const;
const REDELIVER_MS = 1_000;

/** Where a job's runtime goes with one event: a pure step, so the rules read in one place. */
export function nextRuntime(job: JobView, e: JobEvent): { status: JobStatus; stage: string; progress: number; detail: string | null; timings: StageTiming[] } {
  const at = new Date(e.at);
  const timings: StageTiming[] = (job.r_timings ?? []).map((t) => ({ ...t }));
  const closeStage = () => {
    const open = timings.at(-1);
    if (open && open.finished_at === null) {
      open.finished_at = at.toISOString();
      open.duration_ms = Math.max(0, at.getTime() - Date.parse(open.started_at));
    }
  };
  let status: JobStatus = job.status;
  let stage = job.r_stage;
  let progress = Number(job.r_progress);
  let detail = e.detail_message ?? job.r_detail ?? null;
  const final = FINAL[e.kind];
  if (e.kind === 'started') {
    status = 'running';
    detail = e.attempt > 1 ? `Started again (attempt ${e.attempt})` : 'Started';
  } else if (e.kind === 'progress') {
    if (status === 'queued') status = 'running';
    if (e.stage && e.stage !== stage) {
      closeStage();
      if (!timings.some((t) => t.stage === e.stage && t.finished_at === null))
        timings.push({ stage: e.stage, started_at: at.toISOString(), finished_at: null, duration_ms: null });
      stage = e.stage;
    }
    if (e.progress_percent !== null) progress = Math.max(progress, e.progress_percent);
  } else if (final) {
    closeStage();
    status = final;
    if (final === 'succeeded') {
      progress = 100;
      detail = e.detail_message ?? 'Done';
    } else {
      stage = final;
      detail = e.error?.message ?? e.detail_message ?? (final === 'canceled' ? 'Canceled' : 'Failed');
    }
  }
  return { status, stage, progress, detail, timings: timings.slice(-200) };
}

/**
 * The runtime projector: the only writer of job progress. It consumes every event durably, records
 * it once (`event_id` is unique), and moves the job and its runtime forward: progress never goes
 * backwards and a finished job is never revived by a late event. Listeners (the coordinator) run in
 * the same transaction.
 */
export class Projector {
  private listeners: AppliedListener[] = [];
  private stopped = false;
  private stopMsgs?: () => void;

  constructor(
    private readonly repos: Repositories,
    private readonly bus: Bus,
    private readonly log: Logger,
    /** Called after a transaction that may have written outbox messages has committed. */
    private readonly committed: () => void = () => {},
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
          const parsed = JobEvent.safeParse(m.json());
          if (!parsed.success) {
            this.log.error({ err: parsed.error.message, subject: m.subject }, 'invalid event: dropped');
            m.term();
            continue;
          }
          try {
            await this.handle(parsed.data);
            m.ack();
          } catch (e) {
            this.log.warn({ err: (e as Error).message, job_id: parsed.data.job_id }, 'event not projected yet; redelivering');
            m.nak(REDELIVER_MS);
          }
        }
      } catch (e) {
        if (this.stopped) return;
        this.log.warn({ err: (e as Error).message }, 'projector consumer interrupted; re-establishing');
        await new Promise((r) => setTimeout(r, 1_000));
      }
    }
  }

  /** Applies one event and runs the listeners, all in one transaction. Idempotent. */
  async handle(event: JobEvent): Promise<Applied | null> {
    const applied = await transaction(this.repos, async (em) => {
      const a = await this.apply(em, event);
      if (a) for (const l of this.listeners) await l(a, em);
      return a;
    });
    if (applied) {
      this.observe(applied);
      this.committed();
    }
    return applied;
  }

  private async apply(em: EntityManager, e: JobEvent): Promise<Applied | null> {
    const { jobs, events } = this.repos;
    const current = await jobs.lockStatus(em, e.job_id);
    if (!current) {
      this.log.debug({ job_id: e.job_id }, 'event for an unknown job: ignored');
      return null;
    }
    if (!(await events.record(em, e))) return null; // the same event again
    if (isTerminal(current)) return null; // late event: recorded, but a finished job stays finished

    const job = (await jobs.find(e.job_id, em))!;
    const next = nextRuntime(job, e);
    const at = new Date(e.at);
    const final = FINAL[e.kind];
    if (final) {
      await jobs.finish(em, job.id, { status: final, result: e.result, error: e.error, at });
      await this.updateProject(em, job, final, e);
    } else if (e.kind === 'started' || job.status === 'queued') await jobs.markRunning(em, job.id, at);
    await jobs.updateRuntime(em, job.id, next);
    jobLogger(this.log, { job_id: job.id, trace_id: job.trace_id }, next.stage).debug({ kind: e.kind, progress: next.progress }, 'event projected');
    const fresh: JobView = {
      ...job,
      status: next.status,
      result: final ? e.result : job.result,
      error: final ? e.error : job.error,
      r_stage: next.stage,
      r_progress: next.progress,
      r_detail: next.detail,
      r_timings: next.timings,
    };
    return { job: fresh, event: e, finished: Boolean(final) };
  }

  /** Counted once the event's transaction has committed (a rolled-back one is applied again). */
  private observe({ job, event: e, finished }: Applied): void {
    const closed = job.r_timings.filter((t) => t.finished_at === e.at && t.duration_ms !== null);
    for (const t of closed) metrics.stageDuration.observe({ type: job.type, stage: t.stage }, t.duration_ms! / 1000);
    if (!finished) return;
    metrics.jobsFinished.inc({ type: job.type, outcome: job.status });
    metrics.workerJobs.inc({ service: e.service, worker: e.worker ?? 'unknown', outcome: job.status });
    // Generative → classic fallbacks (issue #5): counted once, when the job's success is projected.
    const fallbackReason = (e.result as { fallback_reason?: unknown } | null)?.fallback_reason;
    if (job.status === 'succeeded' && (job.type === 'transition' || job.type === 'last_clip') && typeof fallbackReason === 'string')
      metrics.transitionFallbacks.inc({ reason: fallbackReason });
  }

  /**
   * A project's status and video follow its top-level job and its renders. A draft preview (its
   * render at DRAFT_RESOLUTION, its pipeline `params.draft`) never becomes the video, and when it ends
   * the memorial goes back to what it was, as after any job that is not a run.
   */
  private async updateProject(em: EntityManager, job: JobView, status: JobStatus, e: JobEvent): Promise<void> {
    const { projects } = this.repos;
    if (!job.project_id) return;
    const draft = job.params.draft === true || job.params.resolution === DRAFT_RESOLUTION;
    if (job.type === 'render' && status === 'succeeded' && e.result && !draft) {
      const r = RenderResult.parse(e.result);
      await projects.setVideo(em, job.project_id, {
        job_id: job.id,
        url: `/api/v1/projects/${job.project_id}/video`,
        poster_url: `/api/v1/projects/${job.project_id}/poster`,
        duration_seconds: r.duration_seconds,
        size_bytes: r.size_bytes,
        video_key: r.video_key,
        poster_key: r.poster_key,
      });
    }
    if (job.parent_job_id) return;
    if ((job.type === 'pipeline' || job.type === 'render') && !draft)
      await projects.setStatus(em, job.project_id, PROJECT_AFTER_RUN[status as keyof typeof PROJECT_AFTER_RUN]);
    else await projects.settle(em, job.project_id);
  }
}
