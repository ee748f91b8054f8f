// The one MemorialTube client: typed from the gateway's OpenAPI document (schema.gen.ts, made by
// scripts/openapi.ts) on openapi-fetch, plus what a typed path call cannot express: multipart uploads
// of files, waiting for a job to end, and downloading the video.
import { createWriteStream, openAsBlob } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import createClient from 'openapi-fetch';
import type { paths } from './schema.gen.js';

export type { paths } from './schema.gen.js';

type Json<T> = T extends { content: { 'application/json': infer B } } ? B : never;
// Types named after what the API answers, read from the paths so they hold whatever the components are called.
export type Project = Json<paths['/api/v1/projects/{project_id}']['get']['responses'][200]>;
export type Asset = Json<paths['/api/v1/projects/{project_id}/assets']['get']['responses'][200]>['items'][number];
export type Job = Json<paths['/api/v1/jobs/{job_id}']['get']['responses'][200]>;
export type Runtime = Json<paths['/api/v1/jobs/{job_id}/runtime']['get']['responses'][200]>;
export type ErrorBody = Json<paths['/api/v1/jobs/{job_id}']['get']['responses'][404]>;
export type JobStatus = Job['status'];

export const TERMINAL_STATUSES: readonly JobStatus[] = ['succeeded', 'failed', 'canceled'];
export const isFinished = (job: Pick<Job, 'status'>): boolean => TERMINAL_STATUSES.includes(job.status);

/** An answer that is not the one asked for, with the API's error code and its words for a user. */
export class MemorialApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'MemorialApiError';
  }

  static from(response: Response, body: unknown): MemorialApiError {
    const e = (body as Partial<ErrorBody> | undefined)?.error;
    return new MemorialApiError(
      response.status,
      e?.code ?? `http_${response.status}`,
      e?.message ?? `HTTP ${response.status} from ${response.url}`,
      (e?.details ?? {}) as Record<string, unknown>,
    );
  }
}

/** One file of an upload: a path on disk (streamed, never read whole), or bytes with a name. */
export type UploadFile = { path: string; name?: string; type?: string } | { data: Uint8Array; name: string; type?: string };

export interface WaitOptions {
  /** Give up (MemorialApiError 'wait_timeout') after this long; default 2 minutes. */
  timeoutMs?: number;
  /** Ends the wait when true; default: the job has finished. */
  until?: (job: Job) => boolean;
  /** Sees every state polled, e.g. to draw progress. */
  onUpdate?: (job: Job) => void;
  intervalMs?: number;
  /** How long the gateway may be unreachable (or answer 503) before the wait gives up; default: until the deadline. */
  maxOutageMs?: number;
  signal?: AbortSignal;
}

export interface ClientOptions {
  /**
   * An API key (`./mt api-key create --email EMAIL`): sent as `Authorization: Bearer <key>` with every
   * request, the helpers' too (uploads, waiting for a job, the video). Without one, every /api/v1
   * path but sign-in and shared links answers 401.
   */
  apiKey?: string;
  /** Sent with every request; `apiKey`, when given, sets `authorization` over any given here. */
  headers?: Record<string, string>;
  /** In place of the global fetch (tests). */
  fetch?: typeof globalThis.fetch;
}

export type MemorialClient = ReturnType<typeof createMemorialClient>;

/** A client of the gateway at `baseUrl` (its origin, e.g. http://127.0.0.1:8080). */
export function createMemorialClient(baseUrl: string, options: ClientOptions = {}) {
  const origin = baseUrl.replace(/\/+$/, '');
  const fetchImpl = options.fetch ?? globalThis.fetch;
  const headers: Record<string, string> = { ...options.headers, ...(options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {}) };
  const http = createClient<paths>({ baseUrl: origin, headers, fetch: fetchImpl });
  const rawHeaders = (extra: Record<string, string> = {}) => new Headers({ ...headers, ...extra });

  /** POST the files as one multipart request (`files` parts); the answer as openapi-fetch gives it. */
  const uploadFiles = async (projectId: string, files: UploadFile[]) => {
    const form = new FormData();
    for (const f of files) {
      if ('path' in f) form.append('files', await openAsBlob(f.path, { type: f.type ?? 'application/octet-stream' }), f.name ?? path.basename(f.path));
      else form.append('files', new Blob([new Uint8Array(f.data)], { type: f.type ?? 'application/octet-stream' }), f.name);
    }
    // The document types the body as its schema ({ files: binary[] }); the bytes go as FormData, which
    // openapi-fetch sends untouched with the multipart boundary.
    return http.POST('/api/v1/projects/{project_id}/assets', { params: { path: { project_id: projectId } }, body: form as never });
  };

  /**
   * Polls the job until `until` holds (by default: it has finished) or the deadline passes. While
   * waiting, a 503 or an unreachable gateway is an outage to wait through, not an answer.
   */
  const waitForJob = async (jobId: string, o: WaitOptions = {}): Promise<Job> => {
    const { timeoutMs = 120_000, until = isFinished, intervalMs = 250, maxOutageMs = timeoutMs } = o;
    const deadline = Date.now() + timeoutMs;
    let last: Job | undefined;
    let outage = '';
    let outageSince = 0;
    for (;;) {
      try {
        const { data, error, response } = await http.GET('/api/v1/jobs/{job_id}', { params: { path: { job_id: jobId } }, signal: o.signal });
        if (data) {
          last = data;
          outage = '';
          outageSince = 0;
          o.onUpdate?.(data);
          if (until(data)) return data;
        } else if (response.status === 503) outage = 'the gateway answered 503';
        else throw MemorialApiError.from(response, error);
      } catch (e) {
        if (e instanceof MemorialApiError || o.signal?.aborted) throw e;
        outage = `cannot reach MemorialTube at ${origin} (${((e as Error).cause as Error | undefined)?.message ?? (e as Error).message})`;
      }
      if (outage) outageSince ||= Date.now();
      if (outage && Date.now() - outageSince >= maxOutageMs)
        throw new MemorialApiError(0, 'unreachable', `${outage} for ${Math.round((Date.now() - outageSince) / 1000)} s`);
      if (Date.now() >= deadline) {
        const where = last ? `still ${last.status} at ${last.runtime.stage}` : 'never read';
        throw new MemorialApiError(0, 'wait_timeout', `job ${jobId} ${where} after ${timeoutMs} ms${outage ? `; ${outage}` : ''}`);
      }
      await sleep(intervalMs, undefined, { signal: o.signal });
    }
  };

  /** The latest video of a project (or the byte range asked for), as the gateway answers it; `draft`: its latest draft preview. */
  const fetchVideo = (projectId: string, headers: Record<string, string> = {}, o: { draft?: boolean } = {}) =>
    fetchImpl(`${origin}/api/v1/projects/${encodeURIComponent(projectId)}/${o.draft ? 'preview' : 'video'}`, { headers: rawHeaders(headers) });

  /**
   * Downloads the video (`draft`: the draft preview) to `file`: written beside it and renamed when
   * complete, so a broken download never looks like a video. Resolves with the size and the answer's headers.
   */
  const downloadVideo = async (
    projectId: string,
    file: string,
    o: { draft?: boolean } = {},
  ): Promise<{ file: string; sizeBytes: number; status: number; headers: Headers }> => {
    const res = await fetchVideo(projectId, {}, o);
    if (!res.ok || !res.body) throw MemorialApiError.from(res, await res.json().catch(() => undefined));
    const part = `${file}.part`;
    try {
      await pipeline(Readable.fromWeb(res.body as never), createWriteStream(part));
      await rename(part, file);
    } catch (e) {
      await rm(part, { force: true });
      throw e;
    }
    return { file, sizeBytes: (await stat(file)).size, status: res.status, headers: res.headers };
  };

  /** Whether the gateway says it is ready (/readyz: Postgres, NATS and storage reachable); false when it does not answer. */
  const isReady = (): Promise<boolean> =>
    fetchImpl(`${origin}/readyz`, { headers: rawHeaders() }).then(
      (r) => r.ok,
      () => false,
    );

  return { ...http, baseUrl: origin, uploadFiles, waitForJob, fetchVideo, downloadVideo, isReady };
}

/** The data of a typed call, or its error thrown as a MemorialApiError (for callers that only go on when it worked). */
export function ok<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (!result.response.ok) throw MemorialApiError.from(result.response, result.error);
  return result.data as T;
}
