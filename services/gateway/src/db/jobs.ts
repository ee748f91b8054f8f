import { randomUUID } from 'node:crypto';
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import type { CommandEnvelope, JobError, JobStatus, JobType, OutputResolution } from '@mt/contracts';
import { CLIP_VERSION } from '@mt/media';
import { startRootSpan } from '@mt/platform';
import { decodeCursor, page } from './cursor.js';
import type { JobRow, JobRuntimeRow, StageTiming } from './entities.js';

/** A job with its runtime (one row each, 1:1: the runtime is the job's live part, written by the projector). */
export type JobView = JobRow & {
  r_stage: JobRuntimeRow['stage'];
  r_progress: JobRuntimeRow['progress_percent'];
  r_detail: JobRuntimeRow['detail_message'];
  r_cancel: JobRuntimeRow['cancel_requested'];
  r_timings: JobRuntimeRow['stage_timings'];
  r_updated_at: JobRuntimeRow['updated_at'];
};

export interface NewJob {
  type: JobType;
  projectId?: string | null;
  parentJobId?: string | null;
  stepKey?: string | null;
  traceId?: string;
  /** The account the job belongs to; for a job of a memorial, its owner (looked up when not given). */
  accountId?: string | null;
  params: Record<string, unknown>;
  /** Builds the command payload once the job id is known (object keys are laid out by job). */
  payload: Record<string, unknown> | ((jobId: string) => Record<string, unknown>);
}

export interface JobListQuery {
  status?: JobStatus;
  type?: JobType;
  project_id?: string;
  limit: number;
  cursor?: string;
}

/** Which jobs a caller's list shows: those of the account's memorials, and its own test jobs. */
export type JobScope = { accountId: string };

/** The output a clip was made for: a clip is reusable only for the same one. */
export interface ClipSettings {
  seconds: number;
  resolution: OutputResolution;
  fps: number;
}

const SELECT_JOB = `select j.*, r.stage as r_stage, r.progress_percent as r_progress, r.detail_message as r_detail,
  r.cancel_requested as r_cancel, r.stage_timings as r_timings, r.updated_at as r_updated_at
  from jobs j join job_runtimes r on r.job_id = j.id`;

/** The `jobs` and `job_runtimes` tables: the only module that writes SQL for them. */
export class JobRepo {
  constructor(private readonly orm: MikroORM) {}

  em(): EntityManager {
    return this.orm.em.fork();
  }

  /** Writes the job and its runtime; returns the command to publish (through the outbox, same transaction). */
  async insert(em: EntityManager, j: NewJob): Promise<CommandEnvelope> {
    const id = randomUUID();
    let traceId = j.traceId;
    if (!traceId) {
      const span = startRootSpan(`job ${j.type}`);
      traceId = span.spanContext().traceId;
      span.end();
    }
    const payload = typeof j.payload === 'function' ? j.payload(id) : j.payload;
    const projectId = j.projectId ?? null;
    const [row] = await em.execute<{ account_id: string | null }[]>(
      `insert into jobs (id, type, status, project_id, parent_job_id, step_key, trace_id, params, payload, account_id)
       values (?, ?, 'queued', ?, ?, ?, ?, ?::jsonb, ?::jsonb,
               coalesce(?, (select account_id from project_members where project_id = ? and role = 'owner')))
       returning account_id`,
      [
        id,
        j.type,
        projectId,
        j.parentJobId ?? null,
        j.stepKey ?? null,
        traceId,
        JSON.stringify(j.params),
        JSON.stringify(payload),
        j.accountId ?? null,
        projectId,
      ],
    );
    await em.execute(`insert into job_runtimes (job_id, stage, detail_message) values (?, 'queued', 'Waiting for a worker')`, [id]);
    return { job_id: id, trace_id: traceId, type: j.type, attempt: 1, account_id: row?.account_id ?? null, payload };
  }

  async find(id: string, em = this.em()): Promise<JobView | null> {
    const rows = await em.execute<JobView[]>(`${SELECT_JOB} where j.id = ?`, [id]);
    return rows[0] ?? null;
  }

  /** The job's status, its row locked until the transaction ends; null when there is no such job. */
  async lockStatus(em: EntityManager, id: string): Promise<JobStatus | null> {
    const rows = await em.execute<{ status: JobStatus }[]>(`select status from jobs where id = ? for update`, [id]);
    return rows[0]?.status ?? null;
  }

  async children(parentId: string, em = this.em()): Promise<JobView[]> {
    return em.execute<JobView[]>(`${SELECT_JOB} where j.parent_job_id = ? order by j.created_at, j.id`, [parentId]);
  }

  async activeJobId(projectId: string, em = this.em()): Promise<string | null> {
    const rows = await em.execute<{ id: string }[]>(
      `select id from jobs where project_id = ? and parent_job_id is null and status in ('queued','running') limit 1`,
      [projectId],
    );
    return rows[0]?.id ?? null;
  }

  async list(scope: JobScope, q: JobListQuery): Promise<{ items: JobView[]; next_cursor: string | null }> {
    const where: string[] = [`(j.project_id in (select project_id from project_members where account_id = ?) or (j.project_id is null and j.account_id = ?))`];
    const params: unknown[] = [scope.accountId, scope.accountId];
    const filter = (sql: string, value: unknown) => {
      where.push(sql);
      params.push(value);
    };
    if (q.status) filter('j.status = ?', q.status);
    if (q.type) filter('j.type = ?', q.type);
    if (q.project_id) filter('j.project_id = ?', q.project_id);
    const cur = decodeCursor(q.cursor);
    if (cur) {
      where.push('(j.created_at, j.id) < (?::timestamptz, ?)');
      params.push(cur.t, cur.id);
    }
    params.push(q.limit + 1);
    const rows = await this.em().execute<JobView[]>(`${SELECT_JOB} where ${where.join(' and ')} order by j.created_at desc, j.id desc limit ?`, params);
    return page(rows, q.limit);
  }

  /** Whether any job of the project (a step included) is still queued or running. */
  async anyUnfinished(em: EntityManager, projectId: string): Promise<string | null> {
    const rows = await em.execute<{ id: string }[]>(
      `select id from jobs where project_id = ? and status in ('queued','running') order by parent_job_id nulls first limit 1`,
      [projectId],
    );
    return rows[0]?.id ?? null;
  }

  /** The job and its unfinished descendants. */
  async unfinishedTree(em: EntityManager, id: string): Promise<JobView[]> {
    return em.execute<JobView[]>(
      `with recursive tree as (select id from jobs where id = ? union all select c.id from jobs c join tree t on c.parent_job_id = t.id)
       ${SELECT_JOB} where j.id in (select id from tree) and j.status in ('queued','running')`,
      [id],
    );
  }

  async markCancelRequested(em: EntityManager, ids: string[]): Promise<void> {
    if (ids.length)
      await em.execute(`update job_runtimes set cancel_requested = true, updated_at = now() where job_id = any(?::text[])`, [`{${ids.join(',')}}`]);
  }

  async markRunning(em: EntityManager, id: string, at: Date): Promise<void> {
    await em.execute(`update jobs set status = 'running', started_at = coalesce(started_at, ?), updated_at = now() where id = ?`, [at, id]);
  }

  async finish(
    em: EntityManager,
    id: string,
    f: { status: JobStatus; result: Record<string, unknown> | null; error: JobError | null; at: Date },
  ): Promise<void> {
    await em.execute(
      `update jobs set status = ?, result = ?::jsonb, error = ?::jsonb, started_at = coalesce(started_at, ?), finished_at = ?, updated_at = now() where id = ?`,
      [f.status, f.result ? JSON.stringify(f.result) : null, f.error ? JSON.stringify(f.error) : null, f.at, f.at, id],
    );
  }

  async updateRuntime(em: EntityManager, id: string, r: { stage: string; progress: number; detail: string | null; timings: StageTiming[] }): Promise<void> {
    await em.execute(
      `update job_runtimes set stage = ?, progress_percent = ?, detail_message = ?, stage_timings = ?::jsonb, updated_at = now() where job_id = ?`,
      [r.stage, r.progress, r.detail, JSON.stringify(r.timings), id],
    );
  }

  /** Adds to a job's params once (`key` absent): the pipeline's plan is fixed when it starts. */
  async addParamOnce(id: string, key: string, value: unknown): Promise<void> {
    await this.em().execute(`update jobs set params = params || ?::jsonb where id = ? and (params->?) is null`, [JSON.stringify({ [key]: value }), id, key]);
  }

  async runningPipelineIds(): Promise<string[]> {
    const rows = await this.em().execute<{ id: string }[]>(
      `select id from jobs where type = 'pipeline' and status = 'running' and (params->'plan') is not null`,
    );
    return rows.map((r) => r.id);
  }

  /** Running jobs with no event for `staleMs`, claimed (skip locked) until the transaction ends. */
  async claimStale(em: EntityManager, staleMs: number, limit: number): Promise<JobView[]> {
    return em.execute<JobView[]>(
      `${SELECT_JOB} where j.status = 'running' and j.type <> 'pipeline' and r.updated_at < now() - (? * interval '1 millisecond')
       order by r.updated_at limit ? for update of j skip locked`,
      [staleMs, limit],
    );
  }

  async setAttempt(em: EntityManager, id: string, attempt: number): Promise<void> {
    await em.execute(`update jobs set attempt = ? where id = ?`, [attempt, id]);
  }

  /**
   * The newest good transition clip of a pair for these settings, made by the current clip method,
   * showing these captions (issue 13; null = none, as clips made before captions show).
   */
  async latestTransition(projectId: string, fromId: string, toId: string, s: ClipSettings, captions: unknown = null, em = this.em()): Promise<JobView | null> {
    const rows = await em.execute<JobView[]>(
      `${SELECT_JOB} where j.project_id = ? and j.type = 'transition' and j.status = 'succeeded'
         and j.payload->'from'->>'asset_id' = ? and j.payload->'to'->>'asset_id' = ?
         and (j.payload->>'seconds')::int = ? and j.payload->>'resolution' = ? and (j.payload->>'fps')::int = ?
         and (j.result->>'method_version')::int = ?
         and coalesce(j.payload->'captions', 'null'::jsonb) = ?::jsonb
       order by j.finished_at desc limit 1`,
      [projectId, fromId, toId, s.seconds, s.resolution, s.fps, CLIP_VERSION, JSON.stringify(captions ?? null)],
    );
    return rows[0] ?? null;
  }

  /** The newest good closing clip of a photo for these settings, made by the current clip method, showing this caption (null: none). */
  async latestLastClip(projectId: string, assetId: string, s: ClipSettings, caption: string | null = null, em = this.em()): Promise<JobView | null> {
    const rows = await em.execute<JobView[]>(
      `${SELECT_JOB} where j.project_id = ? and j.type = 'last_clip' and j.status = 'succeeded'
         and j.payload->'asset'->>'asset_id' = ? and (j.payload->>'seconds')::int = ? and j.payload->>'resolution' = ? and (j.payload->>'fps')::int = ?
         and (j.result->>'method_version')::int = ?
         and coalesce(j.payload->>'caption', '') = ?
       order by j.finished_at desc limit 1`,
      [projectId, assetId, s.seconds, s.resolution, s.fps, CLIP_VERSION, caption ?? ''],
    );
    return rows[0] ?? null;
  }
}
