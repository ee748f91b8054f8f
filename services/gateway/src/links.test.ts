// Share links (API.md "Share links (capability links)") through the gateway built by createGateway,
// served over real HTTP on a free port (uploads stream from the Node request), over a real Postgres
// and a real S3 server (s3rver), with real thumbnails. Families A and B; the caller is named by a test
// header read by a fake `authenticate` (sessions and API keys are tested by auth/'s own tests). The
// clock of the signed media URLs is the test's, so their expiry is tested without waiting 15 minutes.

import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { type ServerType, serve } from '@hono/node-server';
import { busNames, objectKeys } from '@mt/contracts';
import { type Bus, config, Storage } from '@mt/platform';
import pg from 'pg';
import S3rver from 's3rver';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGateway } from './app.js';
import type { Principal } from './auth/principal.js';
import { transaction } from './db/index.js';
import { MediaSigner } from './signed-urls.js';
import { freshDatabase, testLog, waitFor } from './test-support.js';
import { storeThumbnail } from './thumbnails.js';
import { WebhookSecrets } from './webhooks/secrets.js';

const AS = 'x-test-account';
const A = 'a@family-a.test';
const B = 'b@family-b.test';
const PUBLIC_URL = 'https://memorial.example';
const UPLOAD_CAP = 3;

let db: Awaited<ReturnType<typeof freshDatabase>>;
let work: string;
let s3: S3rver;
let storage: Storage;
let server: ServerType;
let base: string;
let clock = Date.now();
const fakeBus = { nc: { subscribe: () => ({ unsubscribe() {} }) }, names: busNames('mt_links_test') } as unknown as Bus;
/** Every key and password the test made, to search Postgres for afterwards. */
const secrets: string[] = [];

function gateway(links: Parameters<typeof createGateway>[0]['links']) {
  return createGateway({
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
    links,
    webhookSecrets: new WebhookSecrets('links test auth secret, at least 32 characters long'),
  });
}

interface Sent {
  status: number;
  headers: Headers;
  body: any;
  bytes: Buffer;
}

async function send(
  method: string,
  url: string,
  o: { as?: string; key?: string; password?: string; json?: unknown; form?: FormData; headers?: Record<string, string> } = {},
): Promise<Sent> {
  const headers: Record<string, string> = { ...o.headers };
  if (o.as) headers[AS] = o.as;
  if (o.key) headers['mt-link-key'] = o.key;
  if (o.password) headers['mt-link-password'] = o.password;
  let body: RequestInit['body'];
  if (o.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(o.json);
  } else if (o.form) body = o.form;
  const res = await fetch(new URL(url, base), { method, headers, body });
  const bytes = Buffer.from(await res.arrayBuffer());
  let json: any = null;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch {}
  return { status: res.status, headers: res.headers, body: json, bytes };
}

const keyOf = (url: string) => url.split('#/s/')[1]!;

async function makeLink(project: string, body: Record<string, unknown>, as = A): Promise<{ id: string; key: string; body: any }> {
  const r = await send('POST', `/api/v1/projects/${project}/links`, { as, json: body });
  expect(r.status).toBe(201);
  const key = keyOf(r.body.url);
  secrets.push(key);
  if (typeof body.password === 'string') secrets.push(body.password);
  return { id: r.body.id, key, body: r.body };
}

async function photo(shade: number): Promise<Blob> {
  const bytes = await sharp({ create: { width: 64, height: 48, channels: 3, background: { r: shade, g: 100, b: 200 - shade } } })
    .jpeg()
    .toBuffer();
  return new Blob([new Uint8Array(bytes)], { type: 'image/jpeg' });
}

async function photosForm(name: string | null, shades: number[]): Promise<FormData> {
  const form = new FormData();
  if (name !== null) form.append('contributor_name', name);
  for (const s of shades) form.append('files', await photo(s), `photo-${s}.jpg`);
  return form;
}

/** A memorial with a rendered video (its bytes known) and poster, made by `as`. */
async function memorial(as: string, title: string, video: Buffer) {
  const p = (await send('POST', '/api/v1/projects', { as, json: { title, subject_name: `${title} subject`, born: '1931', died: '2024' } })).body;
  const jobId = `job-${p.id}`;
  await storage.putBytes(objectKeys.video(p.id, jobId), video, 'video/mp4');
  await storage.putBytes(objectKeys.poster(p.id, jobId), Buffer.from('poster'), 'image/jpeg');
  await transaction(db.repos, (em) =>
    db.repos.projects.setVideo(em, p.id, {
      job_id: jobId,
      url: `/api/v1/projects/${p.id}/video`,
      duration_seconds: 12,
      size_bytes: video.length,
      poster_url: `/api/v1/projects/${p.id}/poster`,
      video_key: objectKeys.video(p.id, jobId),
      poster_key: objectKeys.poster(p.id, jobId),
    }),
  );
  return p as { id: string; title: string };
}

const videoOfA = Buffer.from(Array.from({ length: 5000 }, (_, i) => i % 251));
let memA: { id: string; title: string };
let memB: { id: string; title: string };

beforeAll(async () => {
  db = await freshDatabase();
  work = await mkdtemp(path.join(os.tmpdir(), 'mt-links-test-'));
  s3 = new S3rver({ address: '127.0.0.1', port: 0, directory: path.join(work, 's3'), silent: true });
  const { port } = await s3.run();
  storage = new Storage('links-test', { ...config.s3, endpoint: `http://127.0.0.1:${port}` });
  await storage.ensureBucket();
  const app = gateway({ publicUrl: PUBLIC_URL, uploadCap: UPLOAD_CAP, signer: new MediaSigner('test secret', 15 * 60, () => clock) });
  server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise<void>((resolve) => server.once('listening', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  memA = await memorial(A, 'In memory of Grace Kim', videoOfA);
  memB = await memorial(B, 'Remembering Tom Lee', Buffer.from('b-video'));
}, 60_000);
afterAll(async () => {
  await new Promise((r) => server?.close(r));
  await s3?.close();
  await db?.drop();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('members manage links', () => {
  it('makes a link whose url carries a 256-bit key once; lists and revokes without keys; others get 404, nobody 401', async () => {
    const made = await makeLink(memA.id, { kind: 'view', label: 'Church', allow_download: true });
    expect(made.body).toMatchObject({ kind: 'view', label: 'Church', allow_download: true, moderated: false, use_count: 0, last_used_at: null });
    expect(made.body.url).toMatch(/^https:\/\/memorial\.example\/#\/s\/[A-Za-z0-9_-]{43}$/);
    const contribute = await makeLink(memA.id, { kind: 'contribute' });
    expect(contribute.body.moderated).toBe(true);

    const list = await send('GET', `/api/v1/projects/${memA.id}/links`, { as: A });
    expect(list.body.items.map((l: any) => l.id)).toEqual([made.id, contribute.id]);
    expect(JSON.stringify(list.body)).not.toContain(made.key);
    expect(list.body.items[0].url).toBeUndefined();

    expect((await send('GET', `/api/v1/projects/${memA.id}/links`, { as: B })).status).toBe(404);
    expect((await send('POST', `/api/v1/projects/${memA.id}/links`, { as: B, json: { kind: 'view' } })).status).toBe(404);
    expect((await send('DELETE', `/api/v1/projects/${memA.id}/links/${made.id}`, { as: B })).status).toBe(404);
    expect((await send('POST', `/api/v1/projects/${memA.id}/links`, { json: { kind: 'view' } })).status).toBe(401);

    const bad = await send('POST', `/api/v1/projects/${memA.id}/links`, { as: A, json: { kind: 'contribute', allow_download: true } });
    expect([bad.status, bad.body.error.details.field]).toEqual([422, 'allow_download']);
    const past = await send('POST', `/api/v1/projects/${memA.id}/links`, { as: A, json: { kind: 'view', expires_at: '2020-01-01T00:00:00Z' } });
    expect([past.status, past.body.error.details.field]).toEqual([422, 'expires_at']);

    expect((await send('GET', '/api/v1/shared', { key: made.key })).status).toBe(200);
    expect((await send('DELETE', `/api/v1/projects/${memA.id}/links/${made.id}`, { as: A })).status).toBe(204);
    expect((await send('GET', '/api/v1/shared', { key: made.key })).status).toBe(404);
    expect((await send('DELETE', `/api/v1/projects/${memA.id}/links/${made.id}`, { as: A })).status).toBe(404);
  });
});

describe('a view link', () => {
  it('shows the memorial and a video that plays with Range from signed URLs without the key, until they expire', async () => {
    const link = await makeLink(memA.id, { kind: 'view' });
    const r = await send('GET', '/api/v1/shared', { key: link.key });
    expect(r.status).toBe(200);
    expect(r.headers.get('referrer-policy')).toBe('no-referrer');
    expect(r.headers.get('x-robots-tag')).toContain('noindex');
    expect(r.body).toMatchObject({
      kind: 'view',
      project: { title: memA.title, subject_name: `${memA.title} subject`, born: '1931', died: '2024' },
      video: { duration_seconds: 12 },
      can_download: false,
      can_upload: false,
    });
    expect(JSON.stringify(r.body)).not.toContain(memA.id);

    const part = await send('GET', r.body.video.url, { headers: { range: 'bytes=100-199' } });
    expect([part.status, part.headers.get('content-range'), part.headers.get('content-type')]).toEqual([206, `bytes 100-199/${videoOfA.length}`, 'video/mp4']);
    expect(part.bytes.equals(videoOfA.subarray(100, 200))).toBe(true);
    expect(part.headers.get('referrer-policy')).toBe('no-referrer');
    expect((await send('GET', r.body.video.poster_url)).bytes.toString()).toBe('poster');

    const tampered = r.body.video.url.replace(/.$/, (ch: string) => (ch === 'A' ? 'Q' : 'A'));
    expect((await send('GET', tampered)).status).toBe(404);
    // The last base64url character carries two unused bits: its three other spellings of the same bytes are refused too.
    const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const last = B64.indexOf(r.body.video.url.at(-1)!);
    for (let low = 0; low < 4; low++) {
      const other = (last & ~3) | low;
      if (other !== last) expect((await send('GET', `${r.body.video.url.slice(0, -1)}${B64[other]}`)).status).toBe(404);
    }
    clock += 16 * 60 * 1000;
    try {
      expect((await send('GET', r.body.video.url, { headers: { range: 'bytes=0-9' } })).status).toBe(404);
    } finally {
      clock = Date.now();
    }
    const links = (await send('GET', `/api/v1/projects/${memA.id}/links`, { as: A })).body.items;
    expect(links.find((l: any) => l.id === link.id)).toMatchObject({ use_count: 1 });
    expect(links.find((l: any) => l.id === link.id).last_used_at).not.toBeNull();
  });

  it('refuses unknown, expired and foreign keys with 404, a missing or wrong password with 401', async () => {
    expect((await send('GET', '/api/v1/shared', { key: 'x'.repeat(43) })).body.error.code).toBe('not_found');
    expect((await send('GET', '/api/v1/shared')).status).toBe(401);

    const soon = await makeLink(memA.id, { kind: 'view', expires_at: new Date(Date.now() + 1500).toISOString() });
    expect((await send('GET', '/api/v1/shared', { key: soon.key })).status).toBe(200);
    const status = await waitFor(
      'the link to expire',
      async () => {
        const s = (await send('GET', '/api/v1/shared', { key: soon.key })).status;
        return s !== 200 && s;
      },
      10_000,
      200,
    );
    expect(status).toBe(404);

    // B's link shows B's memorial and nothing of A's.
    const ofB = await makeLink(memB.id, { kind: 'view' }, B);
    const seen = await send('GET', '/api/v1/shared', { key: ofB.key });
    expect(seen.body.project.title).toBe(memB.title);
    expect(JSON.stringify(seen.body)).not.toContain(memA.title);

    const locked = await makeLink(memA.id, { kind: 'view', password: 'rosemary 1931' });
    const none = await send('GET', '/api/v1/shared', { key: locked.key });
    expect([none.status, none.body.error.code]).toEqual([401, 'password_required']);
    const wrong = await send('GET', '/api/v1/shared', { key: locked.key, password: 'rosemary' });
    expect([wrong.status, wrong.body.error.code]).toEqual([401, 'password_required']);
    expect((await send('GET', '/api/v1/shared', { key: locked.key, password: 'rosemary 1931' })).status).toBe(200);
  });

  it('is no credential for any /projects or /jobs path (401) and cannot upload (403)', async () => {
    const link = await makeLink(memA.id, { kind: 'view' });
    for (const [method, url] of [
      ['GET', '/api/v1/projects'],
      ['GET', `/api/v1/projects/${memA.id}`],
      ['GET', `/api/v1/projects/${memA.id}/video`],
      ['GET', `/api/v1/projects/${memA.id}/assets`],
      ['GET', `/api/v1/projects/${memA.id}/links`],
      ['DELETE', `/api/v1/projects/${memA.id}`],
      ['GET', '/api/v1/jobs'],
    ] as const) {
      const r = await send(method, url, { key: link.key });
      expect([method, url, r.status]).toEqual([method, url, 401]);
    }
    const up = await send('POST', '/api/v1/shared/assets', { key: link.key, form: await photosForm('Aunt May', [10]) });
    expect(up.status).toBe(403);
    expect((await send('GET', '/api/v1/shared/assets', { key: link.key })).status).toBe(403);
  });
});

describe('a contribute link', () => {
  it('uploads named photos that wait for approval before any video uses them; sees only its own; a cap', async () => {
    const link = await makeLink(memA.id, { kind: 'contribute', label: 'Cousins' });
    const other = await makeLink(memA.id, { kind: 'contribute' });
    const hook = await send('POST', '/api/v1/webhooks', { as: A, json: { url: 'https://hooks.example/mt', events: ['asset.contributed'] } });
    expect(hook.status).toBe(201);

    const shared = await send('GET', '/api/v1/shared', { key: link.key });
    expect(shared.body).toMatchObject({ kind: 'contribute', video: null, can_upload: true, can_download: false });

    const nameless = await send('POST', '/api/v1/shared/assets', { key: link.key, form: await photosForm(null, [20]) });
    expect([nameless.status, nameless.body.error.details.field]).toEqual([422, 'contributor_name']);

    const up = await send('POST', '/api/v1/shared/assets', { key: link.key, form: await photosForm('  Aunt May ', [30, 60]) });
    expect(up.status).toBe(201);
    expect(up.headers.get('referrer-policy')).toBe('no-referrer');
    expect(up.body.items.map((a: any) => [a.contributor_name, a.review, a.kind])).toEqual([
      ['Aunt May', 'pending', 'photo'],
      ['Aunt May', 'pending', 'photo'],
    ]);
    const thumb = await send('GET', up.body.items[0].thumbnail_url);
    expect([thumb.status, thumb.headers.get('content-type')]).toEqual([200, 'image/webp']);

    const [first, second] = up.body.items.map((a: any) => a.id as string);
    // The owner's integration hears of it (a delivery written with the photos).
    const deliveries = await db.repos.webhooks.deliveries(hook.body.id);
    expect(deliveries.map((d) => d.type)).toEqual(['asset.contributed']);
    // Members see them, pending; no video would use them.
    const listed = await send('GET', `/api/v1/projects/${memA.id}/assets`, { as: A });
    expect(listed.body.items.filter((a: any) => a.review === 'pending').map((a: any) => a.id)).toEqual([first, second]);
    expect((await db.repos.assets.photos(memA.id)).map((a) => a.id)).toEqual([]);

    // Only this link's uploads, to see and to take back.
    expect((await send('GET', '/api/v1/shared/assets', { key: other.key })).body.items).toEqual([]);
    expect((await send('DELETE', `/api/v1/shared/assets/${first}`, { key: other.key })).status).toBe(404);
    const mine = await send('GET', '/api/v1/shared/assets', { key: link.key });
    expect(mine.body.items.map((a: any) => a.id)).toEqual([first, second]);

    // The cap counts every photo the link brought.
    const over = await send('POST', '/api/v1/shared/assets', { key: link.key, form: await photosForm('Aunt May', [90, 120]) });
    expect([over.status, over.body.error.code]).toEqual([422, 'validation_failed']);

    // Approval: B cannot, A can; from then on the pipeline uses it.
    expect((await send('POST', `/api/v1/projects/${memA.id}/assets/${first}/approve`, { as: B })).status).toBe(404);
    const ok = await send('POST', `/api/v1/projects/${memA.id}/assets/${first}/approve`, { as: A });
    expect([ok.status, ok.body.review, ok.body.contributor_name]).toEqual([200, 'approved', 'Aunt May']);
    expect((await db.repos.assets.photos(memA.id)).map((a) => a.id)).toEqual([first]);

    // Taking back: a pending photo goes; one approved before the memorial was rendered again stays (409).
    expect((await send('DELETE', `/api/v1/shared/assets/${second}`, { key: link.key })).status).toBe(204);
    await transaction(db.repos, async (em) => {
      const jobId = await db.repos.jobs.insert(em, { type: 'pipeline', projectId: memA.id, params: { project_id: memA.id }, payload: { project_id: memA.id } });
      const p = (await db.repos.projects.find(memA.id, em))!;
      await db.repos.projects.setVideo(em, memA.id, { ...p.video!, job_id: jobId.job_id });
    });
    const late = await send('DELETE', `/api/v1/shared/assets/${first}`, { key: link.key });
    expect([late.status, late.body.error.code]).toEqual([409, 'conflict']);

    // Revoked: the link works no more; its photos stay with the memorial.
    expect((await send('DELETE', `/api/v1/projects/${memA.id}/links/${link.id}`, { as: A })).status).toBe(204);
    expect((await send('GET', '/api/v1/shared/assets', { key: link.key })).status).toBe(404);
    expect((await db.repos.assets.find(memA.id, first))?.contributor_name).toBe('Aunt May');
  });
});

describe('abuse and privacy', () => {
  it('limits link use per address: 429 with Retry-After', async () => {
    const strict = gateway({ usesPerIpPerMinute: 3 });
    const codes: number[] = [];
    for (let i = 0; i < 4; i++) codes.push((await strict.request('/api/v1/shared', { headers: { 'mt-link-key': 'nope' } })).status);
    expect(codes).toEqual([404, 404, 404, 429]);
    expect(Number((await strict.request('/api/v1/shared', { headers: { 'mt-link-key': 'nope' } })).headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('keeps no link key or password in clear in any text column of Postgres', async () => {
    expect(secrets.length).toBeGreaterThan(5);
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    try {
      const cols = await c.query<{ table_name: string; column_name: string }>(
        `select table_name, column_name from information_schema.columns
         where table_schema = 'public' and data_type in ('text', 'character varying', 'json', 'jsonb')`,
      );
      const found: string[] = [];
      for (const { table_name, column_name } of cols.rows)
        for (const s of secrets) {
          const hit = await c.query(`select 1 from "${table_name}" where "${column_name}"::text like '%' || $1 || '%' limit 1`, [s]);
          if (hit.rowCount) found.push(`${table_name}.${column_name}`);
        }
      expect(found).toEqual([]);
      expect(cols.rows.some((r) => r.table_name === 'share_links' && r.column_name === 'key_hash')).toBe(true);
    } finally {
      await c.end();
    }
  });
});
