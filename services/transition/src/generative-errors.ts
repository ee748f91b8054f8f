/**
 * Why a generative attempt did not give a usable clip. The reason is a stable snake_case code: it is
 * the job result's `fallback_reason` and the `reason` label of `mt_transition_fallbacks_total`, so the
 * set stays small; the message carries the detail for logs.
 */
export const FAILURE_REASONS = [
  'not_configured', // style `generative` but MT_COMFYUI_URL is unset
  'unavailable', // the model server does not answer (health check or connection refused)
  'workflow_invalid', // the workflow template cannot be used
  'refused', // POST /prompt answered 400 (node_errors): the same workflow would be refused again
  'server_error', // 5xx or an unexpected answer
  'timeout', // no result in MT_COMFYUI_TIMEOUT_MS (the prompt is interrupted or removed from the queue)
  'execution_error', // the server ran the prompt and reported an error (e.g. out of memory)
  'interrupted', // someone else interrupted our prompt on the server
  'no_output', // finished without a video in its outputs
  'unreadable', // the returned file is not a video
  'size_drift', // not the width/height asked for
  'frame_count', // not the number of frames asked for
  'duration_drift', // not the frame rate / duration asked for
  'black_frames', // a black stretch
  'frozen_frames', // a frozen stretch
  'encode_profile', // the normalised clip misses the shared encode profile
  'first_frame_mismatch', // the first frame is not canvas A
  'last_frame_mismatch', // the last frame is not canvas B
] as const;
export type FailureReason = (typeof FAILURE_REASONS)[number];

export class GenerativeFailure extends Error {
  constructor(
    readonly reason: FailureReason,
    message: string,
    /** Worth another attempt with a new seed; false when the same request would fail the same way. */
    readonly retryable = true,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'GenerativeFailure';
  }
}
