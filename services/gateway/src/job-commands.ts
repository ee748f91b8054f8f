import { UniqueConstraintViolationException } from '@mikro-orm/postgresql';
import { type Bus, makeEvent } from '@mt/platform';
import { enqueueJob, type JobView, type NewJob, type Repositories, transaction } from './db/index.js';
import { ApiError, projectBusy } from './http-errors.js';
import { metrics } from './metrics.js';

/**
 * What the API does to jobs: create one (with the run guard) and cancel one. Every message goes out
 * through the outbox, written in the same transaction as the rows that cause it.
 */
export class JobCommands {
  constructor(
    private readonly repos: Repositories,
    private readonly bus: () => Bus | null,
    /** Publish what was just committed. */
    private readonly committed: () => void,
  ) {}

  /** Jobs are accepted only while the bus is there: a family is not left waiting on a job nobody can run yet. */
  private requireBus(): void {
    if (!this.bus()) throw new ApiError('dependency_unavailable', 'The message bus (NATS) is not reachable right now. Please try again in a moment.');
  }

  /**
   * Creates a top-level job; 409 `project_busy` when the project already has an active one (a unique index decides).
   * Returns the job as committed (queued): read after publishing, a quick worker may already have started it.
   */
  async create(j: NewJob): Promise<JobView> {
    this.requireBus();
    const { projects, jobs } = this.repos;
    try {
      const job = await transaction(this.repos, async (em) => {
        const id = await enqueueJob(this.repos, em, j);
        if (j.projectId && j.type === 'pipeline') await projects.setStatus(em, j.projectId, 'running');
        return (await jobs.find(id, em))!;
      });
      metrics.jobsCreated.inc({ type: j.type });
      this.committed();
      return job;
    } catch (e) {
      if (e instanceof UniqueConstraintViolationException && j.projectId)
        throw projectBusy(await jobs.activeJobId(j.projectId), 'This memorial is already being made. Wait for it to finish or cancel it first.');
      throw e;
    }
  }

  /**
   * Marks the job and its unfinished descendants cancel-requested and tells the workers; jobs that no
   * worker holds yet (queued, or a pipeline) end here with a `canceled` event. 409 when already final.
   */
  async cancel(id: string): Promise<void> {
    this.requireBus();
    const { jobs, outbox } = this.repos;
    await transaction(this.repos, async (em) => {
      const status = await jobs.lockStatus(em, id);
      if (status === 'succeeded' || status === 'failed' || status === 'canceled')
        throw new ApiError('job_finished', `This job has already ${status === 'succeeded' ? 'finished' : `ended (${status})`}.`, { status });
      const targets = await jobs.unfinishedTree(em, id);
      await jobs.markCancelRequested(
        em,
        targets.map((t) => t.id),
      );
      for (const t of targets) await outbox.add(em, { kind: 'cancel', body: { job_id: t.id, trace_id: t.trace_id } });
      for (const t of targets.filter((t) => t.status === 'queued' || t.type === 'pipeline'))
        await outbox.add(em, {
          kind: 'event',
          body: makeEvent({
            job_id: t.id,
            trace_id: t.trace_id,
            account_id: t.account_id,
            project_id: t.project_id,
            job_type: t.type,
            kind: 'canceled',
            attempt: 1,
            service: 'gateway',
            stage: 'canceled',
            detail_message: 'Canceled',
          }),
        });
    });
    this.committed();
  }
}
