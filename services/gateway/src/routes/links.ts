import { createRoute, z } from '@hono/zod-openapi';
import { Asset, CreatedShareLink, CreateShareLinkRequest, ShareLinkList } from '@mt/contracts';
import { assetDto, shareLinkDto } from '../dto.js';
import { notFound } from '../http-errors.js';
import { hashLinkKey, hashLinkPassword, newLinkKey } from '../link-keys.js';
import type { RouteDeps } from './deps.js';
import { AssetParam, body, errors, json, newRoutes, ProjectParam } from './openapi.js';

const tags = ['share links'];
const LinkParam = ProjectParam.extend({ link_id: z.string().max(64) });

/** Members' share links: make a view or contribute link, list them, revoke one; approve contributed photos. */
export function linkRoutes(d: RouteDeps) {
  const api = newRoutes();
  const { links } = d.repos;

  api.openapi(
    createRoute({
      method: 'post',
      path: '/projects/{project_id}/links',
      tags,
      operationId: 'createShareLink',
      summary: 'Make a view or contribute link',
      description: 'The answer’s `url` carries the link’s key: it is shown only here (only a hash of the key is kept).',
      request: { params: ProjectParam, body: body(CreateShareLinkRequest) },
      responses: { 201: json(CreatedShareLink, 'The new link, with its key in `url`'), ...errors(400, 401, 403, 404, 422) },
    }),
    async (c) => {
      const p = await c.var.access.project(c.req.valid('param').project_id, 'write');
      const b = c.req.valid('json');
      const key = newLinkKey();
      const row = await links.create({
        project_id: p.id,
        kind: b.kind,
        label: b.label ?? null,
        key_hash: hashLinkKey(key),
        password_hash: b.password ? await hashLinkPassword(b.password) : null,
        expires_at: b.expires_at ? new Date(b.expires_at) : null,
        allow_download: b.kind === 'view' && (b.allow_download ?? false),
        moderated: b.kind === 'contribute' && (b.moderated ?? true),
        created_by: c.var.access.account().accountId,
      });
      // The key rides in the fragment: browsers never send it to a server or in a Referer.
      return c.json({ ...shareLinkDto(row), url: `${d.links.publicUrl.replace(/\/+$/, '')}/#/s/${key}` }, 201);
    },
  );
  api.openapi(
    createRoute({
      method: 'get',
      path: '/projects/{project_id}/links',
      tags,
      operationId: 'listShareLinks',
      summary: "The memorial's live links (never their keys)",
      request: { params: ProjectParam },
      responses: { 200: json(ShareLinkList, 'The links, oldest first'), ...errors(401, 404) },
    }),
    async (c) => {
      const p = await c.var.access.project(c.req.valid('param').project_id, 'read');
      return c.json({ items: (await links.list(p.id)).map(shareLinkDto) }, 200);
    },
  );
  api.openapi(
    createRoute({
      method: 'delete',
      path: '/projects/{project_id}/links/{link_id}',
      tags,
      operationId: 'revokeShareLink',
      summary: 'Revoke a link at once',
      description: 'Photos already added with it stay (members may remove them).',
      request: { params: LinkParam },
      responses: { 204: { description: 'Revoked' }, ...errors(401, 403, 404) },
    }),
    async (c) => {
      const { project_id, link_id } = c.req.valid('param');
      const p = await c.var.access.project(project_id, 'write');
      if (!(await links.delete(p.id, link_id))) throw notFound('Link', link_id);
      return c.body(null, 204);
    },
  );
  api.openapi(
    createRoute({
      method: 'post',
      path: '/projects/{project_id}/assets/{asset_id}/approve',
      tags: ['assets'],
      operationId: 'approveAsset',
      summary: 'Approve a contributed photo: videos use it from now on',
      description: 'Approving one that is approved already changes nothing.',
      request: { params: AssetParam },
      responses: { 200: json(Asset, 'The approved photo'), ...errors(401, 403, 404) },
    }),
    async (c) => {
      const { project_id, asset_id } = c.req.valid('param');
      const { asset } = await c.var.access.asset(project_id, asset_id, 'write');
      const approved = await d.repos.assets.approve(asset.project_id, asset.id);
      if (!approved) throw notFound('Asset', asset_id);
      return c.json(assetDto(approved), 200);
    },
  );
  return api;
}
