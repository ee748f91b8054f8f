// Photo captions (issue 13) through the gateway built by createGateway, served over real HTTP (uploads
// stream from the Node request), over a real Postgres and a real S3 server (s3rver): PATCH a caption,
// its 422s, another family's 404, a contributor's caption, the caption style, and what the pipeline's
// plan carries into clip payloads and what a remake compares before it reuses a clip.

import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { type ServerType, serve } from '@hono/node-server';
import { busNames } from '@mt/contracts';
import { CLIP_VERSION } from '@mt/media';
import { type Bus, config, Storage } from '@mt/platform';
import S3rver from 's3rver';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGateway } from './app.js';
import type { Principal } from './auth/principal.js';
import { transaction } from './db/index.js';
import { lastClipPayload, planFor, transitionPayload } from './pipeline-plan.js';
import { MediaSigner } from './signed-urls.js';
import { freshDatabase, testLog } from './test-support.js';
import { storeThumbnail } from './thumbnails.js';
import { WebhookSecrets } from './webhooks/secrets.js';

const AS = 'x-test-account';
const A = 'a@family-a.test';
const B = 'b@family-b.test';

let db: Awaited<ReturnType<typeof freshDatabase>>;
let work: string;
let s3: S3rver;
let storage: Storage;
let server: ServerType;
let base: string;
const fakeBus = { nc: { subscribe: () => ({ unsubscribe() {} }) }, names: busNames('mt_captions_test') } as unknown as Bus;

interface Sent {
  status: number;
  body: any;
}

async function send(method: string, url: string, o: { as?: string; key?: string; json?: unknown; raw?: string; form?: FormData } = {}): Promise<Sent> {
  const headers: Record<string, string> = {};
  if (o.as) headers[AS] = o.as;
  if (o.key) headers['mt-link-key'] = o.key;
  let body: RequestInit['body'];
  if (o.json !== undefined || o.raw !== undefined) {
    headers['content-type'] = 'application/json';
    body = o.raw ?? JSON.stringify(o.json);
  } else if (o.form) body = o.form;
  const res = await fetch(new URL(url, base), { method, headers, body });
  const text = await res.text();
  let json: any = null;
  try {
    json = JSON.parse(text);
  } catch {}
  return { status: res.status, body: json };
}

async function photo(shade: number): Promise<Blob> {
  const bytes = await sharp({ create: { width: 64, height: 48, channels: 3, background: { r: shade, g: 100, b: 200 - shade } } })
    .jpeg()
    .toBuffer();
  return new Blob([new Uint8Array(bytes)], { type: 'image/jpeg' });
}

async function form(shades: number[], fields: Record<string, string> = {}): Promise<FormData> {
  const f = new FormData();
  for (const [k, v] of Object.entries(fields)) f.append(k, v);
  for (const s of shades) f.append('files', await photo(s), `photo-${s}.jpg`);
  return f;
}

let memA: string;
let photos: string[];

beforeAll(async () => {
  db = await freshDatabase();
  work = await mkdtemp(path.join(os.tmpdir(), 'mt-captions-test-'));
  s3 = new S3rver({ address: '127.0.0.1', port: 0, directory: path.join(work, 's3'), silent: true });
  const { port } = await s3.run();
  storage = new Storage('captions-test', { ...config.s3, endpoint: `http://127.0.0.1:${port}` });
  await storage.ensureBucket();
  const app = createGateway({
    repos: db.repos,
    storage,
    bus: () => fakeBus,
    log: testLog,
    ready: async () => ({}),
    committed: () => {},
    storeThumbnail: (local, projectId, assetId) => storeThumbnail(storage, projectId, assetId, local),
    ensureThumbnail: async () => {
      throw new Error('not in this test');
    },
    authenticate: async (headers): Promise<Principal | null> => {
      const email = headers.get(AS);
      return email ? { accountId: await db.repos.members.accountForEmail(email), email, via: 'api_key' } : null;
    },
    links: { publicUrl: 'https://memorial.example', uploadCap: 50, signer: new MediaSigner('test secret', 15 * 60) },
    webhookSecrets: new WebhookSecrets('captions test auth secret, at least 32 characters long'),
  });
  server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise<void>((resolve) => server.once('listening', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  memA = (await send('POST', '/api/v1/projects', { as: A, json: { title: 'Grace', subject_name: 'Grace Kim', resolution: '720p' } })).body.id;
  await send('POST', '/api/v1/projects', { as: B, json: { title: 'Tom' } }); // B exists as an account
  const up = await send('POST', `/api/v1/projects/${memA}/assets`, { as: A, form: await form([20, 60, 100], { caption: '  결혼식, 부산 1962  ' }) });
  expect(up.status).toBe(201);
  photos = up.body.items.map((a: any) => a.id);
}, 60_000);
afterAll(async () => {
  await new Promise((r) => server?.close(r));
  await s3?.close();
  await db?.drop();
  if (work) await rm(work, { recursive: true, force: true });
});

const patch = (id: string, body: unknown, as = A) => send('PATCH', `/api/v1/projects/${memA}/assets/${id}`, { as, json: body });

describe('a photo caption', () => {
  it('comes with an upload (trimmed) and is changed, in any script, and cleared', async () => {
    const listed = await send('GET', `/api/v1/projects/${memA}/assets`, { as: A });
    expect(listed.body.items.map((a: any) => a.caption)).toEqual(['결혼식, 부산 1962', '결혼식, 부산 1962', '결혼식, 부산 1962']);

    for (const text of ['زفاف جدتي في القاهرة', '祖母の結婚式、横浜 1962年', "Grandma's wedding, Busan 1962"]) {
      const r = await patch(photos[0]!, { caption: `  ${text} ` });
      expect([r.status, r.body.caption, r.body.id]).toEqual([200, text, photos[0]]);
    }
    expect((await send('GET', `/api/v1/projects/${memA}/assets`, { as: A })).body.items[0].caption).toBe("Grandma's wedding, Busan 1962");
    // exactly 200 characters is fine (code points: 200 Hangul syllables)
    expect((await patch(photos[1]!, { caption: '가'.repeat(200) })).body.caption).toHaveLength(200);
    // empty and null clear it
    expect((await patch(photos[1]!, { caption: '   ' })).body.caption).toBeNull();
    await patch(photos[2]!, { caption: 'x' });
    expect((await patch(photos[2]!, { caption: null })).body.caption).toBeNull();
  });

  it('refuses what cannot be a caption with 422 naming the field, and never a 500', async () => {
    const long = await patch(photos[0]!, { caption: '가'.repeat(201) });
    expect([long.status, long.body.error.code, long.body.error.details.field]).toEqual([422, 'validation_failed', 'caption']);
    expect(long.body.error.message).toMatch(/200 characters/);
    for (const bad of ['line one\nline two', 'tab\there', 'bell\u0007', 'nul\u0000']) {
      const r = await patch(photos[0]!, { caption: bad });
      expect([r.status, r.body.error.code]).toEqual([422, 'validation_failed']);
    }
    expect((await patch(photos[0]!, { caption: 42 })).status).toBe(422);
    expect((await patch(photos[0]!, {})).status).toBe(422);
    expect((await send('PATCH', `/api/v1/projects/${memA}/assets/${photos[0]}`, { as: A, raw: '{"caption": "\\ud800"}' })).status).toBe(422);
    // still what it was
    expect((await send('GET', `/api/v1/projects/${memA}/assets`, { as: A })).body.items[0].caption).toBe("Grandma's wedding, Busan 1962");
  });

  it("is another family's business: 404, exactly as for a photo that does not exist", async () => {
    const foreign = await patch(photos[0]!, { caption: 'not yours' }, B);
    const missing = await patch('no-such-photo', { caption: 'x' });
    expect([foreign.status, foreign.body.error.code]).toEqual([404, 'not_found']);
    expect([missing.status, missing.body.error.code]).toEqual([404, 'not_found']);
    expect((await send('PATCH', `/api/v1/projects/${memA}/assets/${photos[0]}`, { json: { caption: 'anon' } })).status).toBe(401);
    expect((await db.repos.assets.find(memA, photos[0]!))?.caption).toBe("Grandma's wedding, Busan 1962");
  });

  it('a relative gives one with a contribute link; a bad one refuses the upload (422, nothing kept)', async () => {
    const link = await send('POST', `/api/v1/projects/${memA}/links`, { as: A, json: { kind: 'contribute', label: 'Cousins' } });
    const key = (link.body.url as string).split('#/s/')[1]!;
    const up = await send('POST', '/api/v1/shared/assets', { key, form: await form([140], { contributor_name: 'Aunt May', caption: '할머니와 함께, 1975' }) });
    expect(up.status).toBe(201);
    expect(up.body.items.map((a: any) => [a.contributor_name, a.caption])).toEqual([['Aunt May', '할머니와 함께, 1975']]);
    const bad = await send('POST', '/api/v1/shared/assets', { key, form: await form([160], { contributor_name: 'Aunt May', caption: 'two\nlines' }) });
    expect([bad.status, bad.body.error.details.field]).toEqual([422, 'caption']);
    const tooLong = await send('POST', '/api/v1/shared/assets', { key, form: await form([170], { contributor_name: 'Aunt May', caption: 'x'.repeat(201) }) });
    expect(tooLong.status).toBe(422);
    expect((await send('GET', '/api/v1/shared/assets', { key })).body.items).toHaveLength(1);
    // a link holder cannot edit captions: links are no credential for /projects
    expect((await send('PATCH', `/api/v1/projects/${memA}/assets/${up.body.items[0].id}`, { key, json: { caption: 'mine' } })).status).toBe(401);
  });
});

describe('the caption style', () => {
  it('is lower_third by default, set at creation or with PATCH; bad values 422, others 404', async () => {
    expect((await send('GET', `/api/v1/projects/${memA}`, { as: A })).body.settings.caption_style).toBe('lower_third');
    const off = await send('POST', '/api/v1/projects', { as: A, json: { title: 'Quiet', caption_style: 'off' } });
    expect(off.body.settings.caption_style).toBe('off');
    expect((await send('POST', '/api/v1/projects', { as: A, json: { title: 'Bad', caption_style: 'subtitles' } })).status).toBe(422);
    const p = await send('PATCH', `/api/v1/projects/${off.body.id}`, { as: A, json: { caption_style: 'lower_third' } });
    expect([p.status, p.body.settings.caption_style]).toEqual([200, 'lower_third']);
    expect((await send('PATCH', `/api/v1/projects/${off.body.id}`, { as: A, json: { caption_style: 'huge' } })).status).toBe(422);
    expect((await send('PATCH', `/api/v1/projects/${off.body.id}`, { as: B, json: { caption_style: 'off' } })).status).toBe(404);
  });
});

describe('captions in the pipeline', () => {
  it('the plan puts them in clip payloads (none when the style is off); remakes reuse only clips with the same captions', async () => {
    await patch(photos[2]!, { caption: '결혼식, 부산 1962' });
    const project = (await db.repos.projects.find(memA))!;
    const rows = await db.repos.assets.photos(memA);
    const plan = planFor(project, rows, null);
    const [a, b, c] = rows.map((r) => r.id);
    expect(transitionPayload(plan, 0).captions).toEqual({ from: "Grandma's wedding, Busan 1962", to: null, opening: true });
    expect(transitionPayload(plan, 1).captions).toEqual({ from: null, to: '결혼식, 부산 1962', opening: false });
    expect(lastClipPayload(plan).caption).toBe('결혼식, 부산 1962');
    expect(planFor({ ...project, caption_style: 'off' }, rows, null).captions).toEqual({});
    expect(transitionPayload(planFor({ ...project, caption_style: 'off' }, rows, null), 0).captions).toBeNull();

    // a clip made with one caption is found only with that caption
    const made = transitionPayload(plan, 1);
    await transaction(db.repos, async (em) => {
      const env = await db.repos.jobs.insert(em, { type: 'transition', projectId: memA, params: {}, payload: made });
      await db.repos.jobs.finish(em, env.job_id, {
        status: 'succeeded',
        result: { clip_key: 'k', frames: 180, provider: 'classic', attempts: 1, fallback_reason: null, method_version: CLIP_VERSION },
        error: null,
        at: new Date(),
      });
    });
    expect(await db.repos.jobs.latestTransition(memA, b!, c!, plan, made.captions)).not.toBeNull();
    expect(await db.repos.jobs.latestTransition(memA, b!, c!, plan, { ...made.captions!, to: '결혼식, 부산 1963' })).toBeNull();
    expect(await db.repos.jobs.latestTransition(memA, b!, c!, plan, null)).toBeNull();
    // the closing clip likewise, by its caption
    const closing = lastClipPayload(plan);
    await transaction(db.repos, async (em) => {
      const env = await db.repos.jobs.insert(em, { type: 'last_clip', projectId: memA, params: {}, payload: closing });
      await db.repos.jobs.finish(em, env.job_id, {
        status: 'succeeded',
        result: { clip_key: 'l', frames: 180, provider: 'classic', attempts: 1, fallback_reason: null, method_version: CLIP_VERSION },
        error: null,
        at: new Date(),
      });
    });
    expect(await db.repos.jobs.latestLastClip(memA, c!, plan, closing.caption)).not.toBeNull();
    expect(await db.repos.jobs.latestLastClip(memA, c!, plan, 'another caption')).toBeNull();
    expect(await db.repos.jobs.latestLastClip(memA, c!, plan, null)).toBeNull();
    expect(a).toBeTruthy();
  });
});
