import { createRoute, z } from '@hono/zod-openapi';
import { InviteOrganiserRequest, Member, MemberList } from '@mt/contracts';
import { memberDto } from '../dto.js';
import { ApiError, notFound } from '../http-errors.js';
import type { RouteDeps } from './deps.js';
import { body, errors, json, newRoutes, ProjectParam } from './openapi.js';

const tags = ['organisers'];
const OrganiserParam = ProjectParam.extend({ account_id: z.string().max(64) });

/** Who helps make a memorial: the owner invites organisers by email and removes them; members see who is in. */
export function organiserRoutes(d: RouteDeps) {
  const api = newRoutes();
  const { members } = d.repos;

  api.openapi(
    createRoute({
      method: 'post',
      path: '/projects/{project_id}/organisers',
      tags,
      operationId: 'inviteOrganiser',
      summary: 'Invite an organiser by email (owner only)',
      description: 'Makes the account if the address is new, so the organiser can sign in with it later. Inviting an organiser again changes nothing.',
      request: { params: ProjectParam, body: body(InviteOrganiserRequest) },
      responses: { 201: json(Member, 'The organiser'), ...errors(400, 401, 403, 404, 409, 422) },
    }),
    async (c) => {
      const p = await c.var.access.project(c.req.valid('param').project_id, 'own');
      const accountId = await members.accountForEmail(c.req.valid('json').email);
      if ((await members.role(p.id, accountId)) === 'owner') throw new ApiError('conflict', 'This is the memorial’s owner already.');
      return c.json(memberDto(await members.addOrganiser(p.id, accountId)), 201);
    },
  );
  api.openapi(
    createRoute({
      method: 'get',
      path: '/projects/{project_id}/organisers',
      tags,
      operationId: 'listOrganisers',
      summary: "The memorial's members: its owner first, then its organisers",
      request: { params: ProjectParam },
      responses: { 200: json(MemberList, 'The members'), ...errors(401, 404) },
    }),
    async (c) => {
      const p = await c.var.access.project(c.req.valid('param').project_id, 'read');
      return c.json({ items: (await members.list(p.id)).map(memberDto) }, 200);
    },
  );
  api.openapi(
    createRoute({
      method: 'delete',
      path: '/projects/{project_id}/organisers/{account_id}',
      tags,
      operationId: 'removeOrganiser',
      summary: 'Remove an organiser (owner only)',
      request: { params: OrganiserParam },
      responses: { 204: { description: 'Removed' }, ...errors(401, 403, 404, 409) },
    }),
    async (c) => {
      const { project_id, account_id } = c.req.valid('param');
      const p = await c.var.access.project(project_id, 'own');
      if (await members.removeOrganiser(p.id, account_id)) return c.body(null, 204);
      if ((await members.role(p.id, account_id)) === 'owner') throw new ApiError('conflict', 'The owner cannot be removed from their memorial.');
      throw notFound('Organiser', account_id);
    },
  );
  return api;
}
