/** Typed errors of @mt/media. Each carries a stable snake_case `code` for logs and events. */
export class MediaError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MediaError';
    this.code = code;
  }
}

/** ffmpeg (or another media tool) exited with an error. */
export class FfmpegError extends MediaError {
  readonly exitCode: number | undefined;
  readonly signal: string | undefined;
  readonly args: readonly string[];
  readonly stderrTail: string;
  constructor(init: {
    message: string;
    exitCode?: number | undefined;
    signal?: string | undefined;
    args: readonly string[];
    stderrTail: string;
    cause?: unknown;
  }) {
    super('ffmpeg_failed', init.message, { cause: init.cause });
    this.name = 'FfmpegError';
    this.exitCode = init.exitCode;
    this.signal = init.signal;
    this.args = init.args;
    this.stderrTail = init.stderrTail;
  }
}

/** The caller's AbortSignal fired; the child process has exited when this is thrown. */
export class MediaAbortedError extends MediaError {
  constructor(message = 'media operation aborted', options?: { cause?: unknown }) {
    super('media_aborted', message, options);
    this.name = 'AbortError';
  }
}

/** Which expectation a produced file missed, for callers that act on it (e.g. the generative gate). */
export type ValidationCheck = 'unreadable' | 'encode_profile' | 'frame_count' | 'audio' | 'first_frame' | 'last_frame' | 'other';

/** A produced file (canvas, clip, video) does not meet its expectations. */
export class MediaValidationError extends MediaError {
  readonly reason: string;
  readonly check: ValidationCheck;
  constructor(reason: string, options?: { cause?: unknown; check?: ValidationCheck }) {
    super('media_invalid', reason, options);
    this.name = 'MediaValidationError';
    this.reason = reason;
    this.check = options?.check ?? 'other';
  }
}

/** An uploaded file we will not accept. `reason` is written for a family to read. */
export class UnsupportedMediaError extends MediaError {
  readonly reason: string;
  readonly httpStatus: 415 | 422;
  constructor(code: string, reason: string, httpStatus: 415 | 422, options?: { cause?: unknown }) {
    super(code, reason, options);
    this.name = 'UnsupportedMediaError';
    this.reason = reason;
    this.httpStatus = httpStatus;
  }
}

export function isAbortError(err: unknown): boolean {
  return err instanceof Error && err.name === 'AbortError';
}

/** Throw MediaAbortedError if the signal has already fired. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new MediaAbortedError(undefined, { cause: signal.reason });
}
