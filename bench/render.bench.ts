// Benchmark (prints figures; not a test): the same 12 corpus photos rendered at 720p and 1080p by the
// whole stack, against x264 alone encoding the same frames with the same settings; the draft preview
// of the same memorial; the camera's smoothness in an encoded clip. Medians of MT_BENCH_RUNS runs.
//   ./mt bench    (MT_BENCH_RUNS=3  MT_BENCH_RESOLUTIONS=720p,1080p  MT_BENCH_PHOTOS=12  MT_BENCH_FPS=30)
// x264's figure comes from raw frames on disk (3 MB a frame at 1080p): when the disk is short, from as
// many of the video's frames as fit in half the free space, as frames per second.
import { execFileSync } from 'node:child_process';
import { readFileSync, statfsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { classicTransition, encodeProfile, ffprobe, jerkQuantile, makeDotCanvas, resolutionSize, runFfmpeg, trackDots } from '@mt/media';
import { ok, type TestClient } from '../tests/lib/api.js';
import { CORPUS, Stack } from '../tests/lib/stack.js';

const N = Number(process.env.MT_BENCH_PHOTOS ?? 12);
const RESOLUTIONS = (process.env.MT_BENCH_RESOLUTIONS ?? '720p,1080p').split(',') as ('720p' | '1080p')[];
const FPS = Number(process.env.MT_BENCH_FPS ?? 30) as 24 | 25 | 30;
const RUNS = Math.max(1, Number(process.env.MT_BENCH_RUNS ?? 3));
const PHOTOS = [
  'kodak/kodim01.png',
  'kodak/kodim04.png',
  'person_mary_lou_williams/mlw_01_1946_piano.jpg',
  'kodak/kodim07.png',
  'landscape_pd/washington_monument_highsmith.png',
  'people_pd/louis_armstrong_gottlieb.jpg',
  'kodak/kodim12.png',
  'everyday_cc0/chelsea_cat_vanderwalt_cc0.png',
  'kodak/kodim15.png',
  'person_mary_lou_williams/mlw_06_1938-1948_window.jpg',
  'kodak/kodim19.png',
  'landscape_pd/seeding_dandelions_engelhardt_cc0.jpg',
]
  .slice(0, N)
  .map((p) => path.join(CORPUS, 'photos', p));
const MUSIC = path.join(CORPUS, 'audio', 'bach_goldberg_aria_da_capo_ishizaka_cc0.ogg');

/** Peak resident memory of a process (VmHWM), in MB. */
const peakMb = (pid: number | undefined) => {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : NaN;
  } catch {
    return NaN;
  }
};

/**
 * Where the time went: per job type, the number of jobs, their summed wall time, and each stage's
 * summed duration (from the jobs' runtimes). Jobs of one type may overlap, so sums can exceed the wall time.
 */
async function stageBreakdown(api: TestClient, projectId: string, wall: number): Promise<string> {
  const jobs = ok(await api.GET('/api/v1/jobs', { params: { query: { project_id: projectId, limit: 100 } } })).items;
  const byType = new Map<string, { n: number; ms: number; stages: Map<string, number> }>();
  for (const j of jobs) {
    const t = byType.get(j.type) ?? { n: 0, ms: 0, stages: new Map<string, number>() };
    t.n++;
    if (j.started_at && j.finished_at) t.ms += Date.parse(j.finished_at) - Date.parse(j.started_at);
    for (const s of j.runtime.stages) t.stages.set(s.stage, (t.stages.get(s.stage) ?? 0) + (s.duration_ms ?? 0));
    byType.set(j.type, t);
  }
  const sec = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  const lines = [...byType].map(
    ([type, t]) =>
      `  ${type} ×${t.n}: ${sec(t.ms)} — ${[...t.stages]
        .filter(([, ms]) => ms >= 50)
        .map(([s, ms]) => `${s} ${sec(ms)}`)
        .join(', ')}`,
  );
  return [`  where the ${wall.toFixed(1)} s went (summed per job type):`, ...lines].join('\n');
}

/** x264 alone on the finished video's frames (decoded to raw once), same settings; seconds for all its frames. */
async function x264Alone(video: string, resolution: '720p' | '1080p', frames: number, work: string): Promise<{ seconds: number; timed: number }> {
  const size = resolutionSize(resolution);
  const frameBytes = (size.width * size.height * 3) / 2;
  const disk = statfsSync(work);
  const timed = Math.min(frames, Math.floor((disk.bavail * disk.bsize) / 2 / frameBytes));
  if (timed < FPS * 10) throw new Error(`not enough free disk in ${work} for 10 s of raw frames (${((FPS * 10 * frameBytes) / 2 ** 30).toFixed(1)} GiB)`);
  const raw = path.join(work, 'frames.yuv');
  await runFfmpeg(['-i', video, '-an', '-frames:v', String(timed), '-f', 'rawvideo', '-pix_fmt', 'yuv420p', raw]);
  const x0 = performance.now();
  // biome-ignore format: ffmpeg arguments grouped by option
  await runFfmpeg([
    '-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-s', `${size.width}x${size.height}`, '-r', String(FPS), '-i', raw,
    ...encodeProfile({ ...size, fps: FPS }),
    path.join(work, 'x264.mp4'),
  ]);
  const seconds = ((performance.now() - x0) / 1000) * (frames / timed);
  await rm(raw);
  return { seconds, timed };
}

/** The camera's smoothness as a viewer gets it: a dot canvas moved by a classic clip, encoded, tracked over its first 2 s. */
async function smoothness(work: string): Promise<number> {
  const dots = path.join(work, 'dots.png');
  await makeDotCanvas(dots, 1600, 900);
  const out = path.join(work, 'dots.mp4');
  await classicTransition({ from: dots, to: dots, output: out, seconds: 6, fps: FPS, width: 1280, height: 720, seed: 'smooth', transition: 'fade' });
  return jerkQuantile(await trackDots(out, 1280, 720, 0, 2 * FPS));
}

/**
 * The job once it has ended, learnt from its event stream (GET /jobs/{id}/events ends after the final
 * update), as the family page would: polling ten times a second would put the waiting client's own
 * requests into the figures on a machine whose two cores the render keeps busy.
 */
async function waitEnded(jobId: string) {
  const res = await fetch(`${api.base}/api/v1/jobs/${jobId}/events`, { headers: { authorization: `Bearer ${api.key}` } });
  if (!res.ok) throw new Error(`events of ${jobId}: ${res.status}`);
  await res.text();
  return api.waitJob(jobId, 3_600_000); // at once when the stream ended with the job
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
const spread = (xs: number[], digits = 1) => `${median(xs).toFixed(digits)} (${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)})`;

interface Run {
  wall: number;
  x264: number;
  frames: number;
  timed: number;
  draft?: number;
  breakdown: string;
}
const runs = new Map<string, Run[]>(RESOLUTIONS.map((r) => [r, []]));
const stack = new Stack();
await stack.start({ env: { LOG_LEVEL: 'warn' } });
const api = stack.client(); // the stack made its own account and key
const work = await mkdtemp(path.join(os.tmpdir(), 'mt-bench-'));
let jerk = NaN;
let mem = '';
try {
  for (let run = 1; run <= RUNS; run++) {
    for (const resolution of RESOLUTIONS) {
      const p = await api.project({ title: `bench ${run}`, resolution, fps: FPS, transition_seconds: 6, transition_style: 'classic' });
      ok(await api.uploadFiles(p.id, [...PHOTOS.map((f) => ({ path: f })), { path: MUSIC }]));
      const t0 = performance.now();
      const started = ok(await api.POST('/api/v1/projects/{project_id}/run', { params: { path: { project_id: p.id } } }));
      const job = await waitEnded(started.id);
      const wall = (performance.now() - t0) / 1000;
      if (job.status !== 'succeeded') throw new Error(`pipeline ${job.status}: ${JSON.stringify(job.error)}`);
      const breakdown = await stageBreakdown(api, p.id, wall);
      const video = path.join(work, 'memorial.mp4');
      await api.downloadVideo(p.id, video);
      const frames = Number((await ffprobe(video)).streams.find((x) => x.codec_type === 'video')?.nb_frames);
      const x = await x264Alone(video, resolution, frames, work);
      // The draft preview of the same photos, from cold: a memorial of its own, so nothing of the full run is reused.
      let draft: number | undefined;
      if (resolution === '720p') {
        const d = await api.project({ title: `bench draft ${run}`, resolution, fps: FPS, transition_seconds: 6, transition_style: 'classic' });
        ok(await api.uploadFiles(d.id, [...PHOTOS.map((f) => ({ path: f })), { path: MUSIC }]));
        const d0 = performance.now();
        const preview = ok(await api.POST('/api/v1/projects/{project_id}/preview', { params: { path: { project_id: d.id } } }));
        const dj = await waitEnded(preview.id);
        if (dj.status !== 'succeeded') throw new Error(`draft ${dj.status}: ${JSON.stringify(dj.error)}`);
        draft = (performance.now() - d0) / 1000;
        console.log(`draft: ${(await stageBreakdown(api, d.id, draft)).trimStart()}`);
      }
      runs.get(resolution)!.push({ wall, x264: x.seconds, frames, timed: x.timed, breakdown, ...(draft !== undefined ? { draft } : {}) });
      console.log(
        `run ${run} ${resolution}: pipeline ${wall.toFixed(1)} s, x264 alone ${x.seconds.toFixed(1)} s, ratio ${(wall / x.seconds).toFixed(2)}x` +
          (draft !== undefined ? `, draft ${draft.toFixed(1)} s (${((100 * draft) / wall).toFixed(0)} % of the full render)` : ''),
      );
      console.log(breakdown);
    }
  }
  jerk = await smoothness(work);
  mem = (['gateway', 'canvas', 'transition', 'render'] as const).map((s) => `${s} ${peakMb(stack.procs.get(s)?.pid)} MB`).join(', ');
} finally {
  await rm(work, { recursive: true, force: true });
  await stack.stop();
}

console.log(
  `\nmachine: ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, preset ${process.env.MT_X264_PRESET ?? 'veryfast'}, ${execFileSync('ffmpeg', ['-version']).toString().split('\n')[0]}`,
);
console.log(`${N} photos, 6 s classic transitions, ${FPS} fps, music; medians of ${RUNS} run(s), (min–max):`);
for (const [resolution, rs] of runs) {
  if (rs.length === 0) continue;
  const frames = rs[0]!.frames;
  const wall = rs.map((r) => r.wall);
  const x264 = rs.map((r) => r.x264);
  const ratio = rs.map((r) => r.wall / r.x264);
  const drafts = rs.flatMap((r) => (r.draft !== undefined ? [r.draft] : []));
  const share = rs.flatMap((r) => (r.draft !== undefined ? [(100 * r.draft) / r.wall] : []));
  console.log(
    `${resolution}: ${frames} frames, pipeline ${spread(wall)} s (${(frames / median(wall)).toFixed(1)} fps); x264 alone ${spread(x264)} s` +
      `${rs[0]!.timed < frames ? ` (timed on ${rs[0]!.timed} frames)` : ''}; ratio ${spread(ratio, 2)}x` +
      (drafts.length ? `; draft (854×480) ${spread(drafts)} s = ${spread(share, 0)} % of the full render` : ''),
  );
}
console.log(`smoothness: p90 change in motion over the first 2 s of an encoded 720p clip = ${jerk.toFixed(4)} px/frame²`);
console.log(`peak memory: ${mem}`);
