// Share links on the whole stack: family A makes a moderated contribute link; a relative with no
// account (no credential but the link's key) adds two photos with their name; A approves one; the run
// uses A's photos and the approved one, never the pending one. A view link then plays the finished
// video from a short-lived signed URL with Range and no key. No link key or password is in clear in
// Postgres or in any service's log.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { ok } from '@mt/client';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CORPUS, OUTPUT, Stack, type TestAccount } from '../lib/stack.js';

const stack = new Stack();
const photo = (p: string) => path.join(CORPUS, 'photos', p);
const OWNER_PHOTOS = ['kodak/kodim23.png', 'kodak/kodim04.png'].map(photo);
const CONTRIBUTED = ['everyday_cc0/coffee_michetti_cc0.png', 'kodak/kodim15.png'].map(photo);
let base: string;
let A: TestAccount;
let projectId: string;
/** Every link key and password made, to search for afterwards. */
const secrets: string[] = [];

async function send(
  method: string,
  url: string,
  o: { bearer?: string; key?: string; password?: string; json?: unknown; form?: FormData; range?: string } = {},
) {
  const headers: Record<string, string> = {};
  if (o.bearer) headers.authorization = `Bearer ${o.bearer}`;
  if (o.key) headers['mt-link-key'] = o.key;
  if (o.password) headers['mt-link-password'] = o.password;
  if (o.range) headers.range = o.range;
  let body: RequestInit['body'];
  if (o.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(o.json);
  } else body = o.form;
  const r = await fetch(new URL(url, base), { method, headers, body });
  const bytes = Buffer.from(await r.arrayBuffer());
  let json: any = null;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch {}
  return { status: r.status, headers: r.headers, body: json, bytes };
}

async function makeLink(body: Record<string, unknown>): Promise<{ id: string; key: string }> {
  const r = await send('POST', `/api/v1/projects/${projectId}/links`, { bearer: A.key, json: body });
  expect(r.status).toBe(201);
  const key = String(r.body.url).split('#/s/')[1]!;
  secrets.push(key);
  if (typeof body.password === 'string') secrets.push(body.password);
  return { id: r.body.id, key };
}

beforeAll(async () => {
  const e = await stack.start();
  base = e.url;
  A = e.account;
  projectId = ok(
    await A.api.POST('/api/v1/projects', {
      body: { title: 'In memory of Grace Kim', subject_name: 'Grace Kim', resolution: '720p', transition_style: 'classic' },
    }),
  ).id;
  ok(
    await A.api.uploadFiles(
      projectId,
      OWNER_PHOTOS.map((p) => ({ path: p })),
    ),
  );
}, 120_000);
afterAll(async () => {
  await stack.stop();
});

describe('share links on the stack', () => {
  let approved: string;
  let pending: string;
  let contribute: { id: string; key: string };

  it('a relative with only a contribute link adds named photos; they wait for approval; the run uses the approved one only', async () => {
    contribute = await makeLink({ kind: 'contribute', label: 'Cousins', password: 'grace 1931' });
    const form = new FormData();
    form.append('contributor_name', 'Cousin Min-ji');
    for (const p of CONTRIBUTED) form.append('files', new Blob([new Uint8Array(await readFile(p))], { type: 'image/png' }), path.basename(p));
    const up = await send('POST', '/api/v1/shared/assets', { key: contribute.key, password: 'grace 1931', form });
    expect(up.status).toBe(201);
    expect(up.headers.get('referrer-policy')).toBe('no-referrer');
    expect(up.body.items.map((a: any) => [a.contributor_name, a.review])).toEqual([
      ['Cousin Min-ji', 'pending'],
      ['Cousin Min-ji', 'pending'],
    ]);
    [approved, pending] = up.body.items.map((a: any) => a.id as string);

    // The key is a credential for nothing under /projects.
    expect((await send('GET', `/api/v1/projects/${projectId}/assets`, { key: contribute.key, password: 'grace 1931' })).status).toBe(401);

    const ok200 = await send('POST', `/api/v1/projects/${projectId}/assets/${approved}/approve`, { bearer: A.key });
    expect([ok200.status, ok200.body.review]).toEqual([200, 'approved']);

    const run = await send('POST', `/api/v1/projects/${projectId}/run`, { bearer: A.key });
    expect(run.status).toBe(202);
    const done = await A.api.waitForJob(run.body.id, { timeoutMs: 240_000, intervalMs: 250 });
    expect(done.status).toBe('succeeded');
    const planned = ((done.params as any).plan.photos as Array<{ asset_id: string }>).map((p) => p.asset_id);
    expect(planned).toContain(approved);
    expect(planned).not.toContain(pending);
    expect(planned).toHaveLength(3);

    // Now in the video, the approved photo cannot be taken back by the link; the pending one can.
    expect((await send('DELETE', `/api/v1/shared/assets/${approved}`, { key: contribute.key, password: 'grace 1931' })).status).toBe(409);
    expect((await send('DELETE', `/api/v1/shared/assets/${pending}`, { key: contribute.key, password: 'grace 1931' })).status).toBe(204);
  }, 300_000);

  it('a view link plays the finished video from signed URLs with Range, without the key', async () => {
    const view = await makeLink({ kind: 'view', allow_download: true });
    const shared = await send('GET', '/api/v1/shared', { key: view.key });
    expect(shared.status).toBe(200);
    expect(shared.headers.get('x-robots-tag')).toContain('noindex');
    expect(shared.body).toMatchObject({ kind: 'view', project: { title: 'In memory of Grace Kim', subject_name: 'Grace Kim' }, can_download: true });
    const head = await send('GET', shared.body.video.url, { range: 'bytes=0-1023' });
    expect([head.status, head.headers.get('content-type'), head.bytes.length]).toEqual([206, 'video/mp4', 1024]);
    expect(head.bytes.subarray(4, 8).toString('latin1')).toBe('ftyp');
    const poster = await send('GET', shared.body.video.poster_url);
    expect([poster.status, poster.headers.get('content-type')]).toEqual([200, 'image/jpeg']);

    expect((await send('DELETE', `/api/v1/projects/${projectId}/links/${view.id}`, { bearer: A.key })).status).toBe(204);
    expect((await send('GET', '/api/v1/shared', { key: view.key })).status).toBe(404);
  });

  it('keeps no link key or password in clear in Postgres or in any log', async () => {
    expect(secrets.length).toBe(3);
    const db = new pg.Client({ connectionString: stack.e.databaseUrl });
    await db.connect();
    const found: string[] = [];
    try {
      const cols = await db.query<{ table_name: string; column_name: string }>(
        `select table_name, column_name from information_schema.columns
         where table_schema = 'public' and data_type in ('text', 'character varying', 'json', 'jsonb')`,
      );
      for (const { table_name, column_name } of cols.rows)
        for (const s of secrets)
          if ((await db.query(`select 1 from "${table_name}" where "${column_name}"::text like '%' || $1 || '%' limit 1`, [s])).rowCount)
            found.push(`${table_name}.${column_name}`);
    } finally {
      await db.end();
    }
    const logs = (await readdir(path.join(OUTPUT, 'logs'))).filter((f) => f.startsWith(`${stack.e.namespace}-`));
    expect(logs.length).toBeGreaterThan(0);
    for (const f of logs) {
      const text = await readFile(path.join(OUTPUT, 'logs', f), 'utf8');
      for (const s of secrets) if (text.includes(s)) found.push(`log ${f}`);
    }
    expect(found).toEqual([]);
  });
});
