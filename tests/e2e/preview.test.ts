// The draft preview (issue 11): a family checks the story at 854×480 in a fraction of the time, before
// the full video; the draft never takes the video's place, and neither render borrows the other's clips.
import { mkdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { ffprobe } from '@mt/media';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Job, ok, type Project, type TestClient } from '../lib/api.js';
import { CORPUS, Stack } from '../lib/stack.js';

const stack = new Stack();
let api: TestClient;
let stranger: TestClient;
let s3: S3Client;
const work = path.join(os.tmpdir(), `mt-preview-${process.pid}`);
const PHOTOS = ['kodak/kodim23.png', 'kodak/kodim04.png', 'everyday_cc0/coffee_michetti_cc0.png'].map((p) => path.join(CORPUS, 'photos', p));
const MUSIC = path.join(CORPUS, 'audio', 'bach_goldberg_aria_da_capo_ishizaka_cc0.ogg');
const FPS = 25;
const FRAMES = PHOTOS.length * 6 * FPS;

let project: Project;
let photoIds: string[];
let draft: Job;
let full: Job;

const pid = () => ({ params: { path: { project_id: project.id } } });
const getProject = async () => ok(await api.GET('/api/v1/projects/{project_id}', pid()));
const childrenOf = async (pipelineId: string) =>
  ok(await api.GET('/api/v1/jobs', { params: { query: { project_id: project.id, limit: 200 } } })).items.filter((j) => j.parent_job_id === pipelineId);
const seconds = (j: Job) => (Date.parse(j.finished_at!) - Date.parse(j.created_at)) / 1000;
type PipelineResult = { video_url: string; render_job_id: string; frames: number; transitions: { step: string; job_id: string; reused: boolean }[] };

async function probe(file: string) {
  const counted = await ffprobe(file, undefined, { countFrames: true });
  const all = await ffprobe(file);
  return { v: counted.streams.find((s) => s.codec_type === 'video')!, audio: all.streams.filter((s) => s.codec_type === 'audio') };
}

beforeAll(async () => {
  const e = await stack.start();
  api = stack.client();
  stranger = (await stack.newAccount('another-family@preview.test')).api;
  s3 = new S3Client({ endpoint: e.s3Endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
  await mkdir(work, { recursive: true });
  // 'auto' and 720p at 25 fps: the draft must still use classic transitions, 854×480, and the project's 25 fps.
  project = await api.project({ subject_name: 'Draft Preview', born: '1940', died: '2026', transition_style: 'auto', resolution: '720p', fps: FPS });
  const up = ok(await api.uploadFiles(project.id, [...PHOTOS.map((p) => ({ path: p })), { path: MUSIC }]));
  photoIds = up.items.filter((a) => a.kind === 'photo').map((a) => a.id);
}, 120_000);
afterAll(async () => {
  s3?.destroy();
  await stack.stop();
  await rm(work, { recursive: true, force: true });
});

describe('draft preview', () => {
  it('answers 404 no_preview before a draft exists, and 404 not_found to another account', async () => {
    const before = await api.fetchVideo(project.id, {}, { draft: true });
    expect(before.status).toBe(404);
    expect(((await before.json()) as { error: { code: string } }).error.code).toBe('no_preview');
    expect((await getProject()).preview).toBeNull();

    const theirs = await stranger.fetchVideo(project.id, { range: 'bytes=0-99' }, { draft: true });
    expect(theirs.status).toBe(404);
    expect(((await theirs.json()) as { error: { code: string } }).error.code).toBe('not_found');
    const start = await stranger.POST('/api/v1/projects/{project_id}/preview', pid());
    expect(start.response.status).toBe(404);
    expect(start.error).toMatchObject({ error: { code: 'not_found' } });
  });

  it('makes an 854×480 draft at the project fps with music, exact frames, without touching the video', async () => {
    const res = await api.POST('/api/v1/projects/{project_id}/preview', pid());
    expect(res.response.status).toBe(202);
    expect(res.data!.type).toBe('pipeline');
    expect(res.data!.params).toMatchObject({ project_id: project.id, draft: true });
    // The same guard as a run: one pipeline at a time, whichever kind.
    const run = await api.POST('/api/v1/projects/{project_id}/run', pid());
    expect(run.response.status).toBe(409);
    expect(run.error).toMatchObject({ error: { code: 'project_busy', details: { active_job_id: res.data!.id } } });
    const again = await api.POST('/api/v1/projects/{project_id}/preview', pid());
    expect(again.response.status).toBe(409);

    draft = await api.waitJob(res.data!.id, 300_000);
    expect(draft.status, JSON.stringify(draft.error)).toBe('succeeded');
    const stages = draft.runtime.stages.map((s) => s.stage);
    expect(stages[0]).toBe('pipeline_prepare');
    expect(stages.at(-1)).toBe('pipeline_done');
    expect(stages).toEqual(expect.arrayContaining(['canvas_generate', 'transition_generate', 'last_clip_generate', 'render_finalize']));
    const result = draft.result as PipelineResult;
    expect(result.video_url).toBe(`/api/v1/projects/${project.id}/preview`);
    expect(result.frames).toBe(FRAMES);

    // Every step ran at 480p with classic transitions and the run's seeds.
    const children = await childrenOf(draft.id);
    expect(children.map((c) => c.type).sort()).toEqual(['canvas', 'last_clip', 'render', 'transition', 'transition']);
    for (const c of children) expect(c.params.resolution).toBe('480p');
    for (const t of children.filter((c) => c.type === 'transition')) {
      expect(t.params.style).toBe('classic');
      expect((t.result as { provider: string }).provider).toBe('classic');
    }

    // Not the video: the memorial has none yet and is back to draft; the preview is named beside it.
    const p = await getProject();
    expect(p.video).toBeNull();
    expect(p.status).toBe('draft');
    expect(p.preview).toMatchObject({ job_id: draft.id, url: `/api/v1/projects/${project.id}/preview` });
    expect((await api.fetchVideo(project.id)).status).toBe(404);

    // Range as for the video (a browser seeks), then the whole file.
    const part = await api.fetchVideo(project.id, { range: 'bytes=0-99' }, { draft: true });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toMatch(/^bytes 0-99\/\d+$/);
    expect(part.headers.get('content-type')).toBe('video/mp4');
    expect(Buffer.from(await part.arrayBuffer()).toString('latin1', 4, 8)).toBe('ftyp');
    const file = path.join(work, 'draft.mp4');
    await api.downloadVideo(project.id, file, { draft: true });
    const { v, audio } = await probe(file);
    expect([v.width, v.height]).toEqual([854, 480]);
    expect(v.r_frame_rate).toBe(`${FPS}/1`);
    expect(v.profile).toBe('High');
    expect(Number(v.nb_read_frames)).toBe(FRAMES);
    expect(audio.map((a) => [a.codec_name, a.sample_rate])).toEqual([['aac', '48000']]);
  }, 320_000);

  it('the full run makes its own 720p clips, becomes the video, and leaves the draft as it was', async () => {
    const res = await api.POST('/api/v1/projects/{project_id}/run', pid());
    expect(res.response.status).toBe(202);
    full = await api.waitJob(res.data!.id, 400_000);
    expect(full.status, JSON.stringify(full.error)).toBe('succeeded');
    const children = await childrenOf(full.id);
    for (const c of children) expect(c.params.resolution).toBe('720p');
    const draftClips = new Set((draft.result as PipelineResult).transitions.map((t) => t.job_id));
    for (const t of (full.result as PipelineResult).transitions) expect(draftClips.has(t.job_id)).toBe(false);

    const p = await getProject();
    expect(p.status).toBe('completed');
    expect(p.video!.job_id).toBe((full.result as PipelineResult).render_job_id);
    expect(p.preview!.job_id).toBe(draft.id);
    const video = path.join(work, 'full.mp4');
    await api.downloadVideo(project.id, video);
    expect([(await probe(video)).v.width, (await probe(video)).v.height]).toEqual([1280, 720]);
    const stillDraft = path.join(work, 'draft-again.mp4');
    await api.downloadVideo(project.id, stillDraft, { draft: true });
    expect((await probe(stillDraft)).v.width).toBe(854);

    // The figure issue 11 asks for (3 photos here; the bench measures 12).
    const d = seconds(draft);
    const f = seconds(full);
    console.log(`draft preview ${d.toFixed(1)} s vs full 720p run ${f.toFixed(1)} s for ${PHOTOS.length} photos: ${((d / f) * 100).toFixed(0)} %`);
  }, 420_000);

  it('a second draft keeps the first draft’s clips, a remake keeps the full run’s: neither borrows the other’s', async () => {
    const res = ok(await api.POST('/api/v1/projects/{project_id}/preview', pid()));
    const second = await api.waitJob(res.id, 300_000);
    expect(second.status, JSON.stringify(second.error)).toBe('succeeded');
    const firstDraft = (draft.result as PipelineResult).transitions;
    expect((second.result as PipelineResult).transitions.map((t) => [t.step, t.reused, t.job_id])).toEqual(firstDraft.map((t) => [t.step, true, t.job_id]));
    expect((await getProject()).video!.job_id).toBe((full.result as PipelineResult).render_job_id);
    expect((await getProject()).preview!.job_id).toBe(second.id);

    const remake = ok(
      await api.POST('/api/v1/projects/{project_id}/remake', { ...pid(), body: { from_asset_id: photoIds[0]!, to_asset_id: photoIds[1]!, style: 'classic' } }),
    );
    const remade = await api.waitJob(remake.id, 300_000);
    expect(remade.status, JSON.stringify(remade.error)).toBe('succeeded');
    const fullSteps = new Map((full.result as PipelineResult).transitions.map((t) => [t.step, t.job_id]));
    for (const t of (remade.result as PipelineResult).transitions.filter((x) => x.reused)) expect(t.job_id).toBe(fullSteps.get(t.step));
    const p = await getProject();
    expect(p.video!.job_id).toBe((remade.result as PipelineResult).render_job_id);
    expect(p.preview!.job_id).toBe(second.id);
  }, 620_000);

  it('deleting the memorial removes the draft files with the rest', async () => {
    const list = async () => (await s3.send(new ListObjectsV2Command({ Bucket: stack.e.bucket, Prefix: `projects/${project.id}/` }))).Contents ?? [];
    const keys = (await list()).map((o) => o.Key!);
    expect(keys.some((k) => /\/canvases\/.+-480p-v\d+\.png$/.test(k))).toBe(true);
    expect(keys.some((k) => /\/canvases\/.+-720p-v\d+\.png$/.test(k))).toBe(true);
    const del = await api.DELETE('/api/v1/projects/{project_id}', pid());
    expect(del.response.status).toBe(204);
    expect(await list()).toEqual([]);
  });
});
