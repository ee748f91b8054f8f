// Webhooks on the real stack (gateway + the canvas service, which runs test jobs): receivers started
// here on 127.0.0.1 verify every delivery with the standardwebhooks package, as an integrator would.
// Each account hears only of its own jobs; a receiver that answers 500 gets the delivery again; and a
// gateway killed (SIGKILL) while a delivery is in flight loses nothing: the restarted one sends it
// once the dead one's lease ends.
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { TestClient } from '../lib/api.js';
import { ROOT, Stack } from '../lib/stack.js';
import { waitFor } from '../lib/wait.js';

// The tests' package does not depend on standardwebhooks (no installs now): the gateway's copy is used.
const { Webhook } = createRequire(path.join(ROOT, 'services/gateway/package.json'))('standardwebhooks') as {
  Webhook: new (secret: string) => { verify(payload: string, headers: Record<string, string>): unknown };
};

const stack = new Stack();
let a: TestClient;
let b: TestClient;
const closers: Array<() => void> = [];

interface Arrival {
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

/** A receiver: `answer(n, res)` answers the n-th request (0-based), or leaves it hanging. */
async function receiver(answer: (n: number, res: ServerResponse) => void = (_n, res) => res.writeHead(204).end()) {
  const arrivals: Arrival[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      arrivals.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() });
      answer(arrivals.length - 1, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  closers.push(() => server.close());
  closers.push(() => server.closeAllConnections());
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/mt`, arrivals };
}

const verified = (secret: string, x: Arrival) => new Webhook(secret).verify(x.body, x.headers as Record<string, string>) as any;

async function subscribe(client: TestClient, url: string, events: string[]): Promise<{ id: string; secret: string }> {
  const r = await client.raw('POST', '/webhooks', { url, events });
  expect(r.status).toBe(201);
  return r.body as { id: string; secret: string };
}

async function testJob(client: TestClient, failAt: number | null): Promise<string> {
  const r = await client.raw('POST', '/jobs/test', { steps: 1, step_ms: 50, fail_at_step: failAt });
  expect(r.status).toBe(202);
  const id = (r.body as { id: string }).id;
  await client.waitJob(id, 60_000);
  return id;
}

beforeAll(async () => {
  await stack.start({ services: ['gateway', 'canvas'], env: { MT_WEBHOOK_LEASE_MS: '4000', MT_WEBHOOK_TIMEOUT_MS: '3000' } });
  a = stack.client();
  b = (await stack.newAccount('funeral-home-b@webhooks.test')).api;
}, 120_000);

afterAll(async () => {
  for (const c of closers) c();
  await stack.stop();
}, 60_000);

it("each account gets exactly its own jobs' terminal events, signed", async () => {
  const toA = await receiver();
  const toB = await receiver();
  const hookA = await subscribe(a, toA.url, ['job.succeeded', 'job.failed']);
  const hookB = await subscribe(b, toB.url, ['job.succeeded', 'job.failed']);
  const aDone = await testJob(a, null);
  const aFailed = await testJob(a, 1);
  const bDone = await testJob(b, null);
  await waitFor(() => toA.arrivals.length === 2 && toB.arrivals.length === 1, { timeoutMs: 20_000, what: 'three deliveries' });
  const gotA = toA.arrivals.map((x) => verified(hookA.secret, x));
  expect(gotA.map((p) => [p.type, p.data.id, p.data.status]).sort()).toEqual(
    [
      ['job.failed', aFailed, 'failed'],
      ['job.succeeded', aDone, 'succeeded'],
    ].sort(),
  );
  expect(verified(hookB.secret, toB.arrivals[0]!).data.id).toBe(bDone);
  expect(() => verified(hookB.secret, toA.arrivals[0]!)).toThrow();
  // The list never shows a secret; B cannot delete A's webhook.
  expect(JSON.stringify((await a.raw('GET', '/webhooks')).body)).not.toContain(hookA.secret.slice(6));
  expect((await b.raw('DELETE', `/webhooks/${hookA.id}`)).status).toBe(404);
}, 120_000);

it('a delivery in flight when the gateway is killed arrives after the restart; a 500 is retried with backoff', async () => {
  let release: (() => void) | null = null;
  // 1st attempt: hangs (the gateway is killed meanwhile); 2nd: 500; then 204.
  const later = await receiver((n, res) => {
    if (n === 0) release = () => res.destroy();
    else if (n === 1) res.writeHead(500).end();
    else res.writeHead(204).end();
  });
  const hook = await subscribe(a, later.url, ['job.succeeded']);
  const jobId = await testJob(a, null);
  await waitFor(() => later.arrivals.length === 1, { timeoutMs: 20_000, what: 'the first attempt' });
  await stack.stopProcess('gateway', 'SIGKILL');
  (release as (() => void) | null)?.();
  stack.spawn('gateway');
  await stack.waitReady();
  await waitFor(() => later.arrivals.length === 3, { timeoutMs: 30_000, what: 'the delivery again after the restart, then after a 500' });
  const ids = new Set(later.arrivals.map((x) => x.headers['webhook-id']));
  expect(ids.size).toBe(1);
  for (const x of later.arrivals) expect(verified(hook.secret, x).data.id).toBe(jobId);
  // The restarted gateway waited out the dead one's lease (4 s), then backed off ≥ 0.75 s after the 500.
  expect(later.arrivals[1]!.at - later.arrivals[0]!.at).toBeGreaterThanOrEqual(3_500);
  expect(later.arrivals[2]!.at - later.arrivals[1]!.at).toBeGreaterThanOrEqual(700);
}, 120_000);
