// Benchmark (prints figures; not a test): cancel latency, from the cancel request to the job's ffmpeg
// process being gone, over 20 cancels of a running 10 s 1080p transition.
import { setTimeout as sleep } from 'node:timers/promises';
import path from 'node:path';
import { Api } from '../tests/lib/api.js';
import { CORPUS, pidsMatching, Stack } from '../tests/lib/stack.js';

const RUNS = Number(process.env.MT_BENCH_CANCELS ?? 20);
const stack = new Stack();
const e = await stack.start({ env: { LOG_LEVEL: 'warn' } });
const api = new Api(e.url);
const ffmpegPids = () => pidsMatching(`ffmpeg.*${e.env.MT_TMP_DIR}`);
try {
  const p = await api.project({ title: 'cancel bench', resolution: '1080p', transition_seconds: 10, transition_style: 'classic' });
  const up = await api.upload(p.id, [{ path: path.join(CORPUS, 'photos/kodak/kodim01.png') }, { path: path.join(CORPUS, 'photos/kodak/kodim02.png') }]);
  const [a, b] = up.body.items.map((x: { id: string }) => x.id);
  // make the canvases once so each run reaches ffmpeg quickly
  await api.waitJob((await api.req('POST', '/jobs/canvas', { project_id: p.id })).body.id, 60_000);
  const latencies: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t = await api.req('POST', '/jobs/transition', { project_id: p.id, from_asset_id: a, to_asset_id: b });
    const until = Date.now() + 30_000;
    while (ffmpegPids().length === 0 && Date.now() < until) await sleep(10);
    await sleep(300 + Math.random() * 700);
    const t0 = performance.now();
    await api.req('POST', `/jobs/${t.body.id}/cancel`);
    while (ffmpegPids().length > 0) await sleep(2);
    latencies.push(performance.now() - t0);
    await api.waitJob(t.body.id, 10_000);
  }
  latencies.sort((x, y) => x - y);
  const q = (f: number) => latencies[Math.min(latencies.length - 1, Math.floor(f * latencies.length))]!;
  console.log(`cancel → ffmpeg gone over ${RUNS} cancels: median ${q(0.5).toFixed(0)} ms, p95 ${q(0.95).toFixed(0)} ms, max ${latencies.at(-1)!.toFixed(0)} ms`);
} finally {
  await stack.stop();
}
