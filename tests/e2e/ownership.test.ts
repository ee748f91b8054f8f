// Whose memorial is it, on the whole stack with real API keys: family A makes and runs a memorial; B,
// with a key of their own, reaches none of it (the 404 of a missing thing, nothing in their lists);
// nobody gets 401; C, an organiser A invites, runs it but may not delete it. The run's commands and
// events carry A's account as the workers emitted them; deleting leaves no row and no file.
import path from 'node:path';
import { createMemorialClient, ok } from '@mt/client';
import { config, Storage } from '@mt/platform';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKeyForEmail } from '../../services/gateway/src/auth/api-keys.js';
import { CORPUS, Stack } from '../lib/stack.js';

const stack = new Stack();
const PHOTOS = ['kodak/kodim23.png', 'kodak/kodim04.png', 'everyday_cc0/coffee_michetti_cc0.png'].map((p) => path.join(CORPUS, 'photos', p));
type Client = ReturnType<typeof createMemorialClient>;
const people: Record<'A' | 'B' | 'C', { key: string; id: string; api: Client }> = {} as never;
let base: string;
let db: pg.Client;
let storage: Storage;
let projectId: string;
let runId: string;

/** A request as it is sent, answered as it came (status and text). */
async function raw(key: string | null, method: string, url: string, body?: unknown) {
  const headers: Record<string, string> = key ? { authorization: `Bearer ${key}` } : {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  const r = await fetch(`${base}${url}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: r.status, text: await r.text() };
}

beforeAll(async () => {
  const e = await stack.start();
  base = e.url;
  for (const [who, email] of [
    ['A', 'owner@family-a.test'],
    ['B', 'someone@family-b.test'],
    ['C', 'cousin@family-a.test'],
  ] as const) {
    const made = await createApiKeyForEmail(e.databaseUrl, email);
    people[who] = { key: made.key, id: made.account.id, api: createMemorialClient(base, { headers: { authorization: `Bearer ${made.key}` } }) };
  }
  db = new pg.Client({ connectionString: e.databaseUrl });
  await db.connect();
  storage = new Storage(e.bucket, { ...config.s3, endpoint: e.s3Endpoint, forcePathStyle: true });
  const { api } = people.A;
  projectId = ok(await api.POST('/api/v1/projects', { body: { title: 'In memory of Grace Kim', resolution: '720p', transition_style: 'classic' } })).id;
  ok(
    await api.uploadFiles(
      projectId,
      PHOTOS.map((p) => ({ path: p })),
    ),
  );
  runId = ok(await api.POST('/api/v1/projects/{project_id}/run', { params: { path: { project_id: projectId } } })).id;
  const done = await api.waitForJob(runId, { timeoutMs: 240_000, intervalMs: 200 });
  expect(done.status).toBe('succeeded');
}, 300_000);
afterAll(async () => {
  await db?.end();
  await stack.stop();
});

describe('ownership on the stack', () => {
  it("B's key reaches nothing of A's: every path answers like a missing thing, and B's lists are empty", async () => {
    const assetId = ok(await people.A.api.GET('/api/v1/projects/{project_id}/assets', { params: { path: { project_id: projectId } } })).items[0]!.id;
    const P = `/api/v1/projects/${projectId}`;
    const paths: Array<[string, string, unknown?]> = [
      ['GET', P],
      ['DELETE', P],
      ['GET', `${P}/assets`],
      ['DELETE', `${P}/assets/${assetId}`],
      ['PUT', `${P}/assets/order`, { asset_ids: [assetId] }],
      ['GET', `${P}/assets/${assetId}/thumbnail`],
      ['GET', `${P}/video`],
      ['GET', `${P}/poster`],
      ['POST', `${P}/run`],
      ['GET', `${P}/preview`],
      ['POST', `${P}/preview`],
      ['POST', `${P}/cancel`],
      ['POST', `${P}/remake`, { from_asset_id: assetId, to_asset_id: assetId }],
      ['GET', `${P}/organisers`],
      ['POST', `${P}/organisers`, { email: 'x@y.test' }],
      ['POST', '/api/v1/jobs/pipeline', { project_id: projectId }],
      ['POST', '/api/v1/jobs/render', { project_id: projectId }],
      ['GET', `/api/v1/jobs/${runId}`],
      ['GET', `/api/v1/jobs/${runId}/runtime`],
      ['GET', `/api/v1/jobs/${runId}/events`],
      ['POST', `/api/v1/jobs/${runId}/cancel`],
    ];
    for (const [method, url, body] of paths) {
      const r = await raw(people.B.key, method, url, body);
      expect([method, url, r.status]).toEqual([method, url, 404]);
      expect(r.text).not.toContain('Grace');
      expect((await raw(null, method, url, body)).status).toBe(401);
    }
    const B = people.B.api;
    expect(ok(await B.GET('/api/v1/projects', {})).items).toEqual([]);
    expect(ok(await B.GET('/api/v1/jobs', {})).items).toEqual([]);
    expect(ok(await B.GET('/api/v1/jobs', { params: { query: { project_id: projectId } } })).items).toEqual([]);
  });

  it("every command and event of A's run, as the workers and the coordinator sent them, names A's account", async () => {
    const { rows } = await db.query<{ service: string; account_id: string | null }>(
      `select e.service, e.body->>'account_id' as account_id from job_events e join jobs j on j.id = e.job_id where j.project_id = $1`,
      [projectId],
    );
    expect(new Set(rows.map((r) => r.service))).toEqual(new Set(['coordinator', 'canvas', 'transition', 'render']));
    expect(rows.filter((r) => r.account_id !== people.A.id)).toEqual([]);
    const cmds = await db.query(
      `select body->>'account_id' as account_id from outbox where kind = 'command' and job_id in (select id from jobs where project_id = $1)`,
      [projectId],
    );
    expect(cmds.rows.length).toBeGreaterThan(3);
    expect(cmds.rows.filter((r) => r.account_id !== people.A.id)).toEqual([]);
  });

  it('an organiser watches and runs, but may not delete the memorial (403); the owner deletes it with every file', async () => {
    const invited = await raw(people.A.key, 'POST', `/api/v1/projects/${projectId}/organisers`, { email: 'cousin@family-a.test' });
    expect(invited.status).toBe(201);
    const C = people.C.api;
    expect(ok(await C.GET('/api/v1/projects', {})).items.map((p) => p.id)).toEqual([projectId]);
    const video = await C.fetchVideo(projectId, { range: 'bytes=0-99' });
    expect(video.status).toBe(206);
    expect((await raw(people.C.key, 'DELETE', `/api/v1/projects/${projectId}`)).status).toBe(403);

    const keys = await storage.list(`projects/${projectId}/`);
    for (const part of ['/uploads/', '/thumbnails/', '/canvases/', '/jobs/', '/soundtracks/']) expect(keys.some((k) => k.includes(part))).toBe(true);
    expect((await raw(people.A.key, 'DELETE', `/api/v1/projects/${projectId}`)).status).toBe(204);
    expect(await storage.list(`projects/${projectId}/`)).toEqual([]);
    const left = await db.query(
      `select (select count(*)::int from projects where id = $1) + (select count(*)::int from project_members where project_id = $1)
            + (select count(*)::int from assets where project_id = $1) + (select count(*)::int from jobs where project_id = $1) as n`,
      [projectId],
    );
    expect(left.rows[0].n).toBe(0);
    expect((await raw(people.C.key, 'GET', `/api/v1/projects/${projectId}`)).status).toBe(404);
  });
});
