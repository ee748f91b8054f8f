import { createRoute, z } from '@hono/zod-openapi';
import { isTerminal, Job, JobList, JobListQuery, LastClipJobRequest, ProjectJobRequest, Runtime, TestJobRequest, TransitionJobRequest } from '@mt/contracts';
import { streamSSE } from 'hono/streaming';
import type { NewJob, ProjectView } from '../db/index.js';
import { jobDto, runtimeDto } from '../dto.js';
import type { RouteDeps } from './deps.js';
import { body, errors, JobParam, json, newRoutes } from './openapi.js';

const tags = ['jobs'];

/** Jobs: start one step on its own, list, read, cancel, and follow a job's progress as it happens. */
export function jobRoutes(d: RouteDeps) {
  const api = newRoutes();
  const current = async (id: string) => jobDto((await d.repos.jobs.find(id))!);

  api.openapi(
    createRoute({
      method: 'post',
      path: '/jobs/test',
      tags,
      operationId: 'createTestJob',
      summary: 'Start a test job (no media)',
      request: { body: body(TestJobRequest) },
      responses: { 202: json(Job, 'The job'), ...errors(400, 422, 503) },
    }),
    // A test job has no memorial: it belongs to whoever started it.
    async (c) => c.json(jobDto(await d.jobs.create({ ...d.requests.test(c.req.valid('json')), accountId: c.var.access.account().accountId })), 202),
  );
  /** A job of one project's: the project is looked up through access first. */
  const projectJob = (path: string, operationId: string, summary: string, schema: z.ZodType, make: (p: ProjectView, b: never) => Promise<NewJob>) =>
    api.openapi(
      createRoute({
        method: 'post',
        path,
        tags,
        operationId,
        summary,
        request: { body: body(schema) },
        responses: { 202: json(Job, 'The job'), ...errors(400, 404, 409, 422, 503) },
      }),
      async (c) => {
        const b = c.req.valid('json') as { project_id: string };
        const p = await c.var.access.project(b.project_id, 'write');
        return c.json(jobDto(await d.jobs.create(await make(p, b as never))), 202);
      },
    );
  projectJob('/jobs/canvas', 'createCanvasJob', 'Make the canvases of every photo', ProjectJobRequest, (p) => d.requests.canvas(p));
  projectJob('/jobs/transition', 'createTransitionJob', 'Make one transition', TransitionJobRequest, (p, b: Parameters<typeof d.requests.transition>[1]) =>
    d.requests.transition(p, b),
  );
  projectJob('/jobs/last-clip', 'createLastClipJob', 'Make the closing clip', LastClipJobRequest, (p, b: Parameters<typeof d.requests.lastClip>[1]) =>
    d.requests.lastClip(p, b),
  );
  projectJob('/jobs/render', 'createRenderJob', 'Render the video from the latest clips', ProjectJobRequest, (p) => d.requests.render(p));
  projectJob('/jobs/pipeline', 'createPipelineJob', 'Make the whole memorial (same as run)', ProjectJobRequest, (p) => d.requests.pipeline(p));

  api.openapi(
    createRoute({
      method: 'get',
      path: '/jobs',
      tags,
      operationId: 'listJobs',
      summary: 'List jobs, newest first',
      request: { query: JobListQuery },
      responses: { 200: json(JobList, 'One page of jobs'), ...errors(422) },
    }),
    async (c) => {
      const pageOf = await d.repos.jobs.list(c.var.access.jobScope(), c.req.valid('query'));
      return c.json({ items: pageOf.items.map(jobDto), next_cursor: pageOf.next_cursor }, 200);
    },
  );
  api.openapi(
    createRoute({
      method: 'get',
      path: '/jobs/{job_id}',
      tags,
      operationId: 'getJob',
      summary: 'Get a job',
      request: { params: JobParam },
      responses: { 200: json(Job, 'The job'), ...errors(404) },
    }),
    async (c) => c.json(jobDto(await c.var.access.job(c.req.valid('param').job_id, 'read')), 200),
  );
  api.openapi(
    createRoute({
      method: 'get',
      path: '/jobs/{job_id}/runtime',
      tags,
      operationId: 'getJobRuntime',
      summary: "A job's stage and progress",
      request: { params: JobParam },
      responses: { 200: json(Runtime, 'The runtime'), ...errors(404) },
    }),
    async (c) => c.json(runtimeDto(await c.var.access.job(c.req.valid('param').job_id, 'read')), 200),
  );
  api.openapi(
    createRoute({
      method: 'post',
      path: '/jobs/{job_id}/cancel',
      tags,
      operationId: 'cancelJob',
      summary: 'Cancel a job and its steps',
      request: { params: JobParam },
      responses: { 202: json(Job, 'The job, cancel requested'), ...errors(404, 409, 503) },
    }),
    async (c) => {
      const j = await c.var.access.job(c.req.valid('param').job_id, 'write');
      await d.jobs.cancel(j.id);
      return c.json(await current(j.id), 202);
    },
  );

  api.openAPIRegistry.registerPath({
    method: 'get',
    path: '/jobs/{job_id}/events',
    tags,
    operationId: 'jobEvents',
    summary: "A job's runtime as server-sent events, until it ends",
    request: { params: JobParam },
    responses: {
      200: { description: 'text/event-stream of `runtime` events (Runtime + status)', content: { 'text/event-stream': { schema: z.string() } } },
      ...errors(404),
    },
  });
  api.get('/jobs/:job_id/events', async (c) => {
    const first = await c.var.access.job(c.req.param('job_id'), 'read');
    return streamSSE(c, async (s) => {
      let closed = false;
      s.onAbort(() => {
        closed = true;
      });
      const b = d.bus();
      let nudge: () => void = () => {};
      const sub = b?.nc.subscribe(b.names.eventsOfJob(first.id), { callback: () => nudge() });
      try {
        let last = '';
        for (let n = 0; !closed; n++) {
          const j = await d.repos.jobs.find(first.id);
          if (!j) break;
          const payload = JSON.stringify({ ...runtimeDto(j), status: j.status });
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
  return api;
}
