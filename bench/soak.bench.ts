// Benchmark (prints figures; not a test): 100k mixed API requests against a gateway this script starts
// itself (only on 127.0.0.1), at a bounded concurrency, printing the gateway's resident memory (VmRSS)
// and V8 heap at rest before, every 10k requests, after, and after an idle spell. Flat is the goal.
//   tsx bench/soak.bench.ts                       (the production start: compiled JavaScript)
//   MT_SOAK_START=tsx MT_SOAK_REQUESTS=20000 tsx bench/soak.bench.ts
//   MT_SOAK_DEFAULT_HEAP=1 (V8's default heap sizing)   MT_SOAK_ONLY=sse,openapi (kinds of the mix)   MT_SOAK_NODE_FLAGS='--max-old-space-size=128' (the gateway's node)
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import sharp from 'sharp';
import { buildServices, type StartMode, serviceCommand } from '../scripts/service-command.js';
import { ok, testClient } from '../tests/lib/api.js';
import { freePort, OUTPUT, ROOT, type ServiceName, Stack } from '../tests/lib/stack.js';

const REQUESTS = Number(process.env.MT_SOAK_REQUESTS ?? 100_000);
const CONCURRENCY = Number(process.env.MT_SOAK_CONCURRENCY ?? 16);
const IDLE_MS = Number(process.env.MT_SOAK_IDLE_MS ?? 20_000);
const EVERY = Number(process.env.MT_SOAK_EVERY ?? 10_000);
const MODE = (process.env.MT_SOAK_START ?? 'compiled') as StartMode;

// The inspector lets the bench force a full garbage collection, so "retained" is what a leak would keep.
const INSPECT_PORT = await freePort();

/** The stack of the e2e tests, with the gateway started the way production starts it (plus --inspect). */
class SoakStack extends Stack {
  override spawn(service: ServiceName, name: string = service, env: Record<string, string> = {}): ChildProcess {
    mkdirSync(path.join(OUTPUT, 'logs'), { recursive: true });
    const log = createWriteStream(path.join(OUTPUT, 'logs', `${this.e.namespace}-${name}.log`), { flags: 'a' });
    const [cmd, ...production] = serviceCommand(service, MODE);
    // MT_SOAK_DEFAULT_HEAP=1: V8's own heap sizing, to compare with the production bounds.
    const args = process.env.MT_SOAK_DEFAULT_HEAP ? production.filter((a) => !/^--max-(old|semi)-space-size/.test(a)) : production;
    args.unshift(`--inspect=127.0.0.1:${INSPECT_PORT}`, ...(process.env.MT_SOAK_NODE_FLAGS?.split(' ').filter(Boolean) ?? []));
    const child = spawn(cmd!, args, { cwd: ROOT, env: { ...process.env, ...this.e.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.pipe(log);
    child.stderr!.pipe(log);
    this.procs.set(name, child);
    return child;
  }
}

const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
/** A gauge from the gateway's own /metrics (prom-client's default process metrics). */
const gauge = (text: string, name: string) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? ([\\d.e+]+)$`, 'm').exec(text)?.[1] ?? NaN) / 2 ** 20;

if (MODE === 'compiled') {
  try {
    buildServices();
  } catch {
    console.warn('tsc reported errors (above); dist/ was emitted all the same, so the soak goes on');
  }
}
const stack = new SoakStack();
const e = await stack.start({ services: ['gateway'], env: { LOG_LEVEL: 'warn' } });
const api = testClient(e.url);
const gatewayPid = stack.procs.get('gateway')!.pid!;

/** A full garbage collection in the gateway, through the inspector protocol. */
async function collectGarbage(): Promise<void> {
  const [target] = (await (await fetch(`http://127.0.0.1:${INSPECT_PORT}/json/list`)).json()) as Array<{ webSocketDebuggerUrl: string }>;
  const ws = new WebSocket(target!.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => {
    ws.onopen = () => ws.send(JSON.stringify({ id: 1, method: 'HeapProfiler.collectGarbage' }));
    ws.onmessage = resolve;
    ws.onerror = reject;
  });
  ws.close();
}

async function sample(label: string): Promise<void> {
  const m = await (await fetch(`${e.url}/metrics`)).text();
  const series = (m.match(/^mt_http_request_duration_seconds_count/gm) ?? []).length;
  console.log(
    `${label.padEnd(22)} rss ${rssMb(gatewayPid).toFixed(0).padStart(4)} MB  heap used/total ${gauge(m, 'mt_gateway_nodejs_heap_size_used_bytes').toFixed(0).padStart(3)}/${gauge(m, 'mt_gateway_nodejs_heap_size_total_bytes').toFixed(0).padStart(3)} MB` +
      `  external ${gauge(m, 'mt_gateway_nodejs_external_memory_bytes').toFixed(0).padStart(3)} MB  http series ${series}`,
  );
}

try {
  const photo = await sharp({ create: { width: 160, height: 120, channels: 3, background: '#567' } })
    .png()
    .toBuffer();
  const project = await api.project({ title: 'Soak' });
  ok(await api.uploadFiles(project.id, [{ name: 'a.png', data: photo, type: 'image/png' }]));
  const job = ok(await api.POST('/api/v1/jobs/test', { body: {} }));
  await sleep(3_000);
  await collectGarbage();
  await sample('at rest before (GC)');

  const u = e.url;
  const get = (p: string) => fetch(`${u}${p}`);
  const post = (p: string, body: string) => fetch(`${u}${p}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  /** The mix: each kind with its share of 20 requests, and how to send request number i of it. */
  const KINDS: Record<string, [share: number, send: (i: number) => Promise<Response>]> = {
    create: [2, (i) => post('/api/v1/projects', JSON.stringify({ title: `Soak ${i}`, resolution: '720p' }))],
    list: [2, (i) => get(`/api/v1/${i % 2 ? 'projects' : 'jobs'}?limit=20`)],
    get: [3, (i) => get(`/api/v1/projects/${project.id}${i % 3 === 0 ? '/assets' : ''}`)],
    not_found: [3, (i) => get(i % 3 === 0 ? `/no/such/path/${i}` : `/api/v1/${i % 3 === 1 ? 'projects' : 'jobs'}/${crypto.randomUUID()}`)],
    bad_body: [2, (i) => post('/api/v1/projects', i % 2 ? '{"title":' : '{"title":42}')],
    job_get: [2, (i) => get(`/api/v1/jobs/${job.id}${i % 2 ? '/runtime' : ''}`)],
    sse: [
      1,
      async () => {
        // Open, take the first event, close: the subscription must go with it.
        const ac = new AbortController();
        const r = await fetch(`${u}/api/v1/jobs/${job.id}/events`, { signal: ac.signal });
        await r.body!.getReader().read();
        ac.abort();
        return r;
      },
    ],
    healthz: [3, () => get('/healthz')],
    metrics: [1, () => get('/metrics')],
    openapi: [1, () => get('/openapi.json')],
  };
  const only = process.env.MT_SOAK_ONLY?.split(',');
  const mix = Object.entries(KINDS)
    .filter(([k]) => !only || only.includes(k))
    .flatMap(([, [share, send]]) => Array<typeof send>(share).fill(send));
  const one = async (i: number): Promise<number> => {
    const r = await mix[i % mix.length]!(i);
    if (r.bodyUsed === false) await r.arrayBuffer().catch(() => {});
    return r.status;
  };

  const statuses = new Map<number, number>();
  const t0 = performance.now();
  let next = 0;
  let done = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < REQUESTS) {
        const s = await one(next++).catch(() => 0);
        statuses.set(s, (statuses.get(s) ?? 0) + 1);
        if (++done % EVERY === 0) await sample(`after ${done / 1000}k requests`);
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  await sample('after the run');
  await sleep(IDLE_MS);
  await sample(`after ${IDLE_MS / 1000} s idle`);
  await collectGarbage();
  await sample('after a forced GC');
  console.log(
    `${REQUESTS} requests in ${seconds.toFixed(0)} s (${(REQUESTS / seconds).toFixed(0)}/s, concurrency ${CONCURRENCY}, gateway started ${MODE}${only ? `, only ${only}` : ''}); statuses ${JSON.stringify(Object.fromEntries(statuses))}`,
  );
} finally {
  await stack.stop();
}
