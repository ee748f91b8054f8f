import { describe, expect, it } from 'vitest';
import type { JobView } from './db/index.js';
import {
  clipKeys,
  draftPlan,
  lastClipPayload,
  type PipelinePlan,
  pairIndex,
  pipelineProgress,
  renderPayload,
  transitionPayload,
  videoUrl,
} from './pipeline-plan.js';
import { nextRuntime } from './projector.js';

const photo = (id: string) => ({ asset_id: id, key: `k/${id}`, content_type: 'image/jpeg' });
const plan: PipelinePlan = {
  project_id: 'p',
  photos: ['a', 'b', 'c'].map(photo),
  music: null,
  resolution: '720p',
  fps: 30,
  seconds: 6,
  style: 'auto',
  epilogue: null,
};
const clip = { clip_key: 'old.mp4', frames: 180, provider: 'classic' as const, attempts: 1, fallback_reason: null, method_version: 1 };

describe('pipeline plan', () => {
  it('names the clip steps in video order and finds neighbouring pairs only', () => {
    expect(clipKeys(plan)).toEqual(['transition:0', 'transition:1', 'last_clip']);
    expect(pairIndex(plan, 'b', 'c')).toBe(1);
    expect(pairIndex(plan, 'a', 'c')).toBe(-1);
    expect(pairIndex(plan, 'c', 'b')).toBe(-1);
  });

  it('gives a remade pair its own seed and style, and every other pair its usual ones', () => {
    const remade: PipelinePlan = { ...plan, remake: { from_asset_id: 'b', to_asset_id: 'c', style: 'classic', seed: 42 } };
    expect(transitionPayload(remade, 1)).toMatchObject({ seed: 42, style: 'classic' });
    expect(transitionPayload(remade, 0)).toEqual(transitionPayload(plan, 0));
    expect(transitionPayload(plan, 1).seed).not.toBe(42);
  });

  it('makes a draft of the same photos, seeds, fps and closing card at 480p with classic transitions', () => {
    const full: PipelinePlan = { ...plan, epilogue: { name: 'Grace', born: '1941', died: '2026', title: null } };
    const draft = draftPlan(full);
    expect(draft).toMatchObject({ resolution: '480p', style: 'classic', draft: true, fps: 30, seconds: 6 });
    for (const i of [0, 1]) {
      const [d, f] = [transitionPayload(draft, i), transitionPayload(full, i)];
      expect({ ...d, resolution: f.resolution, style: f.style }).toEqual(f);
      expect([d.resolution, d.style]).toEqual(['480p', 'classic']);
    }
    expect(lastClipPayload(draft)).toEqual({ ...lastClipPayload(full), resolution: '480p', style: 'classic' });
    expect(renderPayload(draft, ['x']).expected_frames).toBe(renderPayload(full, ['x']).expected_frames);
    expect([videoUrl(draft), videoUrl(full)]).toEqual(['/api/v1/projects/p/preview', '/api/v1/projects/p/video']);
  });

  it('counts clips kept from an earlier run as done in the overall progress', () => {
    const none = pipelineProgress(plan, []);
    const kept = pipelineProgress({ ...plan, reuse: { 'transition:0': { job_id: 'j', clip }, last_clip: { job_id: 'k', clip } } }, []);
    expect(none).toBe(0);
    expect(kept).toBeGreaterThan(40);
    expect(pipelineProgress(plan, [{ step_key: 'canvas', status: 'succeeded', r_progress: 100 }])).toBeGreaterThan(0);
  });
});

describe('nextRuntime', () => {
  const job = { status: 'queued', r_stage: 'queued', r_progress: 0, r_detail: null, r_timings: [] } as unknown as JobView;
  const event = (kind: 'progress' | 'succeeded' | 'failed', stage: string | null, progress: number | null, at: string) =>
    ({
      event_id: at,
      job_id: 'j',
      trace_id: 't',
      kind,
      attempt: 1,
      at,
      service: 's',
      stage,
      progress_percent: progress,
      detail_message: null,
      result: null,
      error: kind === 'failed' ? { code: 'x', message: 'It broke' } : null,
    }) as never;

  it('opens and closes stages with their durations, and never moves progress backwards', () => {
    const a = nextRuntime(job, event('progress', 'canvas_start', 10, '2026-01-01T00:00:00.000Z'));
    expect(a).toMatchObject({ status: 'running', stage: 'canvas_start', progress: 10 });
    const b = nextRuntime(
      { ...job, ...{ status: 'running', r_stage: a.stage, r_progress: a.progress, r_timings: a.timings } } as JobView,
      event('progress', 'canvas_generate', 5, '2026-01-01T00:00:02.000Z'),
    );
    expect(b.progress).toBe(10);
    expect(b.timings).toEqual([
      { stage: 'canvas_start', started_at: '2026-01-01T00:00:00.000Z', finished_at: '2026-01-01T00:00:02.000Z', duration_ms: 2000 },
      { stage: 'canvas_generate', started_at: '2026-01-01T00:00:02.000Z', finished_at: null, duration_ms: null },
    ]);
  });

  it('ends at 100 on success and names the reason on failure', () => {
    expect(nextRuntime(job, event('succeeded', 'canvas_done', 100, '2026-01-01T00:00:03.000Z'))).toMatchObject({ status: 'succeeded', progress: 100 });
    expect(nextRuntime(job, event('failed', 'failed', null, '2026-01-01T00:00:03.000Z'))).toMatchObject({
      status: 'failed',
      stage: 'failed',
      detail: 'It broke',
    });
  });
});
