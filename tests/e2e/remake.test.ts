// "Make this transition again": one server-side request remakes one transition and renders the video
// again from the project's clips. Nothing waits on the browser: the test only sends the request and
// then watches the job, as a family that closed the tab would find it later.
import path from 'node:path';
import { ffprobe } from '@mt/media';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Job, ok, type Project, type TestClient } from '../lib/api.js';
import { CORPUS, Stack } from '../lib/stack.js';

const stack = new Stack();
let api: TestClient;
let project: Project;
let photoIds: string[];
let firstRun: Job;
const PHOTOS = ['kodak/kodim23.png', 'kodak/kodim04.png', 'everyday_cc0/coffee_michetti_cc0.png'].map((p) => path.join(CORPUS, 'photos', p));

const remake = (from: string, to: string, style?: 'classic') =>
  api.POST('/api/v1/projects/{project_id}/remake', {
    params: { path: { project_id: project.id } },
    body: { from_asset_id: from, to_asset_id: to, ...(style ? { style } : {}) },
  });
const childrenOf = async (pipelineId: string) =>
  ok(await api.GET('/api/v1/jobs', { params: { query: { project_id: project.id, limit: 100 } } })).items.filter((j) => j.parent_job_id === pipelineId);

beforeAll(async () => {
  await stack.start();
  api = stack.client();
  project = await api.project({ transition_style: 'classic', subject_name: 'Remake' });
  photoIds = ok(
    await api.uploadFiles(
      project.id,
      PHOTOS.map((p) => ({ path: p })),
    ),
  ).items.map((a) => a.id);
  const run = ok(await api.POST('/api/v1/projects/{project_id}/run', { params: { path: { project_id: project.id } } }));
  firstRun = await api.waitJob(run.id, 180_000);
  expect(firstRun.status).toBe('succeeded');
});
afterAll(async () => {
  await stack.stop();
});

describe('POST /projects/{id}/remake', () => {
  it('refuses photos that are not neighbours (404) and a memorial with no video yet (409)', async () => {
    const far = await remake(photoIds[0]!, photoIds[2]!);
    expect(far.response.status).toBe(404);
    expect(far.error).toMatchObject({ error: { code: 'not_found' } });
    const fresh = await api.project();
    const ids = ok(
      await api.uploadFiles(
        fresh.id,
        PHOTOS.slice(0, 2).map((p) => ({ path: p })),
      ),
    ).items.map((a) => a.id);
    const noVideo = await api.POST('/api/v1/projects/{project_id}/remake', {
      params: { path: { project_id: fresh.id } },
      body: { from_asset_id: ids[0]!, to_asset_id: ids[1]! },
    });
    expect(noVideo.response.status).toBe(409);
  });

  it('remakes only that transition with a fresh take, keeps the other clips, and renders the video again', async () => {
    const before = ok(await api.GET('/api/v1/projects/{project_id}', { params: { path: { project_id: project.id } } }));
    const res = await remake(photoIds[1]!, photoIds[2]!, 'classic');
    expect(res.response.status).toBe(202);
    const job = res.data!;
    expect(job.type).toBe('pipeline');
    expect(job.params).toMatchObject({ remake: { from_asset_id: photoIds[1], to_asset_id: photoIds[2], style: 'classic' } });

    // Same guard as run: a second request while it works is 409 project_busy naming the active job.
    const second = await remake(photoIds[0]!, photoIds[1]!);
    expect(second.response.status).toBe(409);
    expect(second.error).toMatchObject({ error: { code: 'project_busy', details: { active_job_id: job.id } } });

    const done = await api.waitJob(job.id, 180_000);
    expect(done.status, JSON.stringify(done.error)).toBe('succeeded');
    const stages = done.runtime.stages.map((s) => s.stage);
    expect(stages[0]).toBe('pipeline_prepare');
    expect(stages).toEqual(expect.arrayContaining(['transition_generate', 'render_concat', 'pipeline_done']));

    // Only the canvas check, the one transition and the render ran; the other clips are the first run's.
    const steps = (await childrenOf(job.id)).map((c) => c.type).sort();
    expect(steps).toEqual(['canvas', 'render', 'transition']);
    const result = done.result as { transitions: Array<{ step: string; job_id: string; reused: boolean }>; render_job_id: string; frames: number };
    const firstSteps = (firstRun.result as typeof result).transitions;
    expect(result.transitions.map((t) => [t.step, t.reused])).toEqual([
      ['transition:0', true],
      ['transition:1', false],
      ['last_clip', true],
    ]);
    expect(result.transitions[0]!.job_id).toBe(firstSteps[0]!.job_id);
    expect(result.transitions[1]!.job_id).not.toBe(firstSteps[1]!.job_id);
    const oldTake = ok(await api.GET('/api/v1/jobs/{job_id}', { params: { path: { job_id: firstSteps[1]!.job_id } } }));
    const newTake = ok(await api.GET('/api/v1/jobs/{job_id}', { params: { path: { job_id: result.transitions[1]!.job_id } } }));
    expect(newTake.params.seed).not.toBe(oldTake.params.seed);

    // The family's video is the new render, whole: 3 photos × 6 s × 30 fps.
    const after = ok(await api.GET('/api/v1/projects/{project_id}', { params: { path: { project_id: project.id } } }));
    expect(after.status).toBe('completed');
    expect(after.video!.job_id).toBe(result.render_job_id);
    expect(after.video!.job_id).not.toBe(before.video!.job_id);
    const file = path.join(stack.e.tmpDir, 'remade.mp4');
    await api.downloadVideo(project.id, file);
    const probe = await ffprobe(file, undefined, { countFrames: true });
    expect(Number(probe.streams.find((s) => s.codec_type === 'video')!.nb_read_frames)).toBe(540);
  });
});
