import { z } from 'zod';
import { CaptionStyle, Fps, JobStatus, JobType, ProjectStatus, Resolution, TransitionSeconds, TransitionStyle } from './enums.js';
import { JobError } from './errors.js';

const id = z.string().min(1).max(64);
const isoTime = z.string();
/** YYYY or YYYY-MM-DD, a real calendar date. */
export const PartialDate = z
  .string()
  .regex(/^\d{4}(-\d{2}-\d{2})?$/, 'use YYYY or YYYY-MM-DD')
  .refine((s) => s.length === 4 || (!Number.isNaN(Date.parse(`${s}T00:00:00Z`)) && new Date(`${s}T00:00:00Z`).toISOString().startsWith(s)), 'not a real date');

// ---------- projects ----------
export const CreateProjectRequest = z
  .object({
    title: z.string().trim().min(1).max(200),
    subject_name: z.string().trim().max(200).nullish(),
    born: PartialDate.nullish(),
    died: PartialDate.nullish(),
    transition_seconds: TransitionSeconds.default(6),
    transition_style: TransitionStyle.default('auto'),
    resolution: Resolution.default('1080p'),
    fps: Fps.default(30),
    /** Issue 13: how photo captions are shown. */
    caption_style: CaptionStyle.default('lower_third'),
  })
  .refine((p) => !p.born || !p.died || p.born.slice(0, 4) <= p.died.slice(0, 4), {
    message: 'died must not be before born',
    path: ['died'],
  })
  .meta({ id: 'CreateProjectRequest' });
export type CreateProjectRequest = z.infer<typeof CreateProjectRequest>;

export const ProjectSettings = z
  .object({
    transition_seconds: TransitionSeconds,
    transition_style: TransitionStyle,
    resolution: Resolution,
    fps: Fps,
    /** Issue 13: `lower_third` shows each photo's caption over its lower part; `off` shows none. */
    caption_style: CaptionStyle,
  })
  .meta({ id: 'ProjectSettings' });
export type ProjectSettings = z.infer<typeof ProjectSettings>;

export const ProjectVideo = z
  .object({
    job_id: z.string(),
    url: z.string(),
    duration_seconds: z.number(),
    size_bytes: z.number(),
    poster_url: z.string().nullish(),
  })
  .meta({ id: 'ProjectVideo' });
export type ProjectVideo = z.infer<typeof ProjectVideo>;

/** v1.4: a draft preview: `job_id` is its pipeline, `url` serves it with Range. */
export const ProjectPreview = z
  .object({
    job_id: z.string(),
    url: z.string(),
    duration_seconds: z.number(),
    size_bytes: z.number(),
  })
  .meta({ id: 'ProjectPreview' });
export type ProjectPreview = z.infer<typeof ProjectPreview>;

export const Project = z
  .object({
    id: z.string(),
    title: z.string(),
    subject_name: z.string().nullable(),
    born: z.string().nullable(),
    died: z.string().nullable(),
    status: ProjectStatus,
    settings: ProjectSettings,
    photo_count: z.number().int(),
    active_job_id: z.string().nullable(),
    video: ProjectVideo.nullable(),
    /** v1.2: the thumbnail of the first photo in order, for `<img src>`. */
    cover_url: z.string().nullable(),
    /** v1.4: the latest draft preview (854×480, `POST …/preview`); it never replaces `video`. */
    preview: ProjectPreview.nullable(),
    created_at: isoTime,
    updated_at: isoTime,
  })
  .meta({ id: 'Project' });
export type Project = z.infer<typeof Project>;

export const ListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(200).optional(),
});
export const ProjectList = z.object({ items: z.array(Project), next_cursor: z.string().nullable() }).meta({ id: 'ProjectList' });

// ---------- assets ----------
export const AssetKind = z.enum(['photo', 'audio']);
export type AssetKind = z.infer<typeof AssetKind>;
export const Asset = z
  .object({
    id: z.string(),
    project_id: z.string(),
    kind: AssetKind,
    filename: z.string(),
    content_type: z.string(),
    size_bytes: z.number().int(),
    sha256: z.string(),
    width: z.number().int().nullable(),
    height: z.number().int().nullable(),
    duration_seconds: z.number().nullable(),
    position: z.number().int().nullable(),
    /** v1.2: a thumbnail for `<img src>` (photos; null for audio). */
    thumbnail_url: z.string().nullable(),
    /** v1.3: who added it through a contribute link, as they typed it; null for members' uploads. */
    contributor_name: z.string().nullable(),
    /** v1.3: `pending` photos came through a moderated contribute link; no video uses them until a member approves. */
    review: z.enum(['approved', 'pending']),
    /** Issue 13: the photo's caption, shown over it in the video (null: none; always null for music). */
    caption: z.string().nullable(),
    created_at: isoTime,
  })
  .meta({ id: 'Asset' });
export type Asset = z.infer<typeof Asset>;
export const AssetList = z.object({ items: z.array(Asset) }).meta({ id: 'AssetList' });
/** Longest photo caption, in characters (Unicode code points). */
export const CAPTION_MAX_CHARS = 200;
/** A photo caption as given: any script, trimmed, no control characters (line breaks, tabs, NUL), at most 200 characters. */
export const CaptionText = z
  .string()
  .trim()
  .refine((s) => !/\p{Cc}/u.test(s), 'must not contain control characters (line breaks, tabs or NUL): one line of text')
  .refine((s) => [...s].length <= CAPTION_MAX_CHARS, `is too long: at most ${CAPTION_MAX_CHARS} characters`);
/** Issue 13: change a photo's caption (members only). Empty or null clears it. */
export const UpdateAssetRequest = z.object({ caption: CaptionText.nullable() }).meta({ id: 'UpdateAssetRequest' });
export type UpdateAssetRequest = z.infer<typeof UpdateAssetRequest>;
/** Issue 13: change a memorial's settings; only the caption style so far. */
export const UpdateProjectRequest = z.object({ caption_style: CaptionStyle.optional() }).meta({ id: 'UpdateProjectRequest' });
export type UpdateProjectRequest = z.infer<typeof UpdateProjectRequest>;
export const ReorderAssetsRequest = z.object({ asset_ids: z.array(id).min(1).max(1000) }).meta({ id: 'ReorderAssetsRequest' });
/** v1.2: remake one transition and render again, on the server. */
export const RemakeRequest = z.object({ from_asset_id: id, to_asset_id: id, style: TransitionStyle.optional() }).meta({ id: 'RemakeRequest' });
export type RemakeRequest = z.infer<typeof RemakeRequest>;

// ---------- jobs ----------
export const RuntimeStage = z
  .object({
    stage: z.string(),
    started_at: isoTime,
    finished_at: isoTime.nullable(),
    duration_ms: z.number().nullable(),
  })
  .meta({ id: 'RuntimeStage' });
export const Runtime = z
  .object({
    job_id: z.string(),
    stage: z.string(),
    progress_percent: z.number().min(0).max(100),
    detail_message: z.string().nullable(),
    cancel_requested: z.boolean(),
    updated_at: isoTime,
    stages: z.array(RuntimeStage),
  })
  .meta({ id: 'Runtime' });
export type Runtime = z.infer<typeof Runtime>;

export const Job = z
  .object({
    id: z.string(),
    type: JobType,
    status: JobStatus,
    project_id: z.string().nullable(),
    parent_job_id: z.string().nullable(),
    trace_id: z.string(),
    params: z.record(z.string(), z.unknown()),
    result: z.record(z.string(), z.unknown()).nullable(),
    error: JobError.nullable(),
    created_at: isoTime,
    started_at: isoTime.nullable(),
    finished_at: isoTime.nullable(),
    runtime: Runtime,
  })
  .meta({ id: 'Job' });
export type Job = z.infer<typeof Job>;
export const JobList = z.object({ items: z.array(Job), next_cursor: z.string().nullable() }).meta({ id: 'JobList' });
export const JobListQuery = ListQuery.extend({
  status: JobStatus.optional(),
  type: JobType.optional(),
  project_id: z.string().max(64).optional(),
});

export const TestJobRequest = z
  .object({
    steps: z.number().int().min(1).max(100).default(3),
    step_ms: z.number().int().min(0).max(60_000).default(200),
    fail_at_step: z.number().int().min(1).max(100).nullish(),
  })
  .meta({ id: 'TestJobRequest' });
export type TestJobRequest = z.infer<typeof TestJobRequest>;
export const ProjectJobRequest = z.object({ project_id: id }).meta({ id: 'ProjectJobRequest' });
export const TransitionJobRequest = z
  .object({
    project_id: id,
    from_asset_id: id,
    to_asset_id: id,
    duration_seconds: TransitionSeconds.optional(),
    style: TransitionStyle.optional(),
  })
  .meta({ id: 'TransitionJobRequest' });
export const LastClipJobRequest = z
  .object({
    project_id: id,
    asset_id: id,
    duration_seconds: TransitionSeconds.optional(),
  })
  .meta({ id: 'LastClipJobRequest' });
