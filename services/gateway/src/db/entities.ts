import { defineEntity, type InferEntity, p } from '@mikro-orm/postgresql';
import type { JobError, JobStatus, JobType, ProjectStatus, ProjectVideo } from '@mt/contracts';

// Property names are the column names (snake_case), so the SQL in repositories reads the same.
export const ProjectEntity = defineEntity({
  name: 'Project',
  tableName: 'projects',
  properties: {
    id: p.string().primary(),
    title: p.text(),
    subject_name: p.text().nullable(),
    born: p.text().nullable(),
    died: p.text().nullable(),
    status: p.string().$type<ProjectStatus>(),
    transition_seconds: p.integer(),
    transition_style: p.string(),
    resolution: p.string(),
    fps: p.integer(),
    /** Issue 13: `lower_third` | `off`. */
    caption_style: p.string().$type<'lower_third' | 'off'>(),
    video: p.json<ProjectVideo & { video_key: string; poster_key: string }>().nullable(),
    created_at: p.datetime(),
    updated_at: p.datetime(),
  },
});
export type ProjectRow = InferEntity<typeof ProjectEntity>;

export const AssetEntity = defineEntity({
  name: 'Asset',
  tableName: 'assets',
  properties: {
    id: p.string().primary(),
    project_id: p.string(),
    kind: p.string().$type<'photo' | 'audio'>(),
    filename: p.text(),
    content_type: p.string(),
    size_bytes: p.bigint('number'),
    sha256: p.string(),
    width: p.integer().nullable(),
    height: p.integer().nullable(),
    duration_seconds: p.double().nullable(),
    position: p.integer().nullable(),
    object_key: p.text(),
    /** Made once at upload (v1.2); null for audio and for photos uploaded before thumbnails existed. */
    thumbnail_key: p.text().nullable(),
    /** v1.3: the name a contributor typed (contribute links); null for members' uploads. */
    contributor_name: p.text().nullable(),
    /** v1.3: pending photos (a moderated contribute link's) are in no video until a member approves them. */
    review: p.string().$type<'approved' | 'pending'>(),
    /** v1.3: the contribute link it came through (null once that link is revoked, or for members' uploads). */
    link_id: p.string().nullable(),
    /** Issue 13: the photo's caption (1–200 characters), shown over it in the video; null: none. */
    caption: p.text().nullable(),
    created_at: p.datetime(),
  },
});
export type AssetRow = InferEntity<typeof AssetEntity>;

export interface StageTiming {
  stage: string;
  started_at: string;
  finished_at: string | null;
  duration_ms: number | null;
}

export const JobEntity = defineEntity({
  name: 'Job',
  tableName: 'jobs',
  properties: {
    id: p.string().primary(),
    type: p.string().$type<JobType>(),
    status: p.string().$type<JobStatus>(),
    project_id: p.string().nullable(),
    parent_job_id: p.string().nullable(),
    step_key: p.string().nullable(),
    trace_id: p.string(),
    params: p.json<Record<string, unknown>>(),
    payload: p.json<Record<string, unknown>>(),
    result: p.json<Record<string, unknown>>().nullable(),
    error: p.json<JobError>().nullable(),
    attempt: p.integer(),
    /** The account the job belongs to: the memorial's owner; for a test job, who made it (v1.1). */
    account_id: p.string().nullable(),
    published_at: p.datetime().nullable(),
    created_at: p.datetime(),
    started_at: p.datetime().nullable(),
    finished_at: p.datetime().nullable(),
    updated_at: p.datetime(),
  },
});
export type JobRow = InferEntity<typeof JobEntity>;

export const JobRuntimeEntity = defineEntity({
  name: 'JobRuntime',
  tableName: 'job_runtimes',
  properties: {
    job_id: p.string().primary(),
    stage: p.string(),
    progress_percent: p.double(),
    detail_message: p.text().nullable(),
    cancel_requested: p.boolean(),
    stage_timings: p.json<StageTiming[]>(),
    updated_at: p.datetime(),
  },
});
export type JobRuntimeRow = InferEntity<typeof JobRuntimeEntity>;

export const JobEventEntity = defineEntity({
  name: 'JobEvent',
  tableName: 'job_events',
  properties: {
    id: p.bigint('number').primary().autoincrement(),
    event_id: p.string().unique(),
    job_id: p.string(),
    trace_id: p.string(),
    kind: p.string(),
    stage: p.string().nullable(),
    progress_percent: p.double().nullable(),
    detail_message: p.text().nullable(),
    attempt: p.integer(),
    service: p.string(),
    body: p.json<Record<string, unknown>>(),
    at: p.datetime(),
  },
});
export type JobEventRow = InferEntity<typeof JobEventEntity>;

/** What the relay publishes once the state change that wrote it has committed. */
export type OutboxKind = 'command' | 'event' | 'cancel';
export const OutboxEntity = defineEntity({
  name: 'OutboxMessage',
  tableName: 'outbox',
  properties: {
    id: p.bigint('number').primary().autoincrement(),
    kind: p.string().$type<OutboxKind>(),
    job_id: p.string(),
    body: p.json<Record<string, unknown>>(),
    created_at: p.datetime(),
    /** A relay that claimed the row holds it until then; after that another may take it. */
    lease_until: p.datetime().nullable(),
    sent_at: p.datetime().nullable(),
  },
});
export type OutboxRow = InferEntity<typeof OutboxEntity>;

export const entities = [ProjectEntity, AssetEntity, JobEntity, JobRuntimeEntity, JobEventEntity, OutboxEntity];
