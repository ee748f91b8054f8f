// Who may do what (API.md "Who may do what"), through the gateway built by createGateway over a real
// Postgres and a real S3 server (s3rver): two families A and B, and C, an organiser A invites.
//
// The caller is named by a test header read by a fake `authenticate` dep: it stands in for the real
// sessions and API keys (auth/, tested by the accounts engineer's own tests); what is tested here is
// what access decides once the caller is known, and what reaches a caller who is nobody.

import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { busNames, objectKeys } from '@mt/contracts';
import { type Bus, config, Storage } from '@mt/platform';
import S3rver from 's3rver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGateway } from './app.js';
import type { Principal } from './auth/principal.js';
import { dropDatabase, ensureDatabase } from './db/database.js';
import { createRepositories, enqueueJob, transaction } from './db/index.js';
import { createOrm } from './db/orm.js';
import { freshDatabase, testLog } from './test-support.js';

const AS = 'x-test-account';
const A = 'a@family-a.test';
const B = 'b@family-b.test';
const C = 'c@helper.test';

let db: Awaited<ReturnType<typeof freshDatabase>>;
let work: string;
let s3: S3rver;
let storage: Storage;
let app: ReturnType<typeof createGateway>;
const accounts = new Map<string, string>();

/** The bus as far as the gateway's HTTP layer uses it: present (jobs are accepted; their commands wait in the outbox). */
const fakeBus = { nc: { subscribe: () => ({ unsubscribe() {} }) }, names: busNames('mt_access_test') } as unknown as Bus;

async function send(as: string | null, method: string, url: string, body?: unknown) {
  const headers: Record<string, string> = as ? { [AS]: as } : {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await app.request(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let json: any = null;
  try {
    json = JSON.parse(text);
  } catch {}
  return { status: res.status, text, body: json };
}

async function storeObject(key: string, bytes = 'x') {
  await storage.putBytes(key, bytes, 'application/octet-stream');
}

/** A's memorial as it is after a run: photos with thumbnails, a music file, a video, a poster, a soundtrack, clips. */
async function memorialOfA() {
  const p = (await send(A, 'POST', '/api/v1/projects', { title: 'In memory of Grace Kim', subject_name: 'Grace Kim' })).body;
  const assets = ['p1', 'p2', 'p3'].map((n, i) => ({
    id: `${p.id}-${n}`,
    project_id: p.id,
    kind: 'photo' as const,
    filename: `${n}.jpg`,
    content_type: 'image/jpeg',
    size_bytes: 1,
    sha256: `sha-${i}`,
    width: 64,
    height: 48,
    duration_seconds: null,
    object_key: objectKeys.upload(p.id, `${p.id}-${n}`),
    thumbnail_key: objectKeys.thumbnail(p.id, `${p.id}-${n}`, 1),
  }));
  for (const a of assets) {
    await storeObject(a.object_key);
    await storeObject(a.thumbnail_key);
  }
  await transaction(db.repos, (em) => db.repos.assets.insert(em, assets));
  const keys = [
    objectKeys.canvas(p.id, assets[0]!.id, '1080p', 1),
    objectKeys.clip(p.id, 'job-1'),
    objectKeys.soundtrack(p.id, null, 300, 30, 1),
    objectKeys.video(p.id, 'job-1'),
    objectKeys.poster(p.id, 'job-1'),
  ];
  for (const k of keys) await storeObject(k);
  await transaction(db.repos, (em) =>
    db.repos.projects.setVideo(em, p.id, {
      job_id: 'job-1',
      url: `/api/v1/projects/${p.id}/video`,
      duration_seconds: 10,
      size_bytes: 1,
      poster_url: `/api/v1/projects/${p.id}/poster`,
      video_key: objectKeys.video(p.id, 'job-1'),
      poster_key: objectKeys.poster(p.id, 'job-1'),
    }),
  );
  return { project: p as { id: string; title: string }, assets };
}

/** Every path under /projects and /jobs of API.md, aimed at one memorial, one of its photos and one job. */
function everyPath(projectId: string, assetId: string, jobId: string, organiserId: string): Array<[string, string, unknown?]> {
  const P = `/api/v1/projects/${projectId}`;
  return [
    ['GET', P],
    ['DELETE', P],
    ['GET', `${P}/assets`],
    ['POST', `${P}/assets`],
    ['PUT', `${P}/assets/order`, { asset_ids: [assetId] }],
    ['DELETE', `${P}/assets/${assetId}`],
    ['GET', `${P}/assets/${assetId}/thumbnail`],
    ['GET', `${P}/video`],
    ['GET', `${P}/poster`],
    ['POST', `${P}/run`],
    ['POST', `${P}/cancel`],
    ['POST', `${P}/remake`, { from_asset_id: assetId, to_asset_id: assetId }],
    ['GET', `${P}/organisers`],
    ['POST', `${P}/organisers`, { email: 'someone@else.test' }],
    ['DELETE', `${P}/organisers/${organiserId}`],
    ['POST', '/api/v1/jobs/canvas', { project_id: projectId }],
    ['POST', '/api/v1/jobs/transition', { project_id: projectId, from_asset_id: assetId, to_asset_id: assetId }],
    ['POST', '/api/v1/jobs/last-clip', { project_id: projectId, asset_id: assetId }],
    ['POST', '/api/v1/jobs/render', { project_id: projectId }],
    ['POST', '/api/v1/jobs/pipeline', { project_id: projectId }],
    ['GET', `/api/v1/jobs/${jobId}`],
    ['GET', `/api/v1/jobs/${jobId}/runtime`],
    ['GET', `/api/v1/jobs/${jobId}/events`],
    ['POST', `/api/v1/jobs/${jobId}/cancel`],
  ];
}

/** The answer with the ids the caller sent replaced, so a foreign thing and a missing one compare equal. */
const shape = (text: string, ids: string[]) => ids.reduce((t, id) => t.replaceAll(id, '<id>'), text);

beforeAll(async () => {
  db = await freshDatabase();
  work = await mkdtemp(path.join(os.tmpdir(), 'mt-access-test-'));
  s3 = new S3rver({ address: '127.0.0.1', port: 0, directory: path.join(work, 's3'), silent: true });
  const { port } = await s3.run();
  storage = new Storage('access-test', { ...config.s3, endpoint: `http://127.0.0.1:${port}` });
  await storage.ensureBucket();
  for (const email of [A, B]) accounts.set(email, await db.repos.members.accountForEmail(email));
  app = createGateway({
    repos: db.repos,
    storage,
    bus: () => fakeBus,
    log: testLog,
    ready: async () => ({}),
    committed: () => {},
    storeThumbnail: async () => {
      throw new Error('not in this test');
    },
    ensureThumbnail: async () => {
      throw new Error('not in this test');
    },
    // Stands in for sessions and API keys: the header names an account by email; no header is nobody.
    authenticate: async (headers): Promise<Principal | null> => {
      const email = headers.get(AS);
      if (!email) return null;
      const accountId = accounts.get(email) ?? (await db.repos.members.accountForEmail(email));
      return { accountId, email, via: 'api_key' };
    },
  });
}, 60_000);
afterAll(async () => {
  await s3?.close();
  await db?.drop();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('who may do what', () => {
  let mem: Awaited<ReturnType<typeof memorialOfA>>;
  let runId: string;
  let testJobId: string;
  let organiserId: string;

  beforeAll(async () => {
    mem = await memorialOfA();
    const run = await send(A, 'POST', `/api/v1/projects/${mem.project.id}/run`);
    expect(run.status).toBe(202);
    runId = run.body.id;
    const t = await send(A, 'POST', '/api/v1/jobs/test', { steps: 1 });
    expect(t.status).toBe(202);
    testJobId = t.body.id;
    const invite = await send(A, 'POST', `/api/v1/projects/${mem.project.id}/organisers`, { email: ` ${C.toUpperCase()} ` });
    expect(invite.status).toBe(201);
    organiserId = invite.body.account_id;
  });

  it('the owner is the maker; an invited organiser gets an account of their address and is listed', async () => {
    const members = await send(A, 'GET', `/api/v1/projects/${mem.project.id}/organisers`);
    expect(members.body.items.map((m: any) => [m.email, m.role])).toEqual([
      [A, 'owner'],
      [C, 'organiser'],
    ]);
    expect(organiserId).toBe(await db.repos.members.accountForEmail(C));
    // Inviting again changes nothing; the owner is not an organiser; an address must be one.
    expect((await send(A, 'POST', `/api/v1/projects/${mem.project.id}/organisers`, { email: C })).body.account_id).toBe(organiserId);
    expect((await send(A, 'POST', `/api/v1/projects/${mem.project.id}/organisers`, { email: A })).status).toBe(409);
    const bad = await send(A, 'POST', `/api/v1/projects/${mem.project.id}/organisers`, { email: 'not an address' });
    expect([bad.status, bad.body.error.details.field]).toEqual([422, 'email']);
  });

  it("B gets exactly the 404 of a missing thing on every path of A's memorial and jobs, and learns nothing", async () => {
    const missing = { project: 'no-such-project', asset: 'no-such-asset', job: 'no-such-job', account: 'no-such-account' };
    for (const jobId of [runId, testJobId]) {
      const theirs = everyPath(mem.project.id, mem.assets[0]!.id, jobId, organiserId);
      const none = everyPath(missing.project, missing.asset, missing.job, missing.account);
      for (const [i, [method, url, body]] of theirs.entries()) {
        const r = await send(B, method, url, body);
        const m = await send(B, none[i]![0], none[i]![1], none[i]![2]);
        expect([method, url, r.status, r.body?.error?.code]).toEqual([method, url, 404, 'not_found']);
        expect(shape(r.text, [mem.project.id, mem.assets[0]!.id, jobId, organiserId])).toBe(shape(m.text, Object.values(missing)));
        expect(r.text).not.toContain('Grace');
      }
    }
  });

  it("B's lists hold none of A's memorials or jobs, even when asked for A's memorial by id", async () => {
    const mine = (await send(B, 'POST', '/api/v1/projects', { title: "B's own" })).body;
    const projects = await send(B, 'GET', '/api/v1/projects');
    expect(projects.body.items.map((p: any) => p.id)).toEqual([mine.id]);
    expect((await send(B, 'GET', '/api/v1/jobs')).body).toEqual({ items: [], next_cursor: null });
    expect((await send(B, 'GET', `/api/v1/jobs?project_id=${mem.project.id}`)).body).toEqual({ items: [], next_cursor: null });
    expect((await send(B, 'GET', `/api/v1/jobs?type=test`)).body.items).toEqual([]);
    // A sees their own: the memorial, the run, the test job.
    expect((await send(A, 'GET', '/api/v1/projects')).body.items.map((p: any) => p.id)).toEqual([mem.project.id]);
    expect(new Set((await send(A, 'GET', '/api/v1/jobs')).body.items.map((j: any) => j.id))).toEqual(new Set([runId, testJobId]));
  });

  it('nobody (no credential) gets 401 on every path, lists and creation included', async () => {
    const paths = [
      ...everyPath(mem.project.id, mem.assets[0]!.id, runId, organiserId),
      ['GET', '/api/v1/projects'],
      ['POST', '/api/v1/projects', { title: 'x' }],
      ['GET', '/api/v1/jobs'],
      ['POST', '/api/v1/jobs/test', { steps: 1 }],
    ] as Array<[string, string, unknown?]>;
    for (const [method, url, body] of paths) {
      const r = await send(null, method, url, body);
      expect([method, url, r.status, r.body?.error?.code]).toEqual([method, url, 401, 'unauthenticated']);
    }
  });

  it('commands carry the owning account: the run and the test job of A, written to the outbox', async () => {
    const sent = await db.orm.em
      .fork()
      .execute<{ job_id: string; body: any }[]>(`select job_id, body from outbox where kind = 'command' and job_id in (?, ?)`, [runId, testJobId]);
    expect(sent.map((s) => [s.job_id, s.body.account_id]).sort()).toEqual(
      [
        [runId, accounts.get(A)],
        [testJobId, accounts.get(A)],
      ].sort(),
    );
  });

  it('an organiser reads and runs, but may not delete the memorial or manage organisers (403)', async () => {
    const P = `/api/v1/projects/${mem.project.id}`;
    expect((await send(C, 'GET', '/api/v1/projects')).body.items.map((p: any) => p.id)).toEqual([mem.project.id]);
    for (const url of [P, `${P}/assets`, `${P}/assets/${mem.assets[0]!.id}/thumbnail`, `${P}/video`, `${P}/poster`, `${P}/organisers`])
      expect([url, (await send(C, 'GET', url)).status]).toEqual([url, 200]);
    for (const url of [`/api/v1/jobs/${runId}`, `/api/v1/jobs/${runId}/runtime`]) expect([url, (await send(C, 'GET', url)).status]).toEqual([url, 200]);
    // Their lists show the memorial's jobs, not A's test job (that is A's alone).
    expect((await send(C, 'GET', '/api/v1/jobs')).body.items.map((j: any) => j.id)).toEqual([runId]);
    expect((await send(C, 'GET', `/api/v1/jobs/${testJobId}`)).status).toBe(404);
    // Running while A's run is active is the usual 409; cancelling it is theirs to do.
    expect((await send(C, 'POST', `${P}/run`)).status).toBe(409);
    expect((await send(C, 'POST', `/api/v1/jobs/${runId}/cancel`)).status).toBe(202);

    for (const [method, url, body] of [
      ['DELETE', P],
      ['POST', `${P}/organisers`, { email: 'x@y.test' }],
      ['DELETE', `${P}/organisers/${organiserId}`],
    ] as Array<[string, string, unknown?]>) {
      const r = await send(C, method, url, body);
      expect([method, url, r.status, r.body.error.code]).toEqual([method, url, 403, 'forbidden']);
    }
    expect((await db.repos.projects.find(mem.project.id))?.title).toBe(mem.project.title);
  });

  it('the owner removes an organiser, who then gets 404 like anyone else', async () => {
    const P = `/api/v1/projects/${mem.project.id}`;
    const D = 'd@helper.test';
    const d = (await send(A, 'POST', `${P}/organisers`, { email: D })).body;
    expect((await send(D, 'GET', P)).status).toBe(200);
    expect((await send(A, 'DELETE', `${P}/organisers/${d.account_id}`)).status).toBe(204);
    expect((await send(D, 'GET', P)).status).toBe(404);
    expect((await send(D, 'GET', '/api/v1/projects')).body.items).toEqual([]);
    expect((await send(A, 'DELETE', `${P}/organisers/${d.account_id}`)).status).toBe(404);
    expect((await send(A, 'DELETE', `${P}/organisers/${accounts.get(A)}`)).status).toBe(409);
  });

  it('deleting: refused while a job is unfinished; then every row and every stored file of the memorial is gone', async () => {
    const id = mem.project.id;
    // The run's cancel is requested, but it has not ended yet (no worker said so).
    const busy = await send(A, 'DELETE', `/api/v1/projects/${id}`);
    expect([busy.status, busy.body.error.code]).toEqual([409, 'project_busy']);
    await transaction(db.repos, (em) => db.repos.jobs.finish(em, runId, { status: 'canceled', result: null, error: null, at: new Date() }));
    // A step of a pipeline still running counts too.
    const step = await transaction(db.repos, (em) => enqueueJob(db.repos, em, { type: 'canvas', projectId: id, params: {}, payload: {} }));
    expect((await send(A, 'DELETE', `/api/v1/projects/${id}`)).status).toBe(409);
    await transaction(db.repos, (em) => db.repos.jobs.finish(em, step, { status: 'succeeded', result: {}, error: null, at: new Date() }));

    const before = await storage.list(`projects/${id}/`);
    expect(before.length).toBeGreaterThanOrEqual(11); // 3 uploads, 3 thumbnails, canvas, clip, soundtrack, video, poster (+ markers)
    const other = (await send(B, 'GET', '/api/v1/projects')).body.items[0];
    await storeObject(objectKeys.upload(other.id, 'kept'));

    expect((await send(A, 'DELETE', `/api/v1/projects/${id}`)).status).toBe(204);
    expect(await storage.list(`projects/${id}/`)).toEqual([]);
    expect(await storage.list(`projects/${other.id}/`)).toEqual([objectKeys.upload(other.id, 'kept')]);
    const [left] = await db.orm.em.fork().execute<Record<string, number>[]>(
      `select (select count(*)::int from projects where id = ?) as projects,
              (select count(*)::int from project_members where project_id = ?) as members,
              (select count(*)::int from assets where project_id = ?) as assets,
              (select count(*)::int from jobs where project_id = ?) as jobs,
              (select count(*)::int from job_runtimes where job_id in (?, ?)) as runtimes,
              (select count(*)::int from outbox where job_id in (?, ?)) as outbox`,
      [id, id, id, id, runId, step, runId, step],
    );
    expect(left).toEqual({ projects: 0, members: 0, assets: 0, jobs: 0, runtimes: 0, outbox: 0 });
    expect((await send(A, 'GET', `/api/v1/projects/${id}`)).status).toBe(404);
    // A's test job was not the memorial's: it stays.
    expect((await send(A, 'GET', `/api/v1/jobs/${testJobId}`)).status).toBe(200);
  });
});

describe('memorials made before accounts', () => {
  it('belong to the operator account the migration makes, with their jobs, and stay reachable by it', async () => {
    const url = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/memorialtube');
    url.pathname = `/mt_unit_${randomBytes(6).toString('hex')}`;
    await ensureDatabase(url.toString());
    const orm = await createOrm(url.toString());
    try {
      await orm.migrator.up({ to: 'Migration20261203100000_accounts' });
      const em = orm.em.fork();
      await em.execute(
        `insert into projects (id, title, transition_seconds, transition_style, resolution, fps) values ('old', 'Made last year', 6, 'auto', '720p', 30)`,
      );
      await em.execute(
        `insert into jobs (id, type, status, project_id, trace_id, params, payload) values ('old-run', 'pipeline', 'succeeded', 'old', ?, '{}', '{}')`,
        ['0'.repeat(32)],
      );
      await em.execute(`insert into job_runtimes (job_id, stage) values ('old-run', 'done')`);
      await orm.migrator.up();

      const repos = createRepositories(orm);
      const operator = await repos.members.accountForEmail('operator@localhost');
      expect((await repos.members.list('old')).map((m) => [m.account_id, m.email, m.name, m.role])).toEqual([
        [operator, 'operator@localhost', 'Operator', 'owner'],
      ]);
      expect((await repos.projects.list({ accountId: operator }, 10)).items.map((p) => p.title)).toEqual(['Made last year']);
      expect((await repos.jobs.find('old-run'))?.account_id).toBe(operator);
      expect((await repos.jobs.list({ accountId: operator }, { limit: 10 })).items.map((j) => j.id)).toEqual(['old-run']);
    } finally {
      await orm.close();
      await dropDatabase(url.toString());
    }
  });
});
