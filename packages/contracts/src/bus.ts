import { z } from 'zod';
import { Fps, JobType, OutputResolution, Stage, TransitionSeconds, TransitionStyle } from './enums.js';
import { JobError } from './errors.js';

// ---------- subjects and streams ----------
/**
 * Subject and stream names under one namespace (`MT_NAMESPACE`, default `mt`), so that test runs
 * can share one NATS server without seeing each other's messages.
 */
export function busNames(ns = 'mt') {
  const NS = ns.toUpperCase().replace(/[^A-Z0-9_]/g, '_');
  return {
    commandStream: `${NS}_COMMANDS`,
    eventStream: `${NS}_EVENTS`,
    cancelStream: `${NS}_CANCELS`,
    command: (type: JobType) => `${ns}.cmd.${type}`,
    commandWildcard: `${ns}.cmd.>`,
    event: (jobId: string, kind: EventKind) => `${ns}.evt.${jobId}.${kind}`,
    eventsOfJob: (jobId: string) => `${ns}.evt.${jobId}.>`,
    eventWildcard: `${ns}.evt.>`,
    cancel: (jobId: string) => `${ns}.cancel.${jobId}`,
    cancelWildcard: `${ns}.cancel.>`,
    /** Durable consumer names: one per service type, shared by all its replicas. */
    consumer: (service: string) => `${NS}_${service.toUpperCase()}`,
    projectorConsumer: `${NS}_PROJECTOR`,
  };
}
export type BusNames = ReturnType<typeof busNames>;

/** Which service consumes which command types. */
export const SERVICE_COMMANDS = {
  canvas: ['canvas', 'test'],
  transition: ['transition', 'last_clip'],
  render: ['render'],
  coordinator: ['pipeline'],
} as const satisfies Record<string, readonly JobType[]>;
export type ServiceName = keyof typeof SERVICE_COMMANDS;

/** Headers every message carries besides the W3C `traceparent`. */
export const HEADER_JOB_ID = 'Mt-Job-Id';
export const HEADER_TRACE_ID = 'Mt-Trace-Id';

// ---------- object keys (laid out by project and job) ----------
/**
 * Object keys. An artifact that later jobs reuse (thumbnail, canvas, soundtrack) carries the version
 * of the method that made it, a named constant next to the code that makes it (THUMBNAIL_VERSION,
 * CANVAS_VERSION, SOUNDTRACK_VERSION in @mt/media): a change of method makes new keys, so an artifact
 * of an older method is never reused. Per-job outputs (clip, video, poster) are made once per job.
 */
export const objectKeys = {
  upload: (projectId: string, assetId: string) => `projects/${projectId}/uploads/${assetId}`,
  /** Beside the upload; WebP (the format makeThumbnail writes). */
  thumbnail: (projectId: string, assetId: string, version: number) => `projects/${projectId}/thumbnails/${assetId}-v${version}.webp`,
  /** The unversioned canvas keys of before were version 1. */
  canvas: (projectId: string, assetId: string, resolution: OutputResolution, version: number) =>
    `projects/${projectId}/canvases/${assetId}-${resolution}-v${version}.png`,
  /** The faces found on a canvas's photo (canvas coordinates), beside it: versioned by canvas and detection method. */
  canvasFaces: (projectId: string, assetId: string, resolution: string, canvasVersion: number, facesVersion: number) =>
    `projects/${projectId}/canvases/${assetId}-${resolution}-v${canvasVersion}-faces-v${facesVersion}.json`,
  clip: (projectId: string, jobId: string) => `projects/${projectId}/jobs/${jobId}/clip.mp4`,
  video: (projectId: string, jobId: string) => `projects/${projectId}/jobs/${jobId}/memorial.mp4`,
  poster: (projectId: string, jobId: string) => `projects/${projectId}/jobs/${jobId}/poster.jpg`,
  /** The music (or silence) under a video of `frames` at `fps`. */
  soundtrack: (projectId: string, musicAssetId: string | null, frames: number, fps: number, version: number) =>
    `projects/${projectId}/soundtracks/${musicAssetId ?? 'silence'}-${frames}f-${fps}fps-v${version}.m4a`,
  testArtifact: (jobId: string) => `jobs/${jobId}/test.json`,
};

// ---------- command payloads ----------
const AssetRef = z.object({ asset_id: z.string(), key: z.string(), content_type: z.string() });
export type AssetRef = z.infer<typeof AssetRef>;
/** `480p` only in a draft preview's jobs (DRAFT_RESOLUTION). */
const Output = z.object({ resolution: OutputResolution, fps: Fps });

export const TestPayload = z.object({
  steps: z.number().int().min(1),
  step_ms: z.number().int().min(0),
  fail_at_step: z.number().int().nullish(),
});
/**
 * The soundtrack of the video the canvases are for (music, or silence, and the video's length): made
 * by the canvas job beside the canvases, so that the render, later, finds it stored.
 */
export const SoundtrackRequest = z.object({ music: AssetRef.nullable(), frames: z.number().int().positive() });
export type SoundtrackRequest = z.infer<typeof SoundtrackRequest>;
export const CanvasPayload = Output.extend({ project_id: z.string(), photos: z.array(AssetRef).min(1), soundtrack: SoundtrackRequest.optional() });
/**
 * Captions a clip shows (issue 13): the caption of the photo it starts on and of the one it ends on
 * (null = none), and whether the clip opens the video (the first caption fades in). Absent or null
 * when the clip shows none (no captions, or the project's caption style is `off`). Remakes reuse a
 * clip only when this is the same.
 */
export const ClipCaptionTexts = z.object({ from: z.string().nullable(), to: z.string().nullable(), opening: z.boolean() });
export type ClipCaptionTexts = z.infer<typeof ClipCaptionTexts>;
export const TransitionPayload = Output.extend({
  project_id: z.string(),
  from: AssetRef,
  to: AssetRef,
  seconds: TransitionSeconds,
  style: TransitionStyle,
  seed: z.number().int(),
  captions: ClipCaptionTexts.nullish(),
});
export const Epilogue = z.object({
  name: z.string().nullish(),
  born: z.string().nullish(),
  died: z.string().nullish(),
  title: z.string().nullish(),
});
export const LastClipPayload = Output.extend({
  project_id: z.string(),
  asset: AssetRef,
  seconds: TransitionSeconds,
  style: TransitionStyle,
  epilogue: Epilogue.nullable(),
  /** The last photo's caption (issue 13); absent or null when none is shown. */
  caption: z.string().nullish(),
});
export const RenderPayload = Output.extend({
  project_id: z.string(),
  clips: z.array(z.string()).min(1),
  music: AssetRef.nullable(),
  expected_frames: z.number().int().positive(),
});
/** A remake names the one pair whose transition is made again; every other clip is the latest good one. */
export const RemakeTarget = z.object({ from_asset_id: z.string(), to_asset_id: z.string(), style: TransitionStyle.optional() });
export type RemakeTarget = z.infer<typeof RemakeTarget>;
/** `draft`: a draft preview (854×480, fast settings, classic transitions); it never replaces the video. */
export const PipelinePayload = z.object({ project_id: z.string(), remake: RemakeTarget.optional(), draft: z.boolean().optional() });

export const COMMAND_PAYLOADS = {
  test: TestPayload,
  canvas: CanvasPayload,
  transition: TransitionPayload,
  last_clip: LastClipPayload,
  render: RenderPayload,
  pipeline: PipelinePayload,
} as const satisfies Record<JobType, z.ZodType>;
export type CommandPayloads = { [K in JobType]: z.infer<(typeof COMMAND_PAYLOADS)[K]> };

export const CommandEnvelope = z.object({
  job_id: z.string(),
  trace_id: z.string().regex(/^[0-9a-f]{32}$/),
  type: JobType,
  attempt: z.number().int().min(1),
  /** The account the job belongs to (the memorial's owner; for a test job, who made it). Absent in older messages. */
  account_id: z.string().nullish(),
  payload: z.record(z.string(), z.unknown()),
});
export type CommandEnvelope = z.infer<typeof CommandEnvelope>;
export type Command<K extends JobType = JobType> = Omit<CommandEnvelope, 'payload' | 'type'> & {
  type: K;
  payload: CommandPayloads[K];
};

/** Parses an envelope and its type's payload; throws a ZodError when either is off. */
export function parseCommand(raw: unknown): Command {
  const env = CommandEnvelope.parse(raw);
  const payload = COMMAND_PAYLOADS[env.type].parse(env.payload);
  return { ...env, payload } as Command;
}

// ---------- results ----------
// What each job type's handler returns and its `succeeded` event carries; the coordinator and the
// projector read results only through these.
export const TestResult = z.object({ steps: z.number().int(), artifact_key: z.string() });
export const CanvasResult = z.object({
  canvases: z.array(
    z.object({
      asset_id: z.string(),
      key: z.string(),
      /** Faces found on the photo; null when detection failed (its clips then move as without faces). Absent in older results. */
      faces: z.number().int().nullable().optional(),
      /** Why detection failed, when it did. */
      faces_error: z.string().optional(),
    }),
  ),
});
export const ClipFailure = z.object({ attempt: z.number().int(), reason: z.string(), message: z.string() });
export const ClipResult = z.object({
  clip_key: z.string(),
  frames: z.number().int(),
  provider: z.enum(['classic', 'generative']),
  attempts: z.number().int(),
  fallback_reason: z.string().nullable(),
  /** The clip method's version (CLIP_VERSION): only clips of the current one are reused. */
  method_version: z.number().int(),
  detail: z.string().optional(),
  /** One line per failed generative attempt. */
  failures: z.array(ClipFailure).optional(),
  /** Whether each photo's move headed for the faces on it (classic clips; the last clip has only `from`). */
  face_guided: z.object({ from: z.boolean(), to: z.boolean().optional() }).optional(),
  /** When a photo's faces were unknown (no detection stored), which, and that its move was the seeded one. */
  faces_note: z.string().optional(),
});
export const RenderResult = z.object({
  video_key: z.string(),
  poster_key: z.string(),
  duration_seconds: z.number(),
  size_bytes: z.number().int(),
  frames: z.number().int(),
  /** The soundtrack was found stored (same music and length) instead of being encoded again. */
  soundtrack_reused: z.boolean(),
});
export const PipelineStep = z.object({
  step: z.string(),
  /** The job that made the clip; for a remake, clips kept from earlier runs name their own jobs. */
  job_id: z.string(),
  provider: ClipResult.shape.provider,
  attempts: z.number().int(),
  fallback_reason: z.string().nullable(),
  reused: z.boolean(),
});
export const PipelineResult = z.object({
  video_url: z.string(),
  render_job_id: z.string(),
  duration_seconds: z.number(),
  size_bytes: z.number().int(),
  frames: z.number().int(),
  transitions: z.array(PipelineStep),
});

export const JOB_RESULTS = {
  test: TestResult,
  canvas: CanvasResult,
  transition: ClipResult,
  last_clip: ClipResult,
  render: RenderResult,
  pipeline: PipelineResult,
} as const satisfies Record<JobType, z.ZodType>;
export type JobResults = { [K in JobType]: z.infer<(typeof JOB_RESULTS)[K]> };

// ---------- events ----------
export const EventKind = z.enum(['started', 'progress', 'succeeded', 'failed', 'canceled']);
export type EventKind = z.infer<typeof EventKind>;
export const JobEvent = z.object({
  event_id: z.string(),
  job_id: z.string(),
  trace_id: z.string(),
  /** The account the job belongs to, copied from its command or row. Absent in older messages. */
  account_id: z.string().nullish(),
  /** The memorial (project) the job works on; null for a job of no project (test jobs). Absent in older messages. */
  project_id: z.string().nullish(),
  /** The job's type. Absent in older messages. */
  job_type: JobType.nullish(),
  kind: EventKind,
  attempt: z.number().int().min(1),
  at: z.string(),
  service: z.string(),
  /** Which process emitted it (`host:pid`), so scale-out is visible in metrics and logs. */
  worker: z.string().nullish(),
  stage: Stage.nullable(),
  progress_percent: z.number().min(0).max(100).nullable(),
  detail_message: z.string().nullable(),
  result: z.record(z.string(), z.unknown()).nullable(),
  error: JobError.nullable(),
  /**
   * A canvas job's progress: the photos (asset ids) whose canvases, and the faces on them, are stored so
   * far, all of them each time. The pipeline starts a transition as soon as its two photos are in it.
   */
  canvases_ready: z.array(z.string()).nullish(),
});
export type JobEvent = z.infer<typeof JobEvent>;

/** A cancel request (`<ns>.cancel.<jobId>`, the last one per job kept): workers abort the job's running work. */
export const CancelMessage = z.object({ job_id: z.string(), at: z.string() });
export type CancelMessage = z.infer<typeof CancelMessage>;

/**
 * Version of the bus contract (subjects, JobEvent, command envelopes and payloads, cancel messages) that
 * the AsyncAPI document (`/asyncapi.json`) publishes. Semantic versioning: a PATCH changes only wording;
 * a MINOR adds something a reader can ignore (an optional field, a stage, an event kind's detail); a
 * MAJOR removes or renames a field or subject, or changes a field's type. Readers ignore fields they
 * do not know and treat an unknown stage as opaque text.
 * 1.1.0: a pipeline command's optional `draft`, and `480p` as a job's output resolution (draft previews).
 * 1.2.0: a canvas job's progress events carry `canvases_ready`.
 */
export const BUS_CONTRACT_VERSION = '1.2.0';
