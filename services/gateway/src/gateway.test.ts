// The gateway built in process by createGateway (the same factory main.ts calls) over a real Postgres,
// with no bus and no file store: what the HTTP layer decides on its own.

import type { Storage } from '@mt/platform';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AccessPolicy, memberAccess } from './access.js';
import { createGateway } from './app.js';
import { notFound } from './http-errors.js';
import { freshDatabase, testLog } from './test-support.js';

let db: Awaited<ReturnType<typeof freshDatabase>>;
const noStorage = {} as Storage;
const unused = async () => {
  throw new Error('not in this test');
};
// One signed-in account for every request (sessions and keys are the accounts engineer's tests; who
// may see what is access.test.ts's).
let accountId: string;
const gateway = (access: AccessPolicy = memberAccess) =>
  createGateway({
    authenticate: async () => ({ accountId, email: 'family@example.test', via: 'api_key' }),
    repos: db.repos,
    storage: noStorage,
    bus: () => null,
    log: testLog,
    ready: async () => ({}),
    committed: () => {},
    storeThumbnail: unused,
    ensureThumbnail: unused,
    access,
  });
const send = async (app: ReturnType<typeof gateway>, method: string, path: string, body?: unknown) => {
  const res = await app.request(path, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json().catch(() => null)) as any };
};

beforeAll(async () => {
  db = await freshDatabase();
  accountId = await db.repos.members.accountForEmail('family@example.test');
});
afterAll(async () => {
  await db?.drop();
});

describe('createGateway', () => {
  it('creates, lists page by page and reads memorials; a photo-less one has no cover', async () => {
    const app = gateway();
    const ids: string[] = [];
    for (const title of ['First', 'Second', 'Third']) {
      const r = await send(app, 'POST', '/api/v1/projects', { title, resolution: '720p' });
      expect(r.status).toBe(201);
      expect(r.body).toMatchObject({
        title,
        status: 'draft',
        photo_count: 0,
        cover_url: null,
        video: null,
        settings: { resolution: '720p', transition_seconds: 6 },
      });
      ids.push(r.body.id);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const r = await send(app, 'GET', `/api/v1/projects?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(r.status).toBe(200);
      seen.push(...r.body.items.map((p: { id: string }) => p.id));
      cursor = r.body.next_cursor;
    } while (cursor);
    expect(seen).toEqual([...ids].reverse());
    expect((await send(app, 'GET', `/api/v1/projects/${ids[0]}`)).body.title).toBe('First');
  });

  it('answers bad input with the documented 4xx, never 500', async () => {
    const app = gateway();
    expect((await send(app, 'GET', '/api/v1/projects/no-such-id')).body.error.code).toBe('not_found');
    expect((await send(app, 'GET', '/api/v1/projects/%00')).status).toBe(404);
    const nul = await send(app, 'POST', '/api/v1/projects', { title: 'a\u0000b' });
    expect(nul.status).toBe(422);
    expect(nul.body.error.details.field).toBe('title');
    expect((await send(app, 'POST', '/api/v1/projects', '{"title": ')).body.error.code).toBe('invalid_json');
    expect((await send(app, 'GET', '/api/v1/projects?cursor=nonsense')).status).toBe(422);
    expect((await send(app, 'POST', '/api/v1/projects', { title: 'x', fps: 60 })).body.error.details.field).toBe('fps');
  });

  it('refuses to run a memorial without photos (422) and remaking one that has no video (409)', async () => {
    const app = gateway();
    const p = (await send(app, 'POST', '/api/v1/projects', { title: 'Empty' })).body;
    expect((await send(app, 'POST', `/api/v1/projects/${p.id}/run`)).body.error).toMatchObject({ code: 'validation_failed' });
    const remake = await send(app, 'POST', `/api/v1/projects/${p.id}/remake`, { from_asset_id: 'a', to_asset_id: 'b' });
    expect(remake.status).toBe(409);
  });

  it('says the bus is away (503) instead of accepting a job nobody could run', async () => {
    const r = await send(gateway(), 'POST', '/api/v1/jobs/test', { steps: 1 });
    expect(r.status).toBe(503);
    expect(r.body.error.code).toBe('dependency_unavailable');
  });

  it('asks access for every project and job it touches: a policy that hides everything makes every route 404', async () => {
    const app0 = gateway();
    const p = (await send(app0, 'POST', '/api/v1/projects', { title: 'Hidden' })).body;
    const hideAll: AccessPolicy = (c, repos) => ({
      ...memberAccess(c, repos),
      project: async (id) => {
        throw notFound('Project', id);
      },
      asset: async (_p, id) => {
        throw notFound('Asset', id);
      },
      job: async (id) => {
        throw notFound('Job', id);
      },
    });
    const app = gateway(hideAll);
    const calls: Array<[string, string, unknown?]> = [
      ['GET', `/api/v1/projects/${p.id}`],
      ['GET', `/api/v1/projects/${p.id}/assets`],
      ['PUT', `/api/v1/projects/${p.id}/assets/order`, { asset_ids: ['x'] }],
      ['DELETE', `/api/v1/projects/${p.id}/assets/x`],
      ['GET', `/api/v1/projects/${p.id}/assets/x/thumbnail`],
      ['POST', `/api/v1/projects/${p.id}/assets`],
      ['GET', `/api/v1/projects/${p.id}/video`],
      ['GET', `/api/v1/projects/${p.id}/poster`],
      ['POST', `/api/v1/projects/${p.id}/run`],
      ['POST', `/api/v1/projects/${p.id}/cancel`],
      ['POST', `/api/v1/projects/${p.id}/remake`, { from_asset_id: 'a', to_asset_id: 'b' }],
      ['POST', '/api/v1/jobs/canvas', { project_id: p.id }],
      ['POST', '/api/v1/jobs/render', { project_id: p.id }],
      ['POST', '/api/v1/jobs/pipeline', { project_id: p.id }],
      ['POST', '/api/v1/jobs/transition', { project_id: p.id, from_asset_id: 'a', to_asset_id: 'b' }],
      ['POST', '/api/v1/jobs/last-clip', { project_id: p.id, asset_id: 'a' }],
      ['GET', '/api/v1/jobs/some-job'],
      ['GET', '/api/v1/jobs/some-job/runtime'],
      ['GET', '/api/v1/jobs/some-job/events'],
      ['POST', '/api/v1/jobs/some-job/cancel'],
    ];
    for (const [method, path, body] of calls) expect([method, path, (await send(app, method, path, body)).status]).toEqual([method, path, 404]);
  });

  it('documents every operation with an id and a summary, and names its schemas', async () => {
    const doc = (await send(gateway(), 'GET', '/openapi.json')).body;
    const ops = Object.values(doc.paths as Record<string, Record<string, { operationId?: string; summary?: string }>>).flatMap((p) => Object.values(p));
    expect(ops.length).toBeGreaterThanOrEqual(20);
    for (const op of ops) expect(op.operationId && op.summary).toBeTruthy();
    expect(Object.keys(doc.components.schemas)).toEqual(expect.arrayContaining(['Project', 'Asset', 'Job', 'Runtime', 'Error']));
  });
});
