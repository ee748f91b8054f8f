// The tests talk to a running stack through the one typed client (@mt/client), as the CLI does. Only
// requests that are malformed on purpose go through `raw`, which the typed calls would not let through.
// A client made with a key (the stack's: `stack.client()`) sends it on every request, `raw` too; a
// test of "no credential" uses a client made without one.
import { createMemorialClient, type Job, type MemorialClient, ok, type Project, type paths, type UploadFile } from '@mt/client';

export type { Asset, ErrorBody, Job, Project, Runtime } from '@mt/client';
export { ok } from '@mt/client';

type NewProject = NonNullable<paths['/api/v1/projects']['post']['requestBody']>['content']['application/json'];

/** Any answer, as it came: for requests the typed client would refuse to send (bad JSON, wrong types). */
export interface RawAnswer {
  status: number;
  // a deliberately malformed request has no typed answer
  body: any;
  headers: Headers;
}

export type TestClient = MemorialClient & {
  /** The gateway's origin. */
  base: string;
  /** A project with the tests' defaults (720p: faster), created or thrown. */
  project(body?: Partial<NewProject>): Promise<Project>;
  /** `waitForJob` with a deadline every test must state. */
  waitJob(id: string, timeoutMs: number, until?: (j: Job) => boolean): Promise<Job>;
  /** The API key this client sends (none: an anonymous client). */
  key?: string;
  /** A request exactly as given (with this client's key, if any), under /api/v1: for malformed input only. */
  raw(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<RawAnswer>;
};

/** A client of the gateway at `base`; with `key`, every request (typed, helpers and `raw`) carries it. */
export function testClient(base: string, options: { key?: string } = {}): TestClient {
  const client = createMemorialClient(base, { apiKey: options.key });
  const auth: Record<string, string> = options.key ? { authorization: `Bearer ${options.key}` } : {};
  const raw = async (method: string, p: string, body?: unknown, headers: Record<string, string> = {}): Promise<RawAnswer> => {
    const r = await fetch(`${client.baseUrl}/api/v1${p}`, {
      method,
      headers: body === undefined ? { ...auth, ...headers } : { 'content-type': 'application/json', ...auth, ...headers },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await r.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      /* not JSON: kept as text */
    }
    return { status: r.status, body: parsed, headers: r.headers };
  };
  return Object.assign(client, {
    base: client.baseUrl,
    key: options.key,
    project: async (body: Partial<NewProject> = {}) => ok(await client.POST('/api/v1/projects', { body: { title: 'In memory', resolution: '720p', ...body } })),
    waitJob: (id: string, timeoutMs: number, until?: (j: Job) => boolean) => client.waitForJob(id, { timeoutMs, until, intervalMs: 100 }),
    raw,
  });
}

/**
 * The browser tests' name for the same client (they move to `testClient` with their own change):
 * `req` is `raw`, `upload` answers `{ status, body }` as before.
 * @deprecated use testClient
 */
export class Api {
  readonly base: string;
  readonly req: TestClient['raw'];
  readonly project: TestClient['project'];
  readonly waitJob: (id: string, timeoutMs?: number, until?: (j: Job) => boolean) => Promise<Job>;
  /** `key`: the stack's (`stack.e.account.key`); without it every /api/v1 request answers 401. */
  constructor(base: string, key?: string) {
    const c = testClient(base, { key });
    this.base = c.base;
    this.req = c.raw;
    this.project = c.project;
    this.waitJob = (id, timeoutMs = 120_000, until) => c.waitJob(id, timeoutMs, until);
    this.upload = async (projectId: string, files: UploadFile[]) => {
      const r = await c.uploadFiles(projectId, files);
      return { status: r.response.status, body: (r.data ?? r.error) as RawAnswer['body'] };
    };
  }
  readonly upload: (projectId: string, files: UploadFile[]) => Promise<{ status: number; body: RawAnswer['body'] }>;
}
