import { z } from 'zod';

/** REST error codes with their HTTP status (API.md). */
export const API_ERRORS = {
  invalid_json: 400,
  bad_request: 400,
  unauthenticated: 401,
  password_required: 401,
  forbidden: 403,
  not_found: 404,
  /** The memorial has no draft preview yet (POST /projects/{id}/preview makes one). */
  no_preview: 404,
  project_busy: 409,
  job_finished: 409,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  validation_failed: 422,
  rate_limited: 429,
  internal_error: 500,
  dependency_unavailable: 503,
} as const;
export type ApiErrorCode = keyof typeof API_ERRORS;

export const ErrorBody = z
  .object({
    error: z.object({
      code: z.string(),
      message: z.string(),
      details: z.record(z.string(), z.unknown()),
    }),
  })
  .meta({ id: 'Error' });
export type ErrorBody = z.infer<typeof ErrorBody>;

/** Codes a failed job carries in `error.code`. */
export const JobErrorCode = z.enum([
  'test_failure', // fail_at_step reached on a test job
  'invalid_command', // the command did not match its contract
  'input_missing', // a photo, canvas or clip the stage needs is not there
  'invalid_input', // the input exists but cannot be used (bad photo, too few photos)
  'media_failed', // ffmpeg/sharp failed on good input
  'validation_failed', // the produced artifact failed its quality gate
  'storage_unavailable', // the object store could not be reached after retries
  'child_failed', // a pipeline step failed
  'attempts_exhausted', // redelivered too often: the worker died each time
  'worker_lost', // the reaper found no worker alive for the job
  'internal_error',
]);
export type JobErrorCode = z.infer<typeof JobErrorCode>;

export const JobError = z.object({ code: z.string(), message: z.string(), stage: z.string().nullish() }).meta({ id: 'JobError' });
export type JobError = z.infer<typeof JobError>;
