// Webhooks for integrators, in process over a real Postgres: the routes (createGateway), the
// projector writing deliveries in the terminal event's transaction, and the deliverer sending them to
// receivers this test starts on 127.0.0.1 (node:http), which check every signature with the
// standardwebhooks package's Webhook.verify, as an integrator would.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { busNames, type JobEvent } from '@mt/contracts';
import type { Bus } from '@mt/platform';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGateway } from '../app.js';
import type { Principal } from '../auth/principal.js';
import { enqueueJob, transaction } from '../db/index.js';
import { Projector } from '../projector.js';
import { freshDatabase, testLog, waitFor } from '../test-support.js';
import { backoffMs, WebhookDeliverer } from './deliverer.js';
import { webhooksOnJobFinished } from './job-events.js';
import { WebhookSecrets } from './secrets.js';

const AS = 'x-test-account';
const A = 'funeral-home-a@webhooks.test';
const B = 'funeral-home-b@webhooks.test';
const BASE_DELAY_MS = 400;

let db: Awaited<ReturnType<typeof freshDatabase>>;
let app: ReturnType<typeof createGateway>;
let projector: Projector;
const secrets = new WebhookSecrets('a-test-auth-secret-of-at-least-32-characters');
const accounts = new Map<string, string>();
const deliverers: WebhookDeliverer[] = [];
const servers: Server[] = [];

interface Arrival {
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

/** A receiver on 127.0.0.1: records every request; `answer` decides the status of the n-th (0-based). */
async function receiver(answer: (n: number) => number = () => 204) {
  const arrivals: Arrival[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const n = arrivals.length;
      arrivals.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() });
      res.statusCode = answer(n);
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  servers.push(server);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/memorialtube`, arrivals };
}

/** What an integrator does with an arrival: verify it with its secret, or throw. */
const verified = (secret: string, a: Arrival) => new Webhook(secret).verify(a.body, a.headers as Record<string, string>) as any;

async function send(as: string | null, method: string, url: string, body?: unknown) {
  const headers: Record<string, string> = as ? { [AS]: as } : {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await app.request(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, text, body: text ? JSON.parse(text) : null };
}

function startDeliverer(leaseMs = 5_000) {
  const d = new WebhookDeliverer(db.repos.webhooks, secrets, testLog, { pollMs: 50, baseDelayMs: BASE_DELAY_MS, leaseMs, timeoutMs: 2_000 });
  deliverers.push(d);
  d.start();
  return d;
}

/** A top-level test job of the account, ended by its worker's terminal event through the projector. */
async function finishedJob(email: string, kind: 'succeeded' | 'failed' | 'canceled', parentJobId: string | null = null) {
  const accountId = accounts.get(email)!;
  const jobId = await transaction(db.repos, (em) =>
    enqueueJob(db.repos, em, { type: 'test', accountId, parentJobId, params: { steps: 1 }, payload: { steps: 1, step_ms: 1, fail_at_step: null } }),
  );
  const job = (await db.repos.jobs.find(jobId))!;
  const event: JobEvent = {
    event_id: randomUUID(),
    job_id: jobId,
    trace_id: job.trace_id,
    account_id: accountId,
    kind,
    attempt: 1,
    at: new Date().toISOString(),
    service: 'test',
    worker: null,
    stage: null,
    progress_percent: null,
    detail_message: null,
    result: kind === 'succeeded' ? { steps: 1 } : null,
    error: kind === 'failed' ? { code: 'step_failed', message: 'Step 1 failed', retryable: false } : null,
  } as JobEvent;
  expect(await projector.handle(event)).not.toBeNull();
  return jobId;
}

async function subscribe(email: string, url: string, events: string[]) {
  const made = await send(email, 'POST', '/api/v1/webhooks', { url, events });
  expect(made.status).toBe(201);
  return made.body as { id: string; secret: string };
}

beforeAll(async () => {
  db = await freshDatabase();
  for (const email of [A, B]) accounts.set(email, await db.repos.members.accountForEmail(email));
  app = createGateway({
    repos: db.repos,
    storage: {} as never,
    bus: () => ({ names: busNames('mt_webhooks_test') }) as unknown as Bus,
    log: testLog,
    ready: async () => ({}),
    committed: () => {},
    storeThumbnail: async () => 'unused',
    ensureThumbnail: async () => 'unused',
    webhookSecrets: secrets,
    authenticate: async (headers): Promise<Principal | null> => {
      const email = headers.get(AS);
      return email ? { accountId: accounts.get(email)!, email, via: 'api_key' } : null;
    },
  });
  // The projector's transaction is all this test uses of it; the bus is never touched.
  projector = new Projector(db.repos, {} as Bus, testLog);
  projector.onApplied(webhooksOnJobFinished);
}, 60_000);

afterAll(async () => {
  for (const d of deliverers) await d.stop();
  for (const s of servers) s.close();
  await db?.drop();
});

describe('webhook routes', () => {
  it('makes a webhook with a whsec_ secret shown once; lists it without; stores the secret only encrypted', async () => {
    const made = await subscribe(A, 'https://crm.funeral-home-a.test/mt', ['job.succeeded', 'asset.contributed']);
    expect(made.secret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
    expect(made).toMatchObject({ url: 'https://crm.funeral-home-a.test/mt', events: ['job.succeeded', 'asset.contributed'] });
    const list = await send(A, 'GET', '/api/v1/webhooks');
    expect(list.body.items.map((w: any) => w.id)).toContain(made.id);
    expect(list.text).not.toContain(made.secret.slice(6));
    expect(list.body.items[0]).not.toHaveProperty('secret');
    const rows = await db.orm.em.fork().execute(`select * from webhooks`);
    expect(JSON.stringify(rows)).not.toContain(made.secret.slice(6));
    // A different auth secret cannot read it; the right one gives it back.
    const stored = (rows as any[]).find((r) => r.id === made.id).secret_encrypted;
    expect(secrets.decrypt(stored, made.id)).toBe(made.secret);
    expect(() => new WebhookSecrets('another-auth-secret-of-at-least-32-chars!').decrypt(stored, made.id)).toThrow();
    expect(() => secrets.decrypt(stored, 'wh_another')).toThrow();
  });

  it('refuses a URL that is not http(s) and unknown or repeated events with 422 naming the field', async () => {
    for (const url of ['ftp://files.test/x', 'file:///etc/passwd', 'javascript:alert(1)', 'not a url', ''])
      expect([url, (await send(A, 'POST', '/api/v1/webhooks', { url, events: ['job.failed'] })).body.error.details.field]).toEqual([url, 'url']);
    for (const events of [[], ['job.exploded'], ['job.failed', 'job.failed']]) {
      const r = await send(A, 'POST', '/api/v1/webhooks', { url: 'https://x.test/', events });
      expect([r.status, r.body.error.details.field.split('.')[0]]).toEqual([422, 'events']);
    }
    expect((await send(null, 'POST', '/api/v1/webhooks', { url: 'https://x.test/', events: ['job.failed'] })).status).toBe(401);
  });

  it("another account's webhook is not listed and deleting it is 404, like one that does not exist", async () => {
    const made = await subscribe(A, 'http://127.0.0.1:9/unused', ['job.failed']);
    expect((await send(B, 'GET', '/api/v1/webhooks')).body.items.map((w: any) => w.id)).not.toContain(made.id);
    const foreign = await send(B, 'DELETE', `/api/v1/webhooks/${made.id}`);
    const missing = await send(B, 'DELETE', '/api/v1/webhooks/wh_missing');
    expect([foreign.status, foreign.body.error.code, missing.status]).toEqual([404, 'not_found', 404]);
    expect((await send(A, 'DELETE', `/api/v1/webhooks/${made.id}`)).status).toBe(204);
    expect((await send(A, 'DELETE', `/api/v1/webhooks/${made.id}`)).status).toBe(404);
  });
});

describe('deliveries', () => {
  it("each account gets exactly its own jobs' terminal events, signed (Standard Webhooks)", async () => {
    const toA = await receiver();
    const toB = await receiver();
    const hookA = await subscribe(A, toA.url, ['job.succeeded', 'job.failed', 'job.canceled']);
    const hookB = await subscribe(B, toB.url, ['job.failed']);
    startDeliverer();
    const aDone = await finishedJob(A, 'succeeded');
    const aFailed = await finishedJob(A, 'failed');
    const bDone = await finishedJob(B, 'succeeded'); // B subscribed to failures only
    const bFailed = await finishedJob(B, 'failed');
    await waitFor('A gets 2, B gets 1', () => toA.arrivals.length === 2 && toB.arrivals.length === 1);

    // Deliveries are independent: they may arrive in either order.
    const gotA = toA.arrivals.map((a) => verified(hookA.secret, a)).sort((x, y) => String(x.type).localeCompare(String(y.type)));
    expect(gotA.map((p) => [p.type, p.data.id, p.data.status])).toEqual([
      ['job.failed', aFailed, 'failed'],
      ['job.succeeded', aDone, 'succeeded'],
    ]);
    expect(gotA[0].data.error).toEqual({ code: 'step_failed', message: 'Step 1 failed' });
    expect(Date.parse(gotA[0].timestamp)).not.toBeNaN();
    expect(toA.arrivals[0]!.headers['webhook-id']).toMatch(/^msg_/);
    const gotB = toB.arrivals.map((a) => verified(hookB.secret, a));
    expect(gotB.map((p) => [p.type, p.data.id])).toEqual([['job.failed', bFailed]]);
    // Nothing of B's reached A; another secret does not verify.
    expect(JSON.stringify(gotA)).not.toContain(bDone);
    expect(() => verified(hookB.secret, toA.arrivals[0]!)).toThrow();

    // A step inside a pipeline (a child job) is not reported: its final event, projected here, writes no delivery.
    await finishedJob(A, 'succeeded', aDone);
    const rows = await db.repos.webhooks.deliveries(hookA.id);
    expect(rows).toHaveLength(2);
    await waitFor('both marked delivered', async () => (await db.repos.webhooks.deliveries(hookA.id)).every((d) => d.delivered_at));
    for (const d of await db.repos.webhooks.deliveries(hookA.id)) expect([Boolean(d.delivered_at), d.attempts, d.last_status]).toEqual([true, 1, 204]);
    expect(toA.arrivals).toHaveLength(2);
  });

  it('a receiver that answers 500 gets the same delivery again after a backoff; its 2xx ends it', async () => {
    const flaky = await receiver((n) => (n < 2 ? 500 : 200));
    const hook = await subscribe(A, flaky.url, ['job.canceled']);
    startDeliverer();
    const jobId = await finishedJob(A, 'canceled');
    await waitFor('three attempts', () => flaky.arrivals.length === 3);
    const [first, second, third] = flaky.arrivals.map((a) => ({ ...a, payload: verified(hook.secret, a) }));
    expect(new Set([first, second, third].map((a) => a!.headers['webhook-id'])).size).toBe(1);
    expect(third!.payload.data.id).toBe(jobId);
    // 1× then 2× the base delay, each within ±25 % jitter.
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(0.75 * BASE_DELAY_MS - 30);
    expect(third!.at - second!.at).toBeGreaterThanOrEqual(0.75 * 2 * BASE_DELAY_MS - 30);
    const [row] = await waitFor('marked delivered', async () => {
      const rows = await db.repos.webhooks.deliveries(hook.id);
      return rows[0]?.delivered_at ? rows : null;
    });
    expect([row!.attempts, row!.last_status]).toEqual([3, 200]);
    await new Promise((r) => setTimeout(r, 4 * BASE_DELAY_MS));
    expect(flaky.arrivals).toHaveLength(3);
  });

  it('a delivery claimed by a gateway that died is sent by the next one once the lease ends', async () => {
    for (const d of deliverers.splice(0)) await d.stop();
    const later = await receiver();
    const hook = await subscribe(A, later.url, ['job.succeeded']);
    const jobId = await finishedJob(A, 'succeeded');
    // The dead gateway: it claimed the delivery (for 1.5 s) and never sent it.
    expect((await db.repos.webhooks.claim(10, 1_500)).map((d) => d.webhook_id)).toContain(hook.id);
    const claimedAt = Date.now();
    startDeliverer();
    await waitFor('delivered after the lease', () => later.arrivals.length === 1);
    expect(Date.now() - claimedAt).toBeGreaterThanOrEqual(1_400);
    expect(verified(hook.secret, later.arrivals[0]!).data.id).toBe(jobId);
  });
});

describe('backoff', () => {
  it('doubles from the base up to the cap, within ±25 % jitter', () => {
    expect([1, 2, 3, 4].map((n) => backoffMs(n, 1_000, 3_600_000, () => 0.5))).toEqual([1_000, 2_000, 4_000, 8_000]);
    expect(backoffMs(30, 1_000, 3_600_000, () => 0.5)).toBe(3_600_000);
    expect(backoffMs(1, 1_000, 3_600_000, () => 0)).toBe(750);
    expect(backoffMs(1, 1_000, 3_600_000, () => 1)).toBe(1_250);
  });
});
