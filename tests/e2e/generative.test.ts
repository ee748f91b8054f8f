// Generative transitions end to end (issue #5): the real stack with its transition service pointed at
// the ComfyUI TEST DOUBLE (tests/comfy-standin). A project run with style `generative` gets generative
// transitions; every way a model server fails still ends in a good clip through a retry or the
// classic fallback, with the right `attempts` and `fallback_reason`; cancel takes the prompt off the
// server; `auto` runs classic at once when the server is down or not configured.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { ffprobe } from '@mt/media';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Behaviour, ComfyStandin } from '../comfy-standin/test-double-comfyui.js';
import { type Job, ok, type TestClient } from '../lib/api.js';
import { CORPUS, Stack } from '../lib/stack.js';
import { waitFor } from '../lib/wait.js';

const PHOTOS = ['person_mary_lou_williams/mlw_02_1946_piano.jpg', 'people_pd/miles_davis_gottlieb.jpg', 'landscape_pd'];
const FPS = 24;
const SECONDS = 6;
const ATTEMPTS = 2;
// One generative attempt's limit: long enough that a busy CI machine does not time out the test double's
// quick answers (4 s did, twice, while other suites ran), short enough that the hang cases stay quick.
const TIMEOUT_MS = 12_000;
/** A cancel must not wait for the attempt's limit: it ends the job within this. */
const CANCEL_WITHIN_MS = 4_000;
const HEALTH_TTL_MS = 200;

const standin = new ComfyStandin({ steps: 4, stepMs: 40 });
const stack = new Stack();
let api: TestClient;
let s3: S3Client;
// The fixture every test uses: a project of three photos, style generative.
let project: { id: string };
let photos: Array<{ id: string }>;
const timings: string[] = [];

async function firstFile(dirOrFile: string): Promise<string> {
  const full = path.join(CORPUS, 'photos', dirOrFile);
  if (/\.(jpe?g|png)$/i.test(full)) return full;
  const { readdir } = await import('node:fs/promises');
  const f = (await readdir(full)).filter((n) => /\.(jpe?g|png)$/i.test(n)).sort()[0]!;
  return path.join(full, f);
}

/** The clip of a job, from the store, checked like the renderer will: exact frames, size, fps. */
async function checkClip(key: string): Promise<void> {
  const out = await s3.send(new GetObjectCommand({ Bucket: stack.e.bucket, Key: key }));
  const file = path.join(stack.e.tmpDir, `${path.basename(path.dirname(key))}.mp4`);
  await writeFile(file, await out.Body!.transformToByteArray());
  const p = await ffprobe(file, undefined, { countFrames: true });
  const v = p.streams.find((s) => s.codec_type === 'video')!;
  expect({ frames: Number(v.nb_read_frames), w: v.width, h: v.height, fps: v.r_frame_rate, codec: v.codec_name, profile: v.profile }).toEqual({
    frames: SECONDS * FPS,
    w: 1280,
    h: 720,
    fps: `${FPS}/1`,
    codec: 'h264',
    profile: 'High',
  });
}

async function transition(style: 'auto' | 'generative' | 'classic', pair = 0): Promise<{ job: Job; ms: number }> {
  const t = Date.now();
  const r = await api.POST('/api/v1/jobs/transition', {
    body: { project_id: project.id, from_asset_id: photos[pair]!.id, to_asset_id: photos[pair + 1]!.id, duration_seconds: SECONDS, style },
  });
  expect(r.response.status).toBe(202);
  const job = await api.waitJob(r.data!.id, 90_000);
  return { job, ms: Date.now() - t };
}

beforeAll(async () => {
  const url = await standin.start();
  const e = await stack.start({
    env: {
      MT_COMFYUI_URL: url,
      MT_COMFYUI_TIMEOUT_MS: String(TIMEOUT_MS),
      MT_COMFYUI_REQUEST_TIMEOUT_MS: '6000',
      MT_COMFYUI_POLL_MS: '250',
      MT_COMFYUI_HEALTH_TTL_MS: String(HEALTH_TTL_MS),
      MT_COMFYUI_MAX_WIDTH: '480',
      MT_GENERATIVE_ATTEMPTS: String(ATTEMPTS),
    },
  });
  api = stack.client();
  s3 = new S3Client({
    endpoint: e.s3Endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  project = await api.project({ title: 'Generative', resolution: '720p', fps: FPS, transition_seconds: SECONDS, transition_style: 'generative' });
  const up = await api.uploadFiles(project.id, await Promise.all(PHOTOS.map(async (p) => ({ path: await firstFile(p) }))));
  expect(up.response.status).toBe(201);
  photos = up.data!.items;
});

afterAll(async () => {
  if (timings.length) console.log(`generative e2e timings:\n  ${timings.join('\n  ')}`);
  s3?.destroy();
  await stack.stop();
  await standin.stop();
});

describe('a project run with style generative', () => {
  it('makes its transitions with the model server and renders the video', async () => {
    const t = Date.now();
    const promptsBefore = standin.state().prompts.length;
    const run = await api.POST('/api/v1/projects/{project_id}/run', { params: { path: { project_id: project.id } } });
    expect(run.response.status).toBe(202);
    const job = await api.waitJob(run.data!.id, 180_000);
    expect(job.status, JSON.stringify(job.error)).toBe('succeeded');
    // this run's own children: other tests make transitions of the same project
    const childrenOf = async (type: Job['type']) =>
      ok(await api.GET('/api/v1/jobs', { params: { query: { project_id: project.id, type, limit: 100 } } })).items.filter((c) => c.parent_job_id === job.id);
    const children = await childrenOf('transition');
    expect(children).toHaveLength(2);
    for (const c of children) {
      expect(c.result).toMatchObject({ provider: 'generative', attempts: 1, fallback_reason: null, frames: SECONDS * FPS });
      expect(c.runtime.stages.map((s) => s.stage)).toEqual(['transition_start', 'transition_generate', 'transition_validate', 'transition_done']);
      await checkClip((c.result as { clip_key: string }).clip_key);
    }
    const last = await childrenOf('last_clip');
    expect(last[0]!.result).toMatchObject({ provider: 'classic' });
    const st = standin.state();
    const mine = st.prompts.slice(promptsBefore);
    expect(mine.filter((p) => p.state === 'success')).toHaveLength(2);
    // The workflow as the model needs it: multiples of 16, 4n+1 frames, the project's aspect.
    expect(mine[0]).toMatchObject({ width: 480, height: 272, length: 81 });
    const p = ok(await api.GET('/api/v1/projects/{project_id}', { params: { path: { project_id: project.id } } }));
    expect(p.video).not.toBeNull();
    timings.push(`project run (3 photos, 2 generative transitions, render): ${Date.now() - t} ms`);
  });
});

/** The gateway's count of classic fallbacks for one reason (0 before the first). */
async function fallbacksCounted(reason: string): Promise<number> {
  const text = await (await fetch(`${stack.e.url}/metrics`)).text();
  return Number(new RegExp(`^mt_transition_fallbacks_total\\{reason="${reason}"\\} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
}

interface Case {
  plan: Behaviour[];
  provider: 'generative' | 'classic';
  attempts: number;
  reason: string | null;
  server?: (s: ReturnType<ComfyStandin['state']>, promptIds: string[]) => void;
}
// MT_GENERATIVE_ATTEMPTS=2: a behaviour planned once is cured by the retry, planned twice it ends in the fallback.
const CASES: Record<string, Case> = {
  'refuses the workflow (400 node_errors): no retry, classic at once': { plan: ['refuse'], provider: 'classic', attempts: 2, reason: 'refused' },
  'answers 500 once: the retry makes it': { plan: ['http_500'], provider: 'generative', attempts: 2, reason: null },
  'leaves the prompt queued for ever: deleted from the queue, the retry makes it': {
    plan: ['queue_stuck'],
    provider: 'generative',
    attempts: 2,
    reason: null,
    server: (s, ids) => expect(s.deletions).toContain(ids[0]),
  },
  'hangs until interrupted, twice: interrupted each time, then classic': {
    plan: ['hang', 'hang'],
    provider: 'classic',
    attempts: 3,
    reason: 'timeout',
    server: (s, ids) => expect(s.interrupts).toEqual(expect.arrayContaining(ids)),
  },
  'drops the websocket mid-run: /history polling finishes the same attempt': { plan: ['drop_ws'], provider: 'generative', attempts: 1, reason: null },
  'fails running it (execution_error): the retry makes it': { plan: ['exec_error'], provider: 'generative', attempts: 2, reason: null },
  'returns the wrong frame count twice: classic': { plan: ['wrong_frames', 'wrong_frames'], provider: 'classic', attempts: 3, reason: 'frame_count' },
  'returns black frames once: the retry makes it': { plan: ['black'], provider: 'generative', attempts: 2, reason: null },
  'ends on a picture that is not B, twice: classic': {
    plan: ['mismatch_end', 'mismatch_end'],
    provider: 'classic',
    attempts: 3,
    reason: 'last_frame_mismatch',
  },
  'returns a frozen clip once: the retry makes it': { plan: ['frozen'], provider: 'generative', attempts: 2, reason: null },
};

describe('when the model server misbehaves, a transition still ends succeeded with a valid clip', () => {
  it.each(Object.entries(CASES))('%s', async (name, c) => {
    const before = standin.state().submissions.length;
    const fallbacksBefore = c.reason ? await fallbacksCounted(c.reason) : 0;
    standin.plan(...c.plan);
    const { job, ms } = await transition('generative');
    expect(job.status, JSON.stringify(job.error)).toBe('succeeded');
    expect(job.result).toMatchObject({ provider: c.provider, attempts: c.attempts, fallback_reason: c.reason });
    await checkClip((job.result as { clip_key: string }).clip_key);
    const st = standin.state();
    const mine = st.submissions.slice(before);
    // Each generative attempt drew a planned behaviour; a refusal is not retried.
    const generativeAttempts = c.provider === 'generative' ? c.attempts : c.attempts - 1;
    expect(mine.map((s) => s.behaviour)).toEqual([...c.plan, 'ok'].slice(0, generativeAttempts));
    c.server?.(st, mine.map((s) => s.prompt_id!).filter(Boolean));
    expect(st.plan).toEqual([]);
    // the gateway's metrics count each fallback once, by reason
    if (c.reason) expect(await fallbacksCounted(c.reason)).toBe(fallbacksBefore + 1);
    timings.push(`${c.plan.join('+')}: ${job.result?.provider}, attempts ${job.result?.attempts}, fallback ${job.result?.fallback_reason}, ${ms} ms`);
    void name;
  });
});

describe('cancel', () => {
  it('aborts the running prompt on the model server at once', async () => {
    standin.plan('hang');
    const before = standin.state().submissions.length;
    const r = ok(
      await api.POST('/api/v1/jobs/transition', {
        body: { project_id: project.id, from_asset_id: photos[1]!.id, to_asset_id: photos[2]!.id, duration_seconds: SECONDS, style: 'generative' },
      }),
    );
    const id = await waitFor(
      () => {
        const s = standin.state();
        const prompt = s.submissions.slice(before)[0]?.prompt_id;
        return prompt && s.prompts.find((p) => p.id === prompt)?.state === 'running' ? prompt : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 50, what: 'the prompt to run on the model server' },
    );
    const t = Date.now();
    expect((await api.POST('/api/v1/jobs/{job_id}/cancel', { params: { path: { job_id: r.id } } })).response.status).toBe(202);
    const job = await api.waitJob(r.id, 20_000);
    expect(job.status).toBe('canceled');
    expect(Date.now() - t).toBeLessThan(CANCEL_WITHIN_MS);
    expect(standin.state().interrupts).toContain(id);
    timings.push(`cancel during generation: canceled and interrupted in ${Date.now() - t} ms`);
  });
});

describe('style auto', () => {
  it('uses the model server when it is healthy', async () => {
    const { job } = await transition('auto');
    expect(job.result).toMatchObject({ provider: 'generative', attempts: 1, fallback_reason: null });
  });

  it('runs classic at once when the model server is unhealthy, and says so', async () => {
    standin.setHealthy(false);
    // The transition service checks health only when it needs to and keeps the answer for
    // MT_COMFYUI_HEALTH_TTL_MS: there is nothing to watch, only that time to let pass.
    await sleep(HEALTH_TTL_MS + 100);
    const before = standin.state().submissions.length;
    try {
      const { job, ms } = await transition('auto');
      expect(job.result).toMatchObject({ provider: 'classic', attempts: 1, fallback_reason: 'unavailable' });
      expect(standin.state().submissions.length).toBe(before);
      timings.push(`auto, server unhealthy: classic in ${ms} ms`);
    } finally {
      standin.setHealthy(true);
    }
  });

  it('runs classic with no delay when no model server is configured', async () => {
    await stack.stopProcess('transition');
    stack.spawn('transition', 'transition-no-model', { MT_COMFYUI_URL: '' });
    const requests = standin.state().requests;
    const { job, ms } = await transition('auto');
    expect(job.status).toBe('succeeded');
    expect(job.result).toMatchObject({ provider: 'classic', attempts: 1, fallback_reason: null });
    expect(standin.state().requests).toBe(requests);
    // No health check, no waiting: generation starts right after the canvases are fetched.
    const stages = job.runtime.stages;
    expect(stages.map((s) => s.stage)).toEqual(['transition_start', 'transition_generate', 'transition_validate', 'transition_done']);
    expect(stages[0]!.duration_ms!).toBeLessThan(2_000);
    timings.push(`auto, no model server: classic in ${ms} ms (start stage ${stages[0]!.duration_ms} ms)`);
  });
});
