// Benchmark (prints figures; not a test): cancel latency, from the cancel request to the job's ffmpeg
// process being gone, over 20 cancels of a running 10 s 1080p transition.

import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ok } from '../tests/lib/api.js';
import { CORPUS, pidsMatching, Stack } from '../tests/lib/stack.js';

const RUNS = Number(process.env.MT_BENCH_CANCELS ?? 20);
const stack = new Stack();
const e = await stack.start({ env: { LOG_LEVEL: 'warn' } });
const api = stack.client(); // the stack made its own account and key
const ffmpegPids = () => pidsMatching(`ffmpeg.*${e.env.MT_TMP_DIR}`);
try {
  const p = await api.project({ title: 'cancel bench', resolution: '1080p', transition_seconds: 10, transition_style: 'classic' });
  const up = ok(
    await api.uploadFiles(p.id, [{ path: path.join(CORPUS, 'photos/kodak/kodim01.png') }, { path: path.join(CORPUS, 'photos/kodak/kodim02.png') }]),
  );
  const [a, b] = up.items.map((x) => x.id) as [string, string];
  // make the canvases once so each run reaches ffmpeg quickly
  await api.waitJob(ok(await api.POST('/api/v1/jobs/canvas', { body: { project_id: p.id } })).id, 60_000);
  const latencies: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t = ok(await api.POST('/api/v1/jobs/transition', { body: { project_id: p.id, from_asset_id: a, to_asset_id: b } }));
    const until = Date.now() + 30_000;
    while (ffmpegPids().length === 0 && Date.now() < until) await sleep(10);
    await sleep(300 + Math.random() * 700);
    const t0 = performance.now();
    await api.POST('/api/v1/jobs/{job_id}/cancel', { params: { path: { job_id: t.id } } });
    while (ffmpegPids().length > 0) await sleep(2);
    latencies.push(performance.now() - t0);
    await api.waitJob(t.id, 10_000);
  }
  latencies.sort((x, y) => x - y);
  const q = (f: number) => latencies[Math.min(latencies.length - 1, Math.floor(f * latencies.length))]!;
  console.log(
    `cancel → ffmpeg gone over ${RUNS} cancels: median ${q(0.5).toFixed(0)} ms, p95 ${q(0.95).toFixed(0)} ms, max ${latencies.at(-1)!.toFixed(0)} ms`,
  );
} finally {
  await stack.stop();
}
