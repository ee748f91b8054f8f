import type { JobErrorCode } from '@mt/contracts';

/**
 * A failure a job can end with. `transient` ones are retried with backoff (nak), the rest end the job
 * at once: bad input will not get better by trying again.
 */
export class JobFailure extends Error {
  constructor(
    readonly code: JobErrorCode,
    message: string,
    readonly transient = false,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'JobFailure';
  }
}

/** The job was cancelled; not a failure. */
export class JobCanceled extends Error {
  constructor(message = 'canceled') {
    super(message);
    this.name = 'JobCanceled';
  }
}
