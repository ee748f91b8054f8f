import { z } from 'zod';

export const JobType = z.enum(['test', 'canvas', 'transition', 'last_clip', 'render', 'pipeline']);
export type JobType = z.infer<typeof JobType>;

export const JobStatus = z.enum(['queued', 'running', 'succeeded', 'failed', 'canceled']);
export type JobStatus = z.infer<typeof JobStatus>;
export const TERMINAL_JOB_STATUSES: readonly JobStatus[] = ['succeeded', 'failed', 'canceled'];
export const isTerminal = (s: JobStatus): boolean => TERMINAL_JOB_STATUSES.includes(s);

export const ProjectStatus = z.enum(['draft', 'running', 'completed', 'failed', 'canceled']);
export type ProjectStatus = z.infer<typeof ProjectStatus>;

export const TransitionSeconds = z.union([z.literal(6), z.literal(10)], { error: 'must be 6 or 10 (seconds)' });
export type TransitionSeconds = z.infer<typeof TransitionSeconds>;
export const TransitionStyle = z.enum(['auto', 'generative', 'classic']);
export type TransitionStyle = z.infer<typeof TransitionStyle>;
/** How photo captions are shown (issue 13): over the lower part of the photo, or not at all. */
export const CaptionStyle = z.enum(['lower_third', 'off']);
export type CaptionStyle = z.infer<typeof CaptionStyle>;
export const Resolution = z.enum(['720p', '1080p']);
export type Resolution = z.infer<typeof Resolution>;
export const Fps = z.union([z.literal(24), z.literal(25), z.literal(30)], { error: 'must be 24, 25 or 30' });
export type Fps = z.infer<typeof Fps>;

/**
 * The sizes a job may render at: a memorial's resolution, or `480p` for a draft preview (never a
 * project setting; its canvases and clips are keyed by it, so they never mix with full renders).
 */
export const OutputResolution = z.enum(['480p', '720p', '1080p']);
export type OutputResolution = z.infer<typeof OutputResolution>;
/** The draft preview's size: 854×480, made with fast encode settings. */
export const DRAFT_RESOLUTION = '480p' satisfies OutputResolution;

export const RESOLUTION_SIZE: Record<OutputResolution, { width: number; height: number }> = {
  '480p': { width: 854, height: 480 },
  '720p': { width: 1280, height: 720 },
  '1080p': { width: 1920, height: 1080 },
};

/** Stage names, exactly as the seed document names them. */
export const STAGES = {
  test: ['test_start', 'test_run', 'test_done'],
  canvas: ['canvas_start', 'canvas_generate', 'canvas_validate', 'canvas_done'],
  transition: ['transition_start', 'transition_generate', 'transition_validate', 'transition_done'],
  last_clip: ['last_clip_start', 'last_clip_generate', 'last_clip_finalize', 'last_clip_done'],
  render: ['render_start', 'render_concat', 'render_finalize', 'render_done'],
  pipeline: ['pipeline_prepare', 'pipeline_done'],
} as const satisfies Record<JobType, readonly string[]>;

export const Stage = z.enum([
  ...STAGES.test,
  ...STAGES.canvas,
  ...STAGES.transition,
  ...STAGES.last_clip,
  ...STAGES.render,
  ...STAGES.pipeline,
  'queued',
  'failed',
  'canceled',
]);
export type Stage = z.infer<typeof Stage>;
