import { createRoute } from '@hono/zod-openapi';
import { Asset, AssetList, ReorderAssetsRequest, UpdateAssetRequest } from '@mt/contracts';
import { deleteAsset, reorderPhotos, setCaption } from '../asset-edits.js';
import { assetDto } from '../dto.js';
import { notFound } from '../http-errors.js';
import { serveObject } from '../serve-object.js';
import { acceptUpload } from '../uploads.js';
import type { RouteDeps } from './deps.js';
import { AssetParam, binary, body, errors, json, newRoutes, ProjectParam, UploadForm } from './openapi.js';

const tags = ['assets'];

/** A memorial's photos and music: upload, list, order, delete, thumbnails. */
export function assetRoutes(d: RouteDeps) {
  const api = newRoutes();

  // Uploads are streamed by the handler itself (never parsed whole), so the route is plain Hono and
  // only described in the OpenAPI document.
  api.openAPIRegistry.registerPath({
    method: 'post',
    path: '/projects/{project_id}/assets',
    tags,
    operationId: 'uploadAssets',
    summary: 'Upload photos and music',
    request: {
      params: ProjectParam,
      body: {
        required: true,
        content: {
          'multipart/form-data': {
            schema: UploadForm,
          },
        },
      },
    },
    responses: { 201: json(AssetList, 'The stored files'), ...errors(400, 404, 409, 413, 415, 422, 503) },
  });
  api.post('/projects/:project_id/assets', async (c) => {
    const p = await c.var.access.project(c.req.param('project_id'), 'write');
    const rows = await acceptUpload(c.env.incoming, p.id, d.repos, d.storage, d.storeThumbnail);
    return c.json({ items: rows.map(assetDto) }, 201);
  });
  api.openapi(
    createRoute({
      method: 'get',
      path: '/projects/{project_id}/assets',
      tags,
      operationId: 'listAssets',
      summary: 'List photos (in order) and music',
      request: { params: ProjectParam },
      responses: { 200: json(AssetList, 'The assets'), ...errors(404) },
    }),
    async (c) => {
      const p = await c.var.access.project(c.req.valid('param').project_id, 'read');
      return c.json({ items: (await d.repos.assets.list(p.id)).map(assetDto) }, 200);
    },
  );
  api.openapi(
    createRoute({
      method: 'put',
      path: '/projects/{project_id}/assets/order',
      tags,
      operationId: 'reorderAssets',
      summary: 'Set the order of the photos',
      request: { params: ProjectParam, body: body(ReorderAssetsRequest) },
      responses: { 200: json(AssetList, 'The photos in their new order'), ...errors(400, 404, 409, 422) },
    }),
    async (c) => {
      const p = await c.var.access.project(c.req.valid('param').project_id, 'write');
      return c.json({ items: (await reorderPhotos(d.repos, p.id, c.req.valid('json').asset_ids)).map(assetDto) }, 200);
    },
  );
  api.openapi(
    createRoute({
      method: 'patch',
      path: '/projects/{project_id}/assets/{asset_id}',
      tags,
      operationId: 'updateAsset',
      summary: "Change a photo's caption (shown over it in the video)",
      description: 'One line in any script, at most 200 characters; empty or null clears it. Members only.',
      request: { params: AssetParam, body: body(UpdateAssetRequest) },
      responses: { 200: json(Asset, 'The photo with its caption'), ...errors(400, 404, 422) },
    }),
    async (c) => {
      const { project_id, asset_id } = c.req.valid('param');
      const { asset } = await c.var.access.asset(project_id, asset_id, 'write');
      return c.json(assetDto(await setCaption(d.repos, asset, c.req.valid('json').caption)), 200);
    },
  );
  api.openapi(
    createRoute({
      method: 'delete',
      path: '/projects/{project_id}/assets/{asset_id}',
      tags,
      operationId: 'deleteAsset',
      summary: 'Delete a photo or music file',
      request: { params: AssetParam },
      responses: { 204: { description: 'Deleted' }, ...errors(404, 409) },
    }),
    async (c) => {
      const { project_id, asset_id } = c.req.valid('param');
      const { asset } = await c.var.access.asset(project_id, asset_id, 'write');
      await deleteAsset(d.repos, d.storage, d.log, asset);
      return c.body(null, 204);
    },
  );

  api.openAPIRegistry.registerPath({
    method: 'get',
    path: '/projects/{project_id}/assets/{asset_id}/thumbnail',
    tags,
    operationId: 'getThumbnail',
    summary: "A photo's thumbnail (upright, at most 320 px)",
    request: { params: AssetParam },
    responses: { 200: binary('image/webp', 'The thumbnail'), ...errors(404) },
  });
  api.get('/projects/:project_id/assets/:asset_id/thumbnail', async (c) => {
    const { asset } = await c.var.access.asset(c.req.param('project_id'), c.req.param('asset_id'), 'read');
    if (asset.kind !== 'photo') throw notFound('Thumbnail', asset.id);
    let key = asset.thumbnail_key;
    if (!key) {
      key = await d.ensureThumbnail(asset.project_id, asset.id, asset.object_key);
      await d.repos.assets.setThumbnail(asset.id, key);
    }
    return serveObject(c, d.storage, key, key.endsWith('.jpg') ? 'image/jpeg' : 'image/webp', { 'cache-control': 'private, max-age=3600' });
  });
  return api;
}
