import type { TestJobRequest } from '@mt/contracts';
import { ClipResult } from '@mt/contracts';
import { assetRef, lastClipPayload, pairSeed, planFor, renderPayload, transitionPayload, type PipelinePlan } from './coordinator.js';
import { ApiError } from './http-errors.js';
import type { JobStore, NewJob } from './jobs.js';
import type { ProjectStore } from './projects.js';

/**
 * Turns a REST job request into a job to create: checks what the request names exists and fits,
 * and fixes the command payload (inputs by object key) at creation time.
 */
export class JobRequests {
  constructor(
    private readonly projects: ProjectStore,
    private readonly jobs: JobStore,
  ) {}

  test(body: TestJobRequest): NewJob {
    return { type: 'test', params: body, payload: { steps: body.steps, step_ms: body.step_ms, fail_at_step: body.fail_at_step ?? null } };
  }

  async pipeline(projectId: string): Promise<NewJob> {
    const photos = await this.projects.photos(projectId);
    if (photos.length < 2)
      throw new ApiError('validation_failed', `A memorial video needs at least 2 photos; this one has ${photos.length}. Upload more photos first.`, {
        field: 'photos',
        photo_count: photos.length,
      });
    return { type: 'pipeline', projectId, params: { project_id: projectId }, payload: { project_id: projectId } };
  }

  async canvas(projectId: string): Promise<NewJob> {
    const p = await this.projects.get(projectId);
    const photos = await this.projects.photos(projectId);
    if (photos.length === 0) throw new ApiError('validation_failed', 'This memorial has no photos yet.', { field: 'photos' });
    const payload = { project_id: projectId, photos: photos.map(assetRef), resolution: p.resolution, fps: p.fps };
    return { type: 'canvas', projectId, params: { project_id: projectId }, payload };
  }

  private async plan(projectId: string, seconds?: 6 | 10, style?: PipelinePlan['style']): Promise<PipelinePlan> {
    const p = await this.projects.get(projectId);
    const plan = planFor(p, await this.projects.photos(projectId), await this.projects.music(projectId));
    return { ...plan, seconds: seconds ?? plan.seconds, style: style ?? plan.style };
  }

  async transition(b: { project_id: string; from_asset_id: string; to_asset_id: string; duration_seconds?: 6 | 10; style?: PipelinePlan['style'] }): Promise<NewJob> {
    const plan = await this.plan(b.project_id, b.duration_seconds, b.style);
    const from = plan.photos.findIndex((a) => a.asset_id === b.from_asset_id);
    const to = plan.photos.findIndex((a) => a.asset_id === b.to_asset_id);
    if (from < 0) throw new ApiError('validation_failed', 'from_asset_id: not a photo of this memorial', { field: 'from_asset_id' });
    if (to < 0) throw new ApiError('validation_failed', 'to_asset_id: not a photo of this memorial', { field: 'to_asset_id' });
    if (from === to) throw new ApiError('validation_failed', 'to_asset_id: must differ from from_asset_id', { field: 'to_asset_id' });
    const payload = { ...transitionPayload(plan, 0), from: plan.photos[from]!, to: plan.photos[to]!, seed: pairSeed(b.from_asset_id, b.to_asset_id) };
    return { type: 'transition', projectId: b.project_id, params: b, payload };
  }

  async lastClip(b: { project_id: string; asset_id: string; duration_seconds?: 6 | 10 }): Promise<NewJob> {
    const plan = await this.plan(b.project_id, b.duration_seconds);
    const asset = plan.photos.find((a) => a.asset_id === b.asset_id);
    if (!asset) throw new ApiError('validation_failed', 'asset_id: not a photo of this memorial', { field: 'asset_id' });
    return { type: 'last_clip', projectId: b.project_id, params: b, payload: { ...lastClipPayload(plan), asset } };
  }

  /** Render from the latest good clips: for each pair in today's order, the newest succeeded transition. */
  async render(projectId: string): Promise<NewJob> {
    const plan = await this.plan(projectId);
    if (plan.photos.length < 2) throw new ApiError('validation_failed', 'A memorial video needs at least 2 photos.', { field: 'photos' });
    const em = this.projects.em();
    const latest = async (type: string, match: string, args: unknown[]) => {
      const rows = await em.execute<{ result: unknown }[]>(
        `select result from jobs where project_id = ? and type = ? and status = 'succeeded' and ${match} order by finished_at desc limit 1`,
        [projectId, type, ...args],
      );
      return rows[0] ? ClipResult.parse(rows[0].result).clip_key : null;
    };
    const clips: string[] = [];
    for (let i = 0; i < plan.photos.length - 1; i++) {
      const a = plan.photos[i]!.asset_id;
      const b = plan.photos[i + 1]!.asset_id;
      const key = await latest(
        'transition',
        `payload->'from'->>'asset_id' = ? and payload->'to'->>'asset_id' = ? and (payload->>'seconds')::int = ? and payload->>'resolution' = ? and (payload->>'fps')::int = ?`,
        [a, b, plan.seconds, plan.resolution, plan.fps],
      );
      if (!key)
        throw new ApiError('validation_failed', `The transition from photo ${i + 1} to photo ${i + 2} has not been made for the current order and settings. Run the memorial, or make that transition first.`, {
          field: 'transitions',
          from_asset_id: a,
          to_asset_id: b,
        });
      clips.push(key);
    }
    const last = plan.photos.at(-1)!.asset_id;
    const lastKey = await latest(
      'last_clip',
      `payload->'asset'->>'asset_id' = ? and (payload->>'seconds')::int = ? and payload->>'resolution' = ? and (payload->>'fps')::int = ?`,
      [last, plan.seconds, plan.resolution, plan.fps],
    );
    if (!lastKey) throw new ApiError('validation_failed', 'The closing scene for the last photo has not been made yet. Run the memorial first.', { field: 'last_clip' });
    clips.push(lastKey);
    return { type: 'render', projectId, params: { project_id: projectId }, payload: renderPayload(plan, clips) };
  }
}
