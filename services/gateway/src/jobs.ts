import { randomUUID } from 'node:crypto';
import { UniqueConstraintViolationException, type EntityManager, type MikroORM } from '@mikro-orm/postgresql';
import { isTerminal, type Job, type JobStatus, type JobType, type Runtime } from '@mt/contracts';
import { startRootSpan, type Logger } from '@mt/platform';
import type { StageTiming } from './db/entities.js';
import { ApiError, notFound } from './http-errors.js';

export interface JobRecord {
  id: string;
  type: JobType;
  status: JobStatus;
  project_id: string | null;
  parent_job_id: string | null;
  step_key: string | null;
  trace_id: string;
  params: Record<string, unknown>;
  payload: Record<string, unknown>;
  result: Record<string, unknown> | null;
  error: { code: string; message: string; stage?: string | null } | null;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
  r_stage: string;
  r_progress: number;
  r_detail: string | null;
  r_cancel: boolean;
  r_timings: StageTiming[];
  r_updated_at: Date;
}

const SELECT_JOB = `select j.*, r.stage as r_stage, r.progress_percent as r_progress, r.detail_message as r_detail,
  r.cancel_requested as r_cancel, r.stage_timings as r_timings, r.updated_at as r_updated_at
  from jobs j join job_runtimes r on r.job_id = j.id`;

const iso = (d: Date | string | null) => (d === null ? null : new Date(d).toISOString());

export function runtimeDto(j: JobRecord): Runtime {
  return {
    job_id: j.id,
    stage: j.r_stage,
    progress_percent: Math.round(Number(j.r_progress) * 10) / 10,
    detail_message: j.r_detail,
    cancel_requested: j.r_cancel,
    updated_at: iso(j.r_updated_at)!,
    stages: (j.r_timings ?? []).map((s) => ({ ...s })),
  };
}

export function jobDto(j: JobRecord): Job {
  return {
    id: j.id,
    type: j.type,
    status: j.status,
    project_id: j.project_id,
    parent_job_id: j.parent_job_id,
    trace_id: j.trace_id,
    params: j.params ?? {},
    result: j.result,
    error: j.error ? { code: j.error.code, message: j.error.message, stage: j.error.stage ?? null } : null,
    created_at: iso(j.created_at)!,
    started_at: iso(j.started_at),
    finished_at: iso(j.finished_at),
    runtime: runtimeDto(j),
  };
}

export interface NewJob {
  type: JobType;
  projectId?: string | null;
  parentJobId?: string | null;
  stepKey?: string | null;
  traceId?: string;
  params: Record<string, unknown>;
  /** Builds the command payload once the job id is known (object keys are laid out by job). */
  payload: Record<string, unknown> | ((jobId: string) => Record<string, unknown>);
}

/** Jobs: rows, the run guard, listing and cancel. Publishing is the outbox's work. */
export class JobStore {
  constructor(
    private readonly orm: MikroORM,
    private readonly log: Logger,
  ) {}

  em(): EntityManager {
    return this.orm.em.fork();
  }

  /**
   * Writes the job and its runtime in one transaction; the outbox publishes it after commit, so a
   * crash between the two never leaves a job that nobody will run. A second active top-level job for
   * the same project violates a unique index: that is the run guard, decided by the database.
   */
  async insert(em: EntityManager, j: NewJob): Promise<string> {
    const id = randomUUID();
    let traceId = j.traceId;
    if (!traceId) {
      const span = startRootSpan(`job ${j.type}`);
      traceId = span.spanContext().traceId;
      span.end();
    }
    const payload = typeof j.payload === 'function' ? j.payload(id) : j.payload;
    await em.execute(
      `insert into jobs (id, type, status, project_id, parent_job_id, step_key, trace_id, params, payload)
       values (?, ?, 'queued', ?, ?, ?, ?, ?::jsonb, ?::jsonb)`,
      [id, j.type, j.projectId ?? null, j.parentJobId ?? null, j.stepKey ?? null, traceId, JSON.stringify(j.params), JSON.stringify(payload)],
    );
    await em.execute(`insert into job_runtimes (job_id, stage, detail_message) values (?, 'queued', 'Waiting for a worker')`, [id]);
    return id;
  }

  /** Creates a top-level job; 409 `project_busy` when the project already has an active one. */
  async create(j: NewJob): Promise<Job> {
    const em = this.em();
    try {
      const id = await em.transactional(async (tem) => {
        const id = await this.insert(tem, j);
        if (j.projectId && j.type === 'pipeline')
          await tem.execute(`update projects set status = 'running', updated_at = now() where id = ?`, [j.projectId]);
        return id;
      });
      return this.get(id);
    } catch (e) {
      if (e instanceof UniqueConstraintViolationException && j.projectId) {
        const active = await this.activeJobId(j.projectId);
        throw new ApiError('project_busy', 'This memorial is already being made. Wait for it to finish or cancel it first.', {
          active_job_id: active,
        });
      }
      throw e;
    }
  }

  async activeJobId(projectId: string, em = this.em()): Promise<string | null> {
    const rows = await em.execute<{ id: string }[]>(
      `select id from jobs where project_id = ? and parent_job_id is null and status in ('queued','running') limit 1`,
      [projectId],
    );
    return rows[0]?.id ?? null;
  }

  async find(id: string, em = this.em()): Promise<JobRecord | null> {
    const rows = await em.execute<JobRecord[]>(`${SELECT_JOB} where j.id = ?`, [id]);
    return rows[0] ?? null;
  }

  async get(id: string): Promise<Job> {
    const j = await this.find(id);
    if (!j) throw notFound('Job', id);
    return jobDto(j);
  }

  async children(parentId: string, em = this.em()): Promise<JobRecord[]> {
    return em.execute<JobRecord[]>(`${SELECT_JOB} where j.parent_job_id = ? order by j.created_at, j.id`, [parentId]);
  }

  async list(q: { status?: string; type?: string; project_id?: string; limit: number; cursor?: string }): Promise<{ items: Job[]; next_cursor: string | null }> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (q.status) (where.push('j.status = ?'), params.push(q.status));
    if (q.type) (where.push('j.type = ?'), params.push(q.type));
    if (q.project_id) (where.push('j.project_id = ?'), params.push(q.project_id));
    const cur = decodeCursor(q.cursor);
    if (cur) (where.push('(j.created_at, j.id) < (?::timestamptz, ?)'), params.push(cur.t, cur.id));
    params.push(q.limit + 1);
    const rows = await this.em().execute<JobRecord[]>(
      `${SELECT_JOB} ${where.length ? `where ${where.join(' and ')}` : ''} order by j.created_at desc, j.id desc limit ?`,
      params,
    );
    const items = rows.slice(0, q.limit);
    const last = items.at(-1);
    return { items: items.map(jobDto), next_cursor: rows.length > q.limit && last ? encodeCursor(last.created_at, last.id) : null };
  }

  /**
   * Marks the job and its unfinished descendants cancel-requested and returns them, so the caller
   * can broadcast the cancel. 409 when the job has already finished.
   */
  async requestCancel(id: string): Promise<{ job: JobRecord; targets: JobRecord[] }> {
    const em = this.em();
    const job = await this.find(id, em);
    if (!job) throw notFound('Job', id);
    if (isTerminal(job.status)) throw new ApiError('job_finished', `This job has already ${job.status === 'succeeded' ? 'finished' : `ended (${job.status})`}.`, { status: job.status });
    const targets = await em.execute<JobRecord[]>(
      `with recursive tree as (select id from jobs where id = ? union all select c.id from jobs c join tree t on c.parent_job_id = t.id)
       ${SELECT_JOB} where j.id in (select id from tree) and j.status in ('queued','running')`,
      [id],
    );
    await em.execute(`update job_runtimes set cancel_requested = true, updated_at = now() where job_id in (${targets.map(() => '?').join(',') || 'null'})`, targets.map((t) => t.id));
    this.log.info({ job_id: id, trace_id: job.trace_id, targets: targets.length }, 'cancel requested');
    return { job: { ...job, r_cancel: true }, targets };
  }
}

export function encodeCursor(t: Date | string, id: string): string {
  return Buffer.from(JSON.stringify([new Date(t).toISOString(), id])).toString('base64url');
}
export function decodeCursor(c?: string): { t: string; id: string } | null {
  if (!c) return null;
  try {
    const [t, id] = JSON.parse(Buffer.from(c, 'base64url').toString()) as [string, string];
    if (typeof t !== 'string' || typeof id !== 'string' || Number.isNaN(Date.parse(t))) throw new Error();
    return { t, id };
  } catch {
    throw new ApiError('validation_failed', 'cursor: not a cursor this API gave out', { field: 'cursor' });
  }
}
