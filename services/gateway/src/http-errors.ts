import { API_ERRORS, type ApiErrorCode } from '@mt/contracts';
import { isStorageUnavailable, type Logger } from '@mt/platform';
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';

/** A request that cannot be served as asked; mapped to the error body in one place (onError). */
export class ApiError extends Error {
  constructor(
    readonly code: ApiErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }
  get status() {
    return API_ERRORS[this.code];
  }
}

export const notFound = (what: string, id: string) => new ApiError('not_found', `${what} ${id} was not found.`, { id });

/** 409 while a job is running for the project: its inputs must not change under it. */
export const projectBusy = (activeJobId: string | null, message = 'This memorial is being made right now. Wait for it to finish or cancel it first.') =>
  new ApiError('project_busy', message, { active_job_id: activeJobId });

export function errorResponse(c: Context, code: ApiErrorCode, message: string, details: Record<string, unknown> = {}) {
  return c.json({ error: { code, message, details } }, API_ERRORS[code] as 400);
}

interface ZodIssueLike {
  path: PropertyKey[];
  message: string;
  code?: string;
}

/** 422 naming every field that is off. */
export function validationError(issues: readonly ZodIssueLike[], where = 'body'): ApiError {
  const fields = issues.map((i) => ({ field: i.path.map(String).join('.') || where, message: i.message }));
  const first = fields[0];
  return new ApiError('validation_failed', first ? `${first.field}: ${first.message}` : 'The request is not valid.', { field: first?.field, fields });
}

const isDbDown = (e: unknown): boolean => {
  const s = `${(e as Error)?.name ?? ''} ${(e as Error)?.message ?? ''} ${(e as { code?: string })?.code ?? ''}`;
  return /ECONNREFUSED|ECONNRESET|ETIMEDOUT|Connection terminated|ConnectionException|57P01|57P03|08006|08001|timeout exceeded when trying to connect|the database system is/i.test(
    s,
  );
};

export function onError(log: Logger) {
  return (err: Error, c: Context) => {
    if (err instanceof ApiError) return errorResponse(c, err.code, err.message, err.details);
    if (err instanceof HTTPException) {
      if (err.status === 400) return errorResponse(c, 'invalid_json', 'The request body is not valid JSON.');
      if (err.status === 413) return errorResponse(c, 'payload_too_large', 'The request is too large.');
      return errorResponse(c, 'bad_request', err.message || 'Bad request.');
    }
    if (isStorageUnavailable(err)) {
      log.warn({ err, path: c.req.path }, 'file store unavailable');
      return errorResponse(c, 'dependency_unavailable', 'The file store is not reachable right now, so nothing was saved. Please try again in a moment.');
    }
    if (isDbDown(err) || /nats|CONNECTION_CLOSED|TIMEOUT|no responders/i.test(`${err.name} ${err.message}`)) {
      log.warn({ err, path: c.req.path }, 'dependency unavailable');
      return errorResponse(c, 'dependency_unavailable', 'A service MemorialTube depends on is not reachable right now. Please try again in a moment.');
    }
    log.error({ err, path: c.req.path }, 'unhandled error');
    return errorResponse(c, 'internal_error', 'Something went wrong on our side. Please try again.');
  };
}
