// The `memorial` command line against a running stack: a folder of photos in, an MP4 out, the
// stages shown as it goes; Ctrl-C (SIGINT) cancels the job on the server and leaves no file behind.
// The key comes from MT_API_KEY; without one, or with one the gateway refuses, it says how to make one.
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ffprobe } from '@mt/media';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { TestClient } from '../lib/api.js';
import { CORPUS, pidsMatching, ROOT, Stack } from '../lib/stack.js';

const stack = new Stack();
let api: TestClient;
let url: string;
let work: string;
const PHOTOS = ['kodak/kodim03.png', 'people_pd/louis_armstrong_gottlieb.jpg', 'kodak/kodim23.png'];

/**
 * Runs the CLI with MT_API_KEY set to the stack's key (or to `apiKey`; '' for none); resolves with its
 * exit code and output. `onOutput` sees stdout as it comes.
 */
function memorial(args: string[], onOutput?: (text: string, child: ReturnType<typeof spawn>) => void, apiKey = api.key!) {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts/memorial.ts'), '--url', url, ...args], {
    cwd: ROOT,
    env: { ...process.env, MT_API_KEY: apiKey },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => {
    stdout += d.toString();
    onOutput?.(stdout, child);
  });
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
}

beforeAll(async () => {
  const e = await stack.start();
  url = e.url;
  api = stack.client();
  work = await mkdtemp(path.join(os.tmpdir(), 'mt-cli-'));
  await Promise.all(PHOTOS.map((p, i) => symlink(path.join(CORPUS, 'photos', p), path.join(work, `${i + 1}${path.extname(p)}`))));
}, 120_000);
afterAll(async () => {
  await stack.stop();
  await rm(work, { recursive: true, force: true });
});

it('makes a memorial video from a folder of photos, showing the stages', async () => {
  const out = path.join(work, 'memorial.mp4');
  const r = await memorial(['--photos', work, '--out', out, '--resolution', '720p', '--seconds', '6', '--style', 'classic', '--name', '김영희']);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/uploading 3 photos/);
  expect(r.stdout).toMatch(/preparing the photos/);
  expect(r.stdout).toMatch(/making transitions/);
  expect(r.stdout).toContain(`Done: ${out}`);
  const v = (await ffprobe(out)).streams.find((s) => s.codec_type === 'video');
  expect(Number(v?.nb_frames)).toBe(3 * 6 * 30);
  expect([v?.width, v?.height]).toEqual([1280, 720]);
}, 300_000);

it('--draft makes and downloads the draft preview (854×480) instead, and the memorial gets no video', async () => {
  const out = path.join(work, 'draft.mp4');
  const r = await memorial(['--photos', work, '--out', out, '--resolution', '1080p', '--seconds', '6', '--draft']);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/Making the draft preview \(job /);
  expect(r.stdout).toContain(`Done: ${out}`);
  const v = (await ffprobe(out)).streams.find((s) => s.codec_type === 'video');
  expect([v?.width, v?.height, Number(v?.nb_frames)]).toEqual([854, 480, 3 * 6 * 30]);
  const projectId = /\(([0-9a-f-]{36})\)/.exec(r.stdout)![1]!;
  const p = (await api.GET('/api/v1/projects/{project_id}', { params: { path: { project_id: projectId } } })).data!;
  expect(p.video).toBeNull();
  expect(p.preview).not.toBeNull();
}, 300_000);

it('Ctrl-C cancels the job on the server and leaves no video and no ffmpeg behind', async () => {
  const out = path.join(work, 'cancelled.mp4');
  let jobId = '';
  let sent = false;
  const r = await memorial(['--photos', work, '--out', out, '--resolution', '720p', '--seconds', '10', '--style', 'classic'], (text, child) => {
    const m = /job ([0-9a-f-]{36})/.exec(text);
    // once the transitions are being made, as a family would after watching for a while
    if (m && !sent && /making transitions/.test(text)) {
      jobId = m[1]!;
      sent = true;
      child.kill('SIGINT');
    }
  });
  expect(sent).toBe(true);
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(/cancelled/);
  const job = await api.waitJob(jobId, 30_000);
  expect(job.status).toBe('canceled');
  expect((await readdir(work)).filter((f) => f.startsWith('cancelled'))).toEqual([]);
  // every ffmpeg of this stack works in its temp folder; a cancelled one is killed within moments
  await expect.poll(() => pidsMatching(`ffmpeg.*${stack.e.tmpDir}`), { timeout: 2_000, interval: 100 }).toEqual([]);
}, 300_000);

it('without MT_API_KEY, or with a key the gateway refuses, says how to make one and makes nothing', async () => {
  const out = path.join(work, 'nokey.mp4');
  const args = ['--photos', work, '--out', out, '--resolution', '720p'];
  const before = (await api.GET('/api/v1/projects', { params: { query: { limit: 100 } } })).data!.items.length;
  const missing = await memorial(args, undefined, '');
  expect(missing.code).toBe(1);
  expect(missing.stderr).toMatch(/^memorial: no API key .*run \.\/mt api-key create --email you@example\.com and set MT_API_KEY/);
  const refused = await memorial(args, undefined, 'mt_not-a-key-anyone-made');
  expect(refused.code).toBe(1);
  expect(refused.stderr).toMatch(/refused the API key \(401 unauthenticated; wrong or revoked\): run \.\/mt api-key create --email you@example\.com/);
  expect(`${missing.stdout}${refused.stdout}`).toBe('');
  expect((await api.GET('/api/v1/projects', { params: { query: { limit: 100 } } })).data!.items).toHaveLength(before);
  expect((await readdir(work)).filter((f) => f.startsWith('nokey'))).toEqual([]);
}, 60_000);
