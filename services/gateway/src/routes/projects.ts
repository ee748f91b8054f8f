import { createRoute } from '@hono/zod-openapi';
import { CreateProjectRequest, Job, ListQuery, Project, ProjectList, RemakeRequest, UpdateProjectRequest } from '@mt/contracts';
import { transaction } from '../db/index.js';
import { jobDto, projectDto } from '../dto.js';
import { ApiError, projectBusy } from '../http-errors.js';
import { deleteProject } from '../project-deletion.js';
import { serveObject } from '../serve-object.js';
import type { RouteDeps } from './deps.js';
import { binary, body, errors, json, newRoutes, ProjectParam } from './openapi.js';

const tags = ['projects'];

/** Memorials: create, list, read, run, preview, cancel, remake one transition, and the finished video and draft preview. */
export function projectRoutes(d: RouteDeps) {
  const api = newRoutes();
  const job = async (id: string) => jobDto((await d.repos.jobs.find(id))!);

  api.openapi(
    createRoute({
      method: 'post',
      path: '/projects',
      tags,
      operationId: 'createProject',
      summary: 'Create a memorial',
      request: { body: body(CreateProjectRequest) },
      responses: { 201: json(Project, 'The new memorial'), ...errors(400, 422) },
    }),
    async (c) => {
      // The caller owns what they make.
      const id = await d.repos.projects.create(c.req.valid('json'), c.var.access.account().accountId);
      return c.json(projectDto((await d.repos.projects.find(id))!), 201);
    },
  );
  api.openapi(
    createRoute({
      method: 'get',
      path: '/projects',
      tags,
      operationId: 'listProjects',
      summary: 'List memorials, newest first',
      request: { query: ListQuery },
      responses: { 200: json(ProjectList, 'One page of memorials'), ...errors(422) },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const pageOf = await d.repos.projects.list(c.var.access.projectScope(), q.limit, q.cursor);
      return c.json({ items: pageOf.items.map(projectDto), next_cursor: pageOf.next_cursor }, 200);
    },
  );
  api.openapi(
    createRoute({
      method: 'get',
      path: '/projects/{project_id}',
      tags,
      operationId: 'getProject',
      summary: 'Get a memorial',
      request: { params: ProjectParam },
      responses: { 200: json(Project, 'The memorial'), ...errors(404) },
    }),
    async (c) => c.json(projectDto(await c.var.access.project(c.req.valid('param').project_id, 'read')), 200),
  );
  api.openapi(
    createRoute({
      method: 'patch',
      path: '/projects/{project_id}',
      tags,
      operationId: 'updateProject',
      summary: "Change a memorial's settings (the caption style)",
      request: { params: ProjectParam, body: body(UpdateProjectRequest) },
      responses: { 200: json(Project, 'The memorial'), ...errors(400, 404, 422) },
    }),
    async (c) => {
      const p = await c.var.access.project(c.req.valid('param').project_id, 'write');
      const { caption_style } = c.req.valid('json');
      if (caption_style) await transaction(d.repos, (em) => d.repos.projects.setCaptionStyle(em, p.id, caption_style));
      return c.json(projectDto((await d.repos.projects.find(p.id))!), 200);
    },
  );
  api.openapi(
    createRoute({
      method: 'delete',
      path: '/projects/{project_id}',
      tags,
      operationId: 'deleteProject',
      summary: 'Delete a memorial with all its files (owner only)',
      request: { params: ProjectParam },
      responses: { 204: { description: 'Deleted, with every file' }, ...errors(401, 403, 404, 409, 503) },
    }),
    async (c) => {
      const p = await c.var.access.project(c.req.valid('param').project_id, 'own');
      await deleteProject(d.repos, d.storage, d.log, p.id);
      return c.body(null, 204);
    },
  );
  api.openapi(
    createRoute({
      method: 'post',
      path: '/projects/{project_id}/run',
      tags,
      operationId: 'runProject',
      summary: 'Make the memorial video',
      request: { params: ProjectParam },
      responses: { 202: json(Job, 'The pipeline job'), ...errors(404, 409, 422, 503) },
    }),
    async (c) => {
      const p = await c.var.access.project(c.req.valid('param').project_id, 'write');
      return c.json(jobDto(await d.jobs.create(await d.requests.pipeline(p))), 202);
    },
  );
  api.openapi(
    createRoute({
      method: 'post',
      path: '/projects/{project_id}/preview',
      tags,
      operationId: 'previewProject',
      summary: 'Make a draft preview (854×480, fast; never replaces the video)',
      request: { params: ProjectParam },
      responses: { 202: json(Job, 'The pipeline job (params.draft true)'), ...errors(404, 409, 422, 503) },
    }),
    async (c) => {
      const p = await c.var.access.project(c.req.valid('param').project_id, 'write');
      return c.json(jobDto(await d.jobs.create(await d.requests.preview(p))), 202);
    },
  );
  api.openapi(
    createRoute({
      method: 'post',
      path: '/projects/{project_id}/cancel',
      tags,
      operationId: 'cancelProject',
      summary: "Cancel the memorial's active job",
      request: { params: ProjectParam },
      responses: { 202: json(Job, 'The canceled job'), ...errors(404, 409, 503) },
    }),
    async (c) => {
      const p = await c.var.access.project(c.req.valid('param').project_id, 'write');
      if (!p.active_job_id) throw new ApiError('conflict', 'Nothing is running for this memorial.');
      await d.jobs.cancel(p.active_job_id);
      return c.json(await job(p.active_job_id), 202);
    },
  );
  api.openapi(
    createRoute({
      method: 'post',
      path: '/projects/{project_id}/remake',
      tags,
      operationId: 'remakeTransition',
      summary: 'Make one transition again, then the video',
      request: { params: ProjectParam, body: body(RemakeRequest) },
      responses: { 202: json(Job, 'The pipeline job'), ...errors(400, 404, 409, 422, 503) },
    }),
    async (c) => {
      const p = await c.var.access.project(c.req.valid('param').project_id, 'write');
      if (p.active_job_id) throw projectBusy(p.active_job_id, 'This memorial is already being made. Wait for it to finish or cancel it first.');
      return c.json(jobDto(await d.jobs.create(await d.requests.remake(p, c.req.valid('json')))), 202);
    },
  );

  // Videos and posters stream from storage, so these routes are plain Hono, described for the OpenAPI document.
  const media = (path: string, operationId: string, summary: string, type: string) =>
    api.openAPIRegistry.registerPath({
      method: 'get',
      path,
      tags,
      operationId,
      summary,
      request: { params: ProjectParam },
      responses: { 200: binary(type, 'The file'), 206: binary(type, 'The requested byte range'), ...errors(400, 404, 416) },
    });
  media('/projects/{project_id}/video', 'getVideo', 'The latest rendered video (Range supported)', 'video/mp4');
  media('/projects/{project_id}/poster', 'getPoster', "The latest video's poster frame", 'image/jpeg');
  media('/projects/{project_id}/preview', 'getPreview', 'The latest draft preview (Range supported; 404 no_preview before one)', 'video/mp4');
  api.get('/projects/:project_id/video', async (c) => {
    const p = await c.var.access.project(c.req.param('project_id'), 'read');
    if (!p.video) throw new ApiError('not_found', 'This memorial has no video yet. Run it first.');
    return serveObject(c, d.storage, p.video.video_key, 'video/mp4', { 'content-disposition': `inline; filename="memorial-${p.id.slice(0, 8)}.mp4"` });
  });
  api.get('/projects/:project_id/preview', async (c) => {
    const p = await c.var.access.project(c.req.param('project_id'), 'read');
    if (!p.preview) throw new ApiError('no_preview', 'This memorial has no draft preview yet. Make one first.');
    return serveObject(c, d.storage, p.preview.video_key, 'video/mp4', { 'content-disposition': `inline; filename="preview-${p.id.slice(0, 8)}.mp4"` });
  });
  api.get('/projects/:project_id/poster', async (c) => {
    const p = await c.var.access.project(c.req.param('project_id'), 'read');
    if (!p.video) throw new ApiError('not_found', 'This memorial has no video yet.');
    return serveObject(c, d.storage, p.video.poster_key, 'image/jpeg');
  });
  return api;
}
