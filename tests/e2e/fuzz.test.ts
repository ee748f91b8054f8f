// Every operation of the gateway's own /openapi.json, fed odd input: no answer may be a 5xx, and every
// error carries the documented body. Seeded and bounded: the seed is printed, and
// `MT_FUZZ_SEED=<seed> pnpm vitest run tests/e2e/fuzz.test.ts` sends the same requests again.
import net from 'node:net';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ok, type TestClient } from '../lib/api.js';
import { extraProbes, type Finding, judge, type KnownIds, type OpenApiDoc, operationsOf, type Probe, probesFor, seededRandom } from '../lib/fuzz.js';
import { Stack, type StackEnv } from '../lib/stack.js';

const SEED = Number(process.env.MT_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const MAX_CASES = Number(process.env.MT_FUZZ_CASES ?? 4_000);
const CONCURRENCY = 8;
const UPLOAD_LIMIT = 1024 * 1024; // a small upload limit, so "over the limit" costs 1.6 MB, not 200 MB

const stack = new Stack();
let e: StackEnv;
let api: TestClient;
let ids: KnownIds;
let photo: Uint8Array;

beforeAll(async () => {
  // The gateway alone: fuzzing the API needs no workers (jobs it creates stay queued).
  e = await stack.start({ services: ['gateway'], env: { MT_MAX_UPLOAD_BYTES: String(UPLOAD_LIMIT), LOG_LEVEL: 'warn' } });
  api = stack.client();
  photo = await sharp({ create: { width: 120, height: 90, channels: 3, background: '#7a8' } })
    .png()
    .toBuffer();
  const project = await api.project({ title: 'Fuzz target' });
  const uploaded = ok(await api.uploadFiles(project.id, [{ name: 'a.png', data: Buffer.from(photo), type: 'image/png' }]));
  const job = ok(await api.POST('/api/v1/jobs/test', { body: {} }));
  const disposable = await api.project({ title: 'Fuzz target to delete' });
  ids = { project_id: project.id, asset_id: uploaded.items[0]!.id, job_id: job.id, disposable_project_id: disposable.id };
});
afterAll(async () => stack.stop());

/** Sends one probe; SSE and video streams are cut after the headers (only the status matters). */
async function send(p: Probe, attempt = 1): Promise<Finding | null> {
  const streamed = p.body instanceof ReadableStream;
  try {
    const res = await fetch(`${e.url}${p.url}`, {
      method: p.method,
      // with the stack's key: odd input must reach the routes, not stop at the 401 of no credential
      headers: { authorization: `Bearer ${api.key}`, ...p.headers },
      body: p.body as RequestInit['body'],
      signal: AbortSignal.timeout(15_000),
      ...(streamed ? { duplex: 'half' } : {}),
    } as RequestInit);
    if (res.status < 400 && /event-stream|video|image/.test(res.headers.get('content-type') ?? '')) {
      await res.body?.cancel();
      return null;
    }
    return await judge(p, res);
  } catch (err) {
    // A server may close a connection that keeps sending past the body limit; that is an answer too.
    if (streamed) return null;
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    // A pooled keep-alive socket that the server closed after refusing an oversized body: the
    // client's race, so send again (a gateway that died is caught by the checks after the run).
    if (attempt < 4 && /ECONNRESET|UND_ERR_SOCKET|EPIPE/.test(`${cause?.code}`)) return send(p, attempt + 1);
    return {
      label: `${p.label} (no answer: ${(err as Error).message}: ${cause?.code ?? ''} ${cause?.message ?? ''})`,
      request: `${p.method} ${p.url}`,
      status: 0,
      body: '',
    };
  }
}

/** A request that promises more body than it sends, then closes its side: the gateway must live on. */
async function truncatedOnTheWire(path: string): Promise<void> {
  const u = new URL(e.url);
  await new Promise<void>((resolve) => {
    const sock = net.connect({ host: u.hostname, port: Number(u.port) }, () => {
      sock.end(
        `POST ${path} HTTP/1.1\r\nHost: x\r\nauthorization: Bearer ${api.key}\r\ncontent-type: application/json\r\ncontent-length: 500\r\n\r\n{"title":"cut`,
      );
    });
    sock.on('data', () => {});
    sock.on('close', () => resolve());
    sock.on('error', () => resolve());
    sock.setTimeout(5_000, () => sock.destroy());
  });
}

describe('fuzzing every operation of /openapi.json', () => {
  it('answers odd input with a 4xx and the documented error body, never a 5xx', async () => {
    console.log(`fuzz seed ${SEED} (reproduce: MT_FUZZ_SEED=${SEED} pnpm vitest run tests/e2e/fuzz.test.ts)`);
    const rng = seededRandom(SEED);
    const doc = (await (await fetch(`${e.url}/openapi.json`)).json()) as OpenApiDoc;
    const ops = operationsOf(doc);
    expect(ops.length).toBeGreaterThan(10);

    const all = [...ops.flatMap((op) => probesFor(op, rng, ids)), ...extraProbes(ids, photo)];
    // Seeded shuffle, then the first MAX_CASES: each run covers a different (reproducible) sample.
    for (let i = all.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [all[i], all[j]] = [all[j]!, all[i]!];
    }
    const probes = all.slice(0, MAX_CASES);
    const covered = new Set(probes.map((p) => p.label.split(':')[0]));

    const findings: Finding[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < probes.length) {
          const f = await send(probes[next++]!);
          if (f) findings.push(f);
        }
      }),
    );
    await truncatedOnTheWire('/api/v1/projects');

    // Still alive and well after all of it.
    expect(stack.procs.get('gateway')?.exitCode).toBeNull();
    expect((await fetch(`${e.url}/healthz`)).status).toBe(200);
    expect((await api.raw('GET', `/projects/${ids.project_id}`)).status).toBe(200);
    console.log(`fuzz: ${probes.length} of ${all.length} requests over ${ops.length} operations (${covered.size} labels), ${findings.length} findings`);
    const report = findings
      .slice(0, 40)
      .map((f) => `  ${f.status} ${f.label}\n      ${f.request.slice(0, 160)}\n      ${f.body.slice(0, 200)}`)
      .join('\n');
    expect(findings, `seed ${SEED}: ${findings.length} bad answers\n${report}`).toHaveLength(0);
  }, 120_000);
});
