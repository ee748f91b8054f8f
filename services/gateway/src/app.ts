import type { HttpBindings } from '@hono/node-server';
import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { stream, streamSSE } from 'hono/streaming';
import type { Readable } from 'node:stream';
import {
  AssetList,
  CreateProjectRequest,
  ErrorBody,
  Job,
  JobList,
  JobListQuery,
  LastClipJobRequest,
  ListQuery,
  Project,
  ProjectJobRequest,
  ProjectList,
  ReorderAssetsRequest,
  Runtime,
  TestJobRequest,
  TransitionJobRequest,
  isTerminal,
} from '@mt/contracts';
import { publishCancel, publishEvent, type Bus, type Logger, type Storage } from '@mt/platform';
import { ApiError, errorResponse, notFound, onError, validationError } from './http-errors.js';
import { JobRequests } from './job-requests.js';
import { runtimeDto, type JobStore, type NewJob } from './jobs.js';
import { metrics, registry } from './metrics.js';
import type { Outbox } from './outbox.js';
import { assetDto, projectDto, type ProjectStore } from './projects.js';
import { acceptUpload } from './uploads.js';
import { mountDocs } from './docs.js';
import { mountWeb } from './web.js';

export interface AppDeps {
  jobs: JobStore;
  projects: ProjectStore;
  bus: () => Bus | null;
  storage: Storage;
  outbox: () => Outbox | null;
  log: Logger;
  ready: () => Promise<Record<string, string>>;
}

const errors = (...codes: number[]) =>
  Object.fromEntries(codes.map((c) => [c, { description: 'error', content: { 'application/json': { schema: ErrorBody } } }]));
const json = <T extends z.ZodType>(schema: T, description = 'ok') => ({ description, content: { 'application/json': { schema } } });
const body = <T extends z.ZodType>(schema: T) => ({ required: true, content: { 'application/json': { schema } } });
const ProjectParam = z.object({ project_id: z.string().max(64) });
const JobParam = z.object({ job_id: z.string().max(64) });

export function createApp(d: AppDeps) {
  const app = new OpenAPIHono<{ Bindings: HttpBindings }>({
    defaultHook: (result) => {
      if (!result.success) throw validationError(result.error.issues, result.target);
    },
  });
  app.onError(onError(d.log));
  app.notFound((c) => errorResponse(c, 'not_found', `No such path: ${c.req.method} ${c.req.path}`));

  app.use('*', async (c, next) => {
    const t0 = performance.now();
    await next();
    const route = c.req.routePath ?? 'unmatched';
    metrics.httpDuration.observe({ method: c.req.method, route, status: String(c.res.status) }, (performance.now() - t0) / 1000);
  });

  // JSON bodies are small; uploads stream past this limit on their own path.
  app.use('/api/v1/*', async (c, next) => {
    if (c.req.method === 'POST' && /\/assets$/.test(c.req.path)) return next();
    return bodyLimit({ maxSize: 1024 * 1024, onError: (cc) => errorResponse(cc, 'payload_too_large', 'The request body is larger than 1 MB.') })(c, next);
  });

  const bus = () => {
    const b = d.bus();
    if (!b) throw new ApiError('dependency_unavailable', 'The message bus (NATS) is not reachable right now. Please try again in a moment.');
    return b;
  };
  const requests = new JobRequests(d.projects, d.jobs);
  const createJob = async (j: NewJob) => {
    bus();
    const job = await d.jobs.create(j);
    metrics.jobsCreated.inc({ type: j.type });
    d.outbox()?.kick();
    return job;
  };

  /** Cancel: stored, broadcast to workers; jobs no worker holds yet (queued, or a pipeline) end here. */
  const cancelJob = async (id: string) => {
    const b = bus();
    const { targets } = await d.jobs.requestCancel(id);
    for (const t of targets) await publishCancel(b, t.id, t.trace_id);
    for (const t of targets.filter((t) => t.status === 'queued' || t.type === 'pipeline'))
      await publishEvent(b, { job_id: t.id, trace_id: t.trace_id, kind: 'canceled', attempt: 1, service: 'gateway', stage: 'canceled', detail_message: 'Canceled' });
    return d.jobs.get(id);
  };

  // ---------------- projects ----------------
  const api = new OpenAPIHono<{ Bindings: HttpBindings }>({ defaultHook: (r) => { if (!r.success) throw validationError(r.error.issues, r.target); } });

  api.openapi(createRoute({ method: 'post', path: '/projects', tags: ['projects'], request: { body: body(CreateProjectRequest) }, responses: { 201: json(Project), ...errors(400, 422) } }), async (c) =>
    c.json(await d.projects.create(c.req.valid('json')), 201),
  );
  api.openapi(createRoute({ method: 'get', path: '/projects', tags: ['projects'], request: { query: ListQuery }, responses: { 200: json(ProjectList), ...errors(422) } }), async (c) => {
    const q = c.req.valid('query');
    return c.json(await d.projects.list(q.limit, q.cursor), 200);
  });
  api.openapi(createRoute({ method: 'get', path: '/projects/{project_id}', tags: ['projects'], request: { params: ProjectParam }, responses: { 200: json(Project), ...errors(404) } }), async (c) =>
    c.json(projectDto(await d.projects.get(c.req.valid('param').project_id)), 200),
  );
  // Uploads are streamed by the handler itself (never parsed whole), so the route is plain Hono and
  // only described in the OpenAPI document.
  api.openAPIRegistry.registerPath({
    method: 'post',
    path: '/projects/{project_id}/assets',
    tags: ['projects'],
    request: { params: ProjectParam, body: { required: true, content: { 'multipart/form-data': { schema: z.object({ files: z.array(z.string().openapi({ format: 'binary' })) }) } } } },
    responses: { 201: json(AssetList), ...errors(404, 409, 413, 415, 422) },
  });
  api.post('/projects/:project_id/assets', async (c) => {
    const rows = await acceptUpload(c.env.incoming, c.req.param('project_id'), d.projects, d.storage);
    return c.json({ items: rows.map(assetDto) }, 201);
  });
  api.openapi(createRoute({ method: 'get', path: '/projects/{project_id}/assets', tags: ['projects'], request: { params: ProjectParam }, responses: { 200: json(AssetList), ...errors(404) } }), async (c) => {
    const { project_id } = c.req.valid('param');
    await d.projects.get(project_id);
    return c.json({ items: (await d.projects.assets(project_id)).map(assetDto) }, 200);
  });
  api.openapi(
    createRoute({ method: 'put', path: '/projects/{project_id}/assets/order', tags: ['projects'], request: { params: ProjectParam, body: body(ReorderAssetsRequest) }, responses: { 200: json(AssetList), ...errors(400, 404, 409, 422) } }),
    async (c) => {
      const rows = await d.projects.reorder(c.req.valid('param').project_id, c.req.valid('json').asset_ids);
      return c.json({ items: rows.map(assetDto) }, 200);
    },
  );
  api.openapi(
    createRoute({ method: 'delete', path: '/projects/{project_id}/assets/{asset_id}', tags: ['projects'], request: { params: ProjectParam.extend({ asset_id: z.string().max(64) }) }, responses: { 204: { description: 'deleted' }, ...errors(404, 409) } }),
    async (c) => {
      const { project_id, asset_id } = c.req.valid('param');
      const a = await d.projects.deleteAsset(project_id, asset_id);
      await d.storage.delete(a.object_key).catch((e: unknown) => d.log.warn({ err: e, key: a.object_key }, 'could not delete object'));
      return c.body(null, 204);
    },
  );
  const ONE_RANGE = /^bytes=(\d*)-(\d*)$/;
  /** Streams a stored object; one byte range gets 206 (or 416 past the end) so a browser can seek. */
  const serveObject = async (c: Context<{ Bindings: HttpBindings }>, key: string, type: string, headers: Record<string, string> = {}) => {
    const h = await d.storage.head(key);
    if (!h) throw new ApiError('not_found', 'The file is missing. Run the memorial again.');
    const range = c.req.header('range');
    const m = range ? ONE_RANGE.exec(range) : null;
    if (range && !m) throw new ApiError('bad_request', 'Only one byte range (bytes=a-b) is supported.');
    if (m && m[1] !== '' && Number(m[1]) >= h.size) {
      c.header('content-range', `bytes */${h.size}`);
      return c.body(null, 416);
    }
    const obj = await d.storage.getStream(key, range);
    c.header('content-type', type);
    c.header('accept-ranges', 'bytes');
    c.header('content-length', String(obj.size));
    for (const [k, v] of Object.entries(headers)) c.header(k, v);
    if (obj.contentRange) {
      c.header('content-range', obj.contentRange);
      c.status(206);
    }
    return stream(c, async (s) => {
      for await (const chunk of obj.body as Readable) await s.write(chunk as Uint8Array);
    });
  };
  api.get('/projects/:project_id/video', async (c) => {
    const p = await d.projects.get(c.req.param('project_id'));
    if (!p.video) throw new ApiError('not_found', 'This memorial has no video yet. Run it first.');
    return serveObject(c, p.video.video_key, 'video/mp4', { 'content-disposition': `inline; filename="memorial-${p.id.slice(0, 8)}.mp4"` });
  });
  api.get('/projects/:project_id/poster', async (c) => {
    const p = await d.projects.get(c.req.param('project_id'));
    if (!p.video) throw new ApiError('not_found', 'This memorial has no video yet.');
    return serveObject(c, p.video.poster_key, 'image/jpeg');
  });
  api.openapi(createRoute({ method: 'post', path: '/projects/{project_id}/run', tags: ['projects'], request: { params: ProjectParam }, responses: { 202: json(Job), ...errors(404, 409, 422) } }), async (c) => {
    const { project_id } = c.req.valid('param');
    await d.projects.get(project_id);
    return c.json(await createJob(await requests.pipeline(project_id)), 202);
  });
  api.openapi(createRoute({ method: 'post', path: '/projects/{project_id}/cancel', tags: ['projects'], request: { params: ProjectParam }, responses: { 202: json(Job), ...errors(404, 409) } }), async (c) => {
    const p = await d.projects.get(c.req.valid('param').project_id);
    if (!p.active_job_id) throw new ApiError('conflict', 'Nothing is running for this memorial.');
    return c.json(await cancelJob(p.active_job_id), 202);
  });

  // ---------------- jobs ----------------
  api.openapi(createRoute({ method: 'post', path: '/jobs/test', tags: ['jobs'], request: { body: body(TestJobRequest) }, responses: { 202: json(Job), ...errors(400, 422) } }), async (c) =>
    c.json(await createJob(requests.test(c.req.valid('json'))), 202),
  );
  const projectJob = (path: string, make: (b: never) => Promise<NewJob>, schema: z.ZodType) =>
    api.openapi(createRoute({ method: 'post', path, tags: ['jobs'], request: { body: body(schema) }, responses: { 202: json(Job), ...errors(400, 404, 409, 422) } }), async (c) => {
      const b = c.req.valid('json') as { project_id: string };
      await d.projects.get(b.project_id);
      return c.json(await createJob(await make(b as never)), 202);
    });
  projectJob('/jobs/canvas', (b: { project_id: string }) => requests.canvas(b.project_id), ProjectJobRequest);
  projectJob('/jobs/transition', (b) => requests.transition(b), TransitionJobRequest);
  projectJob('/jobs/last-clip', (b) => requests.lastClip(b), LastClipJobRequest);
  projectJob('/jobs/render', (b: { project_id: string }) => requests.render(b.project_id), ProjectJobRequest);
  projectJob('/jobs/pipeline', (b: { project_id: string }) => requests.pipeline(b.project_id), ProjectJobRequest);

  api.openapi(createRoute({ method: 'get', path: '/jobs', tags: ['jobs'], request: { query: JobListQuery }, responses: { 200: json(JobList), ...errors(422) } }), async (c) =>
    c.json(await d.jobs.list(c.req.valid('query')), 200),
  );
  api.openapi(createRoute({ method: 'get', path: '/jobs/{job_id}', tags: ['jobs'], request: { params: JobParam }, responses: { 200: json(Job), ...errors(404) } }), async (c) =>
    c.json(await d.jobs.get(c.req.valid('param').job_id), 200),
  );
  api.openapi(createRoute({ method: 'get', path: '/jobs/{job_id}/runtime', tags: ['jobs'], request: { params: JobParam }, responses: { 200: json(Runtime), ...errors(404) } }), async (c) => {
    const id = c.req.valid('param').job_id;
    const j = await d.jobs.find(id);
    if (!j) throw notFound('Job', id);
    return c.json(runtimeDto(j), 200);
  });
  api.openapi(createRoute({ method: 'post', path: '/jobs/{job_id}/cancel', tags: ['jobs'], request: { params: JobParam }, responses: { 202: json(Job), ...errors(404, 409) } }), async (c) =>
    c.json(await cancelJob(c.req.valid('param').job_id), 202),
  );
  api.get('/jobs/:job_id/events', async (c) => {
    const id = c.req.param('job_id');
    const first = await d.jobs.find(id);
    if (!first) throw notFound('Job', id);
    return streamSSE(c, async (s) => {
      let last = '';
      let closed = false;
      s.onAbort(() => void (closed = true));
      const b = d.bus();
      let nudge: () => void = () => {};
      const sub = b?.nc.subscribe(b.names.eventsOfJob(id), { callback: () => nudge() });
      try {
        for (let n = 0; !closed; n++) {
          const j = await d.jobs.find(id);
          if (!j) break;
          const rt = runtimeDto(j);
          const payload = JSON.stringify({ ...rt, status: j.status });
          if (payload !== last) {
            last = payload;
            await s.writeSSE({ event: 'runtime', data: payload, id: String(n) });
          }
          if (isTerminal(j.status)) break;
          // Wake on the job's next event, or poll: the projector writes just after the event.
          await new Promise<void>((r) => {
            const t = setTimeout(r, 1_000);
            nudge = () => {
              clearTimeout(t);
              setTimeout(r, 60);
            };
          });
        }
      } finally {
        sub?.unsubscribe();
      }
    });
  });

  app.route('/api/v1', api);

  // ---------------- outside /api/v1 ----------------
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', async (c) => {
    const down = await d.ready();
    if (Object.keys(down).length === 0) return c.json({ status: 'ready' });
    return c.json({ error: { code: 'dependency_unavailable', message: `Not ready: ${Object.keys(down).join(', ')} unreachable.`, details: down } }, 503);
  });
  app.get('/metrics', async (c) => c.text(await registry.metrics(), 200, { 'content-type': registry.contentType }));
  app.doc('/openapi.json', { openapi: '3.0.3', info: { title: 'MemorialTube API', version: '1.0.0', description: 'Photos in, a memorial video out.' }});
  mountDocs(app);
  mountWeb(app);
  return { app, api };
}
