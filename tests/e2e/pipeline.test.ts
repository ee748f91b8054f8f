// The main job end to end: six real photos (portrait and landscape, greyscale and colour) and CC0
// music become a memorial video; asserted the way a family and YouTube would see it.
import { open, readdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { objectKeys } from '@mt/contracts';
import { CANVAS_VERSION, ffprobe, frameSimilarity } from '@mt/media';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Job, ok, type Project, type TestClient } from '../lib/api.js';
import { CORPUS, Stack } from '../lib/stack.js';

const stack = new Stack();
let api: TestClient;
let s3: S3Client;
const work = path.join(os.tmpdir(), `mt-pipeline-${process.pid}`);
const PHOTOS = [
  'kodak/kodim04.png', // portrait, colour
  'person_mary_lou_williams/mlw_06_1938-1948_window.jpg', // landscape, greyscale
  'kodak/kodim23.png', // landscape, colour
  'person_mary_lou_williams/mlw_01_1946_piano.jpg', // portrait, greyscale
  'people_pd/cameraman_varshney_cc0.png', // square, greyscale
  'everyday_cc0/chelsea_cat_vanderwalt_cc0.png', // colour
].map((p) => path.join(CORPUS, 'photos', p));
const MUSIC = path.join(CORPUS, 'audio', 'bach_goldberg_aria_da_capo_ishizaka_cc0.ogg');

beforeAll(async () => {
  const e = await stack.start();
  api = stack.client();
  s3 = new S3Client({ endpoint: e.s3Endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
  await import('node:fs/promises').then((fs) => fs.mkdir(work, { recursive: true }));
});
afterAll(async () => {
  await stack.stop();
  await import('node:fs/promises').then((fs) => fs.rm(work, { recursive: true, force: true }));
});

/** Top-level MP4 boxes in file order. */
async function topBoxes(file: string): Promise<string[]> {
  const fh = await open(file, 'r');
  const names: string[] = [];
  try {
    const size = (await fh.stat()).size;
    let pos = 0;
    const head = Buffer.alloc(16);
    while (pos < size) {
      await fh.read(head, 0, 16, pos);
      let len = head.readUInt32BE(0);
      names.push(head.toString('latin1', 4, 8));
      if (len === 1) len = Number(head.readBigUInt64BE(8));
      if (len < 8) break;
      pos += len;
    }
  } finally {
    await fh.close();
  }
  return names;
}

const jobsOf = async (project_id: string, query: { type?: Job['type']; limit?: number } = {}) =>
  ok(await api.GET('/api/v1/jobs', { params: { query: { project_id, limit: 50, ...query } } })).items;
const projectById = async (project_id: string) => ok(await api.GET('/api/v1/projects/{project_id}', { params: { path: { project_id } } }));

describe('a memorial video from six photos and music', () => {
  // The fixture every test here reads: one project run once through the whole pipeline, its first
  // video downloaded. Only the last test changes it (it re-renders), and it runs last.
  let project: Project;
  let photoIds: string[];
  let job: Job;
  let firstDownload: { status: number; headers: Headers };
  const progressSeen = new Set<number>();
  const video = path.join(work, 'memorial.mp4');

  beforeAll(async () => {
    project = await api.project({
      title: 'In memory of Mary Lou',
      subject_name: 'Mary Lou Williams',
      born: '1910',
      died: '1981',
      resolution: '720p',
      transition_seconds: 6,
      transition_style: 'classic',
    });
    const up = await api.uploadFiles(project.id, [...PHOTOS.map((p) => ({ path: p })), { path: MUSIC }]);
    expect(up.response.status).toBe(201);
    photoIds = up.data!.items.filter((a) => a.kind === 'photo').map((a) => a.id);
    const run = await api.POST('/api/v1/projects/{project_id}/run', { params: { path: { project_id: project.id } } });
    expect(run.response.status).toBe(202);
    expect(run.data!.type).toBe('pipeline');
    job = await api.waitForJob(run.data!.id, { timeoutMs: 400_000, intervalMs: 100, onUpdate: (j) => progressSeen.add(j.runtime.progress_percent) });
    if (job.status === 'succeeded') firstDownload = await api.downloadVideo(project.id, video);
  }, 420_000);

  it('runs the whole pipeline through its stages', async () => {
    const seen = progressSeen;
    expect(job.error).toBeNull();
    expect(job.status).toBe('succeeded');
    expect(seen.size).toBeGreaterThan(3); // progress moved in steps a family can watch
    const stages = job.runtime.stages.map((s) => s.stage);
    expect(stages[0]).toBe('pipeline_prepare');
    expect(stages.at(-1)).toBe('pipeline_done');
    expect(stages).toEqual(expect.arrayContaining(['canvas_generate', 'transition_generate', 'last_clip_generate', 'render_finalize']));

    const children = (await jobsOf(project.id)).filter((j) => j.parent_job_id === job.id);
    const byType = (t: string) => children.filter((c) => c.type === t);
    expect(byType('canvas')).toHaveLength(1);
    expect(byType('transition')).toHaveLength(5);
    expect(byType('last_clip')).toHaveLength(1);
    expect(byType('render')).toHaveLength(1);
    for (const c of children) {
      expect(c.status).toBe('succeeded');
      expect(c.trace_id).toBe(job.trace_id);
    }
    expect(byType('transition')[0]!.runtime.stages.map((s) => s.stage)).toEqual([
      'transition_start',
      'transition_generate',
      'transition_validate',
      'transition_done',
    ]);
    expect(byType('last_clip')[0]!.runtime.stages.map((s) => s.stage)).toEqual([
      'last_clip_start',
      'last_clip_generate',
      'last_clip_finalize',
      'last_clip_done',
    ]);
    expect(byType('render')[0]!.runtime.stages.map((s) => s.stage)).toEqual(['render_start', 'render_concat', 'render_finalize', 'render_done']);
    expect(byType('canvas')[0]!.runtime.stages.map((s) => s.stage)).toEqual(['canvas_start', 'canvas_generate', 'canvas_validate', 'canvas_done']);
    expect((job.result as { transitions: { provider: string }[] }).transitions.map((t) => t.provider)).toEqual(Array(6).fill('classic'));
    // One transition process makes two clips at once (MT_TRANSITION_CONCURRENCY=2): some transitions overlap in time.
    const spans = byType('transition').map((t) => [Date.parse(t.started_at!), Date.parse(t.finished_at!)] as const);
    expect(spans.some(([s1, e1], i) => spans.some(([s2], j) => i !== j && s2 >= s1 && s2 < e1))).toBe(true);

    const p = await projectById(project.id);
    expect(p.status).toBe('completed');
    expect(p.active_job_id).toBeNull();
    expect(p.video).toMatchObject({ url: `/api/v1/projects/${project.id}/video`, duration_seconds: expect.closeTo(36, 1) });
  });

  it('is a YouTube-ready MP4: H.264 High yuv420p 720p30, AAC 48 kHz stereo, moov first, 36 s', async () => {
    const r = firstDownload;
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('video/mp4');
    const probe = await ffprobe(video);
    const frames = Number((await ffprobe(video, undefined, { countFrames: true })).streams[0]!.nb_read_frames);
    const v = probe.streams.find((s) => s.codec_type === 'video')!;
    const a = probe.streams.find((s) => s.codec_type === 'audio')!;
    expect([v.codec_name, v.profile, v.pix_fmt, v.width, v.height, v.r_frame_rate]).toEqual(['h264', 'High', 'yuv420p', 1280, 720, '30/1']);
    expect(v.color_space ?? v.color_primaries).toBe('bt709');
    expect(frames).toBe(6 * 6 * 30);
    expect(Math.abs(Number(probe.format.duration) - 36)).toBeLessThan(1 / 30 + 0.03);
    expect([a.codec_name, a.profile, a.sample_rate, a.channels]).toEqual(['aac', 'LC', '48000', 2]);
    const boxes = await topBoxes(video);
    expect(boxes.indexOf('moov')).toBeGreaterThanOrEqual(0);
    expect(boxes.indexOf('moov')).toBeLessThan(boxes.indexOf('mdat'));
  });

  it('shows each photo at its boundary and fades to black at the end', async () => {
    for (const [k, id] of photoIds.entries()) {
      const canvas = path.join(work, `canvas-${k}.png`);
      const obj = await s3.send(new GetObjectCommand({ Bucket: stack.e.bucket, Key: objectKeys.canvas(project.id, id, '720p', CANVAS_VERSION) }));
      await writeFile(canvas, Buffer.from(await obj.Body!.transformToByteArray()));
      const ssim = await frameSimilarity(video, k * 180, canvas, { width: 1280, height: 720 });
      expect(ssim, `photo ${k + 1} at frame ${k * 180}`).toBeGreaterThan(0.9);
    }
    // the last frames are black
    const last = path.join(work, 'last.png');
    const { execFile } = await import('node:child_process');
    await new Promise((res, rej) =>
      execFile('ffmpeg', ['-v', 'error', '-y', '-sseof', '-0.5', '-i', video, '-frames:v', '1', '-update', '1', last], (e) => (e ? rej(e) : res(null))),
    );
    const sharp = (await import('sharp')).default;
    const stats = await sharp(last).stats();
    expect(Math.max(...stats.channels.slice(0, 3).map((c) => c.mean))).toBeLessThan(12);
  });

  it('serves byte ranges so a browser can seek, and a poster', async () => {
    const r = await api.fetchVideo(project.id, { range: 'bytes=100-1099' });
    expect(r.status).toBe(206);
    expect(r.headers.get('content-range')).toMatch(/^bytes 100-1099\/\d+$/);
    const part = Buffer.from(await r.arrayBuffer());
    const whole = Buffer.from(await (await api.fetchVideo(project.id)).arrayBuffer());
    expect(part.equals(whole.subarray(100, 1100))).toBe(true);
    // not in the document: an image for <video poster>
    const poster = await fetch(`${api.base}/api/v1/projects/${project.id}/poster`, { headers: { authorization: `Bearer ${api.key}` } });
    expect(poster.headers.get('content-type')).toBe('image/jpeg');
    expect(
      Buffer.from(await poster.arrayBuffer())
        .subarray(0, 2)
        .toString('hex'),
    ).toBe('ffd8');
  });

  it('regenerates one transition and re-renders the video with it', async () => {
    const t = await api.POST('/api/v1/jobs/transition', { body: { project_id: project.id, from_asset_id: photoIds[0]!, to_asset_id: photoIds[1]! } });
    expect(t.response.status).toBe(202);
    const tj = await api.waitJob(t.data!.id, 120_000);
    expect(tj.status).toBe('succeeded');
    const r = await api.POST('/api/v1/jobs/render', { body: { project_id: project.id } });
    expect(r.response.status).toBe(202);
    const rj = await api.waitJob(r.data!.id, 120_000);
    expect(rj.status).toBe('succeeded');
    // same music, same length: the soundtrack is used again, not re-encoded; the pipeline's canvas step
    // made it ahead, so even the first render found it stored
    expect(rj.result?.soundtrack_reused).toBe(true);
    const first = (await jobsOf(project.id, { type: 'render', limit: 10 })).find((j) => j.id !== rj.id)!;
    expect(first.result?.soundtrack_reused).toBe(true);
    const p = await projectById(project.id);
    expect(p.video!.job_id).toBe(rj.id);
    const again = path.join(work, 'again.mp4');
    await api.downloadVideo(project.id, again);
    const probe = await ffprobe(again, undefined, { countFrames: true });
    expect(Number(probe.streams.find((s) => s.codec_type === 'video')!.nb_read_frames)).toBe(1080);
    const audio = (await ffprobe(again)).streams.find((s) => s.codec_type === 'audio')!; // counting frames probes video only
    expect([audio.codec_name, audio.sample_rate, audio.channels]).toEqual(['aac', '48000', 2]);
    expect(Math.abs(Number(audio.duration) - 36)).toBeLessThan(0.05);
  });
});

describe('one active job per project, and cancel', () => {
  it('20 simultaneous runs: exactly one 202, nineteen 409 project_busy', async () => {
    const p = await api.project({ transition_style: 'classic' });
    await api.uploadFiles(p.id, [{ path: PHOTOS[0]! }, { path: PHOTOS[2]! }]);
    const run = () => api.POST('/api/v1/projects/{project_id}/run', { params: { path: { project_id: p.id } } });
    const answers = await Promise.all(Array.from({ length: 20 }, run));
    const codes = answers.map((a) => a.response.status).sort();
    expect(codes.filter((c) => c === 202)).toHaveLength(1);
    expect(codes.filter((c) => c === 409)).toHaveLength(19);
    const winner = answers.find((a) => a.response.status === 202)!.data!.id;
    for (const a of answers.filter((x) => x.response.status === 409)) {
      expect(a.error!.error.code).toBe('project_busy');
      expect(a.error!.error.details.active_job_id).toBe(winner);
    }
    await api.POST('/api/v1/projects/{project_id}/cancel', { params: { path: { project_id: p.id } } });
    expect((await api.waitJob(winner, 30_000)).status).toBe('canceled');
  });

  it('the seed smoke scenario: create → upload → run → progress → cancel → canceled, nothing left running', async () => {
    const p = await api.project({ transition_style: 'classic' });
    await api.uploadFiles(
      p.id,
      PHOTOS.slice(0, 3).map((f) => ({ path: f })),
    );
    const project_id = p.id;
    const run = ok(await api.POST('/api/v1/projects/{project_id}/run', { params: { path: { project_id } } }));
    const running = await api.waitJob(run.id, 60_000, (j) => j.runtime.stage.startsWith('transition_') || j.runtime.stage.startsWith('last_clip'));
    expect(running.status).toBe('running');
    const c = await api.POST('/api/v1/projects/{project_id}/cancel', { params: { path: { project_id } } });
    expect(c.response.status).toBe(202);
    expect(c.data!.id).toBe(run.id);
    const done = await api.waitJob(run.id, 10_000);
    expect(done.status).toBe('canceled');
    expect(done.runtime.stage).toBe('canceled');
    const project = await projectById(project_id);
    expect(project.status).toBe('canceled');
    expect(project.active_job_id).toBeNull();
    // every child ends, and no worker keeps a temp folder for this project's jobs
    const children = async () => (await jobsOf(project_id)).filter((j) => j.parent_job_id === run.id);
    await expect
      .poll(async () => (await children()).every((j) => ['succeeded', 'failed', 'canceled'].includes(j.status)), { timeout: 10_000, interval: 200 })
      .toBe(true);
    const ids = new Set((await children()).map((j) => j.id));
    const left = (await readdir(stack.e.env.MT_TMP_DIR!).catch(() => [] as string[])).filter((d) => [...ids].some((id) => d.includes(id)));
    expect(left).toEqual([]);
    // and a new run is allowed again
    const again = await api.POST('/api/v1/projects/{project_id}/run', { params: { path: { project_id } } });
    expect(again.response.status).toBe(202);
    await api.POST('/api/v1/jobs/{job_id}/cancel', { params: { path: { job_id: again.data!.id } } });
  });
});
