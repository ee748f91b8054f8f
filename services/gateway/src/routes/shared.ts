import { getConnInfo } from '@hono/node-server/conninfo';
import { createRoute, z } from '@hono/zod-openapi';
import { AssetList, ContributorName, SharedView } from '@mt/contracts';
import { config } from '@mt/platform';
import type { Context, MiddlewareHandler } from 'hono';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { type LinkHolder, linkAccess } from '../access.js';
import { deleteAsset } from '../asset-edits.js';
import { type AssetRow, enqueueWebhookEvent } from '../db/index.js';
import { assetDto } from '../dto.js';
import { ApiError, notFound } from '../http-errors.js';
import { serveObject } from '../serve-object.js';
import { MediaSigner } from '../signed-urls.js';
import { acceptUpload } from '../uploads.js';
import type { RouteDeps } from './deps.js';
import { binary, errors, json, newRoutes, UploadForm } from './openapi.js';

const tags = ['shared (link holders)'];
/** The link's key is the credential here (the scheme is registered below), not a session or an API key. */
const byLink = [{ link: [] }];

/** How share links behave: where their URLs point, how long media URLs live, caps and limits. */
export interface LinkSettings {
  /** The origin of the page a link opens (`<publicUrl>/#/s/<key>`). */
  publicUrl: string;
  signer: MediaSigner;
  /** Photos one contribute link may bring in all. */
  uploadCap: number;
  /** Requests with a link per IP address per minute; wrong passwords per IP per 15 minutes. */
  usesPerIpPerMinute: number;
  wrongPasswordsPerIp: number;
}

export function linkSettings(o: Partial<LinkSettings> & { secret?: string; mediaTtlSeconds?: number } = {}): LinkSettings {
  // Numbers only when they are numbers: the OpenAPI script builds the gateway with stand-in deps.
  const count = (v: unknown, fallback: number) => (typeof v === 'number' ? v : fallback);
  return {
    publicUrl: o.publicUrl ?? (process.env.MT_PUBLIC_URL || `http://127.0.0.1:${config.port}`),
    signer: o.signer ?? new MediaSigner(o.secret, count(o.mediaTtlSeconds, 15 * 60)),
    uploadCap: count(o.uploadCap, 50),
    usesPerIpPerMinute: count(o.usesPerIpPerMinute, 120),
    wrongPasswordsPerIp: count(o.wrongPasswordsPerIp, 10),
  };
}

const clientIp = (c: Context): string => {
  try {
    return getConnInfo(c).remote.address ?? 'unknown';
  } catch {
    return 'unknown';
  }
};

/** Pages reached by a link keep it out of Referers and search engines. */
const privateHeaders: MiddlewareHandler = async (c, next) => {
  c.header('Referrer-Policy', 'no-referrer');
  c.header('X-Robots-Tag', 'noindex, nofollow');
  await next();
};

/**
 * Link requests per IP (429 with Retry-After past the limit), and wrong passwords per IP counted
 * apart, much fewer: a link's key cannot be guessed, but a short password could be.
 */
function linkRateLimit(s: LinkSettings): MiddlewareHandler {
  const uses = new RateLimiterMemory({ points: s.usesPerIpPerMinute, duration: 60 });
  const wrongPasswords = new RateLimiterMemory({ points: s.wrongPasswordsPerIp, duration: 15 * 60 });
  const refuse = (c: Context, e: RateLimiterRes): never => {
    const seconds = Math.max(1, Math.ceil(e.msBeforeNext / 1000));
    c.header('Retry-After', String(seconds));
    throw new ApiError('rate_limited', `Too many attempts with links. Try again in ${Math.ceil(seconds / 60)} minute(s).`, { retry_after_seconds: seconds });
  };
  return async (c, next) => {
    const ip = clientIp(c);
    const blocked = await wrongPasswords.get(ip);
    if (blocked && blocked.remainingPoints <= 0) refuse(c, blocked);
    await uses.consume(ip).catch((e: unknown) => (e instanceof RateLimiterRes ? refuse(c, e) : Promise.reject(e)));
    try {
      await next();
    } catch (e) {
      if (e instanceof ApiError && e.details.wrong_password) await wrongPasswords.consume(ip).catch(() => {});
      throw e;
    }
  };
}

const credential = (c: Context) => ({ key: c.req.header('mt-link-key'), password: c.req.header('mt-link-password') });

const contributorName = (raw: string | undefined): string => {
  const r = ContributorName.safeParse(raw ?? '');
  if (!r.success) throw new ApiError('validation_failed', 'contributor_name: say who you are (1 to 100 characters).', { field: 'contributor_name' });
  return r.data;
};

/** The link holder's API (API.md "Using a link"): what the link shows, and a contribute link's uploads. */
export function sharedRoutes(d: RouteDeps) {
  const api = newRoutes();
  const s = d.links;
  const { signer } = s;
  api.openAPIRegistry.registerComponent('securitySchemes', 'link', {
    type: 'apiKey',
    in: 'header',
    name: 'Mt-Link-Key',
    description: 'A share link’s key (from its URL’s fragment); with `Mt-Link-Password` when the link has a password.',
  });
  for (const path of ['/shared', '/shared/*']) {
    api.use(path, privateHeaders);
    api.use(path, linkRateLimit(s));
  }
  const sharedAsset = (a: AssetRow) => ({
    ...assetDto(a),
    thumbnail_url: a.thumbnail_key ? signer.url(a.thumbnail_key, thumbnailType(a.thumbnail_key)) : null,
  });
  const contributor = (c: Context): Promise<LinkHolder> => linkAccess(d.repos, credential(c), 'contribute');

  api.openapi(
    createRoute({
      method: 'get',
      path: '/shared',
      tags,
      operationId: 'getShared',
      summary: 'What a link shows: the memorial, and its video through short-lived signed URLs',
      security: byLink,
      responses: { 200: json(SharedView, 'The memorial as the link shows it'), ...errors(401, 404, 429) },
    }),
    async (c) => {
      const { link, project: p } = await linkAccess(d.repos, credential(c), 'any');
      const canWatch = link.kind === 'view' && p.video;
      return c.json(
        {
          kind: link.kind,
          project: { title: p.title, subject_name: p.subject_name ?? null, born: p.born ?? null, died: p.died ?? null },
          video: canWatch
            ? {
                url: signer.url(p.video!.video_key, 'video/mp4'),
                poster_url: p.video!.poster_key ? signer.url(p.video!.poster_key, 'image/jpeg') : null,
                duration_seconds: p.video!.duration_seconds,
              }
            : null,
          can_download: link.kind === 'view' && link.allow_download,
          can_upload: link.kind === 'contribute',
        },
        200,
      );
    },
  );

  api.openAPIRegistry.registerPath({
    method: 'post',
    path: '/shared/assets',
    tags,
    operationId: 'contributeAssets',
    summary: 'Add photos with a contribute link',
    description:
      'Photos only, with the contributor’s name and, optionally, a caption for them; through a moderated link they arrive `pending` until a member approves them.',
    security: byLink,
    request: {
      body: {
        required: true,
        content: {
          'multipart/form-data': {
            schema: UploadForm.extend({ contributor_name: z.string().min(1).max(100) }),
          },
        },
      },
    },
    responses: { 201: json(AssetList, 'The stored photos'), ...errors(400, 401, 403, 404, 409, 413, 415, 422, 429, 503) },
  });
  api.post('/shared/assets', async (c) => {
    const { link, project } = await contributor(c);
    const rows = await acceptUpload(c.env.incoming, project.id, d.repos, d.storage, d.storeThumbnail, {
      linkId: link.id,
      moderated: link.moderated,
      cap: s.uploadCap,
      contributorName,
      // Integrators hear of it in the same transaction (Standard Webhooks, to the memorial's owner).
      stored: async (em, stored) => {
        const owner = (await d.repos.members.list(project.id, em)).find((m) => m.role === 'owner');
        if (!owner) return;
        await enqueueWebhookEvent(em, owner.account_id, 'asset.contributed', {
          project_id: project.id,
          link_id: link.id,
          contributor_name: stored[0]?.contributor_name ?? null,
          review: stored[0]?.review ?? null,
          asset_ids: stored.map((a) => a.id),
        });
      },
    });
    return c.json({ items: rows.map(sharedAsset) }, 201);
  });
  api.openapi(
    createRoute({
      method: 'get',
      path: '/shared/assets',
      tags,
      operationId: 'listContributedAssets',
      summary: 'The photos added with this link (never anyone else’s)',
      security: byLink,
      responses: { 200: json(AssetList, 'This link’s photos, oldest first'), ...errors(401, 403, 404, 429) },
    }),
    async (c) => {
      const { link } = await contributor(c);
      return c.json({ items: (await d.repos.assets.byLink(link.id)).map(sharedAsset) }, 200);
    },
  );
  api.openapi(
    createRoute({
      method: 'delete',
      path: '/shared/assets/{asset_id}',
      tags,
      operationId: 'deleteContributedAsset',
      summary: 'Take back a photo added with this link (until a video is made with it)',
      security: byLink,
      request: { params: z.object({ asset_id: z.string().max(64) }) },
      responses: { 204: { description: 'Deleted' }, ...errors(401, 403, 404, 409, 429) },
    }),
    async (c) => {
      const { link, project } = await contributor(c);
      const { asset_id } = c.req.valid('param');
      const asset = await d.repos.assets.find(project.id, asset_id);
      if (!asset || asset.link_id !== link.id) throw notFound('Asset', asset_id);
      if (await inAVideo(d, project.video?.job_id, asset))
        throw new ApiError('conflict', 'This photo is in the memorial’s video now; ask the family to remove it.');
      await deleteAsset(d.repos, d.storage, d.log, asset);
      return c.body(null, 204);
    },
  );
  return api;
}

const thumbnailType = (key: string) => (key.endsWith('.jpg') ? 'image/jpeg' : 'image/webp');

/** Whether the memorial's video was made after the photo was approved and there (so it may be in it). */
async function inAVideo(d: RouteDeps, videoJobId: string | undefined, asset: AssetRow): Promise<boolean> {
  if (!videoJobId || asset.review !== 'approved') return false;
  const job = await d.repos.jobs.find(videoJobId);
  return !job || new Date(job.created_at) >= new Date(asset.created_at);
}

/** Signed media URLs (`/media/<token>`): a video, poster or thumbnail for whoever holds the URL, until it expires. */
export function mediaRoutes(d: RouteDeps) {
  const api = newRoutes();
  api.openAPIRegistry.registerPath({
    method: 'get',
    path: '/media/{token}',
    tags,
    operationId: 'getSignedMedia',
    summary: 'A file by its short-lived signed URL (Range supported); no credential',
    security: [],
    request: { params: z.object({ token: z.string() }) },
    responses: {
      200: binary('application/octet-stream', 'The file'),
      206: binary('application/octet-stream', 'The requested byte range'),
      ...errors(400, 404, 416),
    },
  });
  api.use('/media/*', privateHeaders);
  api.get('/media/:token', async (c) => {
    const m = d.links.signer.verify(c.req.param('token'));
    if (!m) throw new ApiError('not_found', 'This address has expired or is not valid. Open the link again.');
    return serveObject(c, d.storage, m.key, m.contentType, { 'cache-control': 'private, max-age=300' });
  });
  return api;
}
