import { JOB_RESULTS, type RemakeRequest, type TestJobRequest } from '@mt/contracts';
import type { NewJob, ProjectView, Repositories } from './db/index.js';
import { ApiError } from './http-errors.js';
import {
  assetRef,
  clipCaptions,
  lastCaption,
  lastClipPayload,
  type PipelinePlan,
  pairIndex,
  pairSeed,
  planFor,
  renderPayload,
  transitionPayload,
} from './pipeline-plan.js';

/**
 * Turns a REST job request into a job to create: checks that what the request names exists and fits,
 * and fixes the command payload (inputs by object key) at creation time. The project passed in is
 * one the caller may use (decided by access before this is called).
 */
export class JobRequests {
  constructor(private readonly repos: Repositories) {}

  test(body: TestJobRequest): NewJob {
    return { type: 'test', params: body, payload: { steps: body.steps, step_ms: body.step_ms, fail_at_step: body.fail_at_step ?? null } };
  }

  async pipeline(p: ProjectView): Promise<NewJob> {
    const photos = await this.repos.assets.photos(p.id);
    if (photos.length < 2)
      throw new ApiError('validation_failed', `A memorial video needs at least 2 photos; this one has ${photos.length}. Upload more photos first.`, {
        field: 'photos',
        photo_count: photos.length,
      });
    return { type: 'pipeline', projectId: p.id, params: { project_id: p.id }, payload: { project_id: p.id } };
  }

  /** A draft preview: the same pipeline at 854×480 with classic transitions; it never replaces the video. */
  async preview(p: ProjectView): Promise<NewJob> {
    await this.pipeline(p);
    return { type: 'pipeline', projectId: p.id, params: { project_id: p.id, draft: true }, payload: { project_id: p.id, draft: true } };
  }

  /** One transition made again, then the video rendered again: one pipeline, so a closed browser changes nothing. */
  async remake(p: ProjectView, b: RemakeRequest): Promise<NewJob> {
    if (!p.video) throw new ApiError('conflict', 'This memorial has no video yet: make it first, then remake one transition.');
    const plan = await this.plan(p);
    if (pairIndex(plan, b.from_asset_id, b.to_asset_id) < 0)
      throw new ApiError('not_found', 'Those two photos are not next to each other in this memorial.', {
        from_asset_id: b.from_asset_id,
        to_asset_id: b.to_asset_id,
      });
    const remake = { from_asset_id: b.from_asset_id, to_asset_id: b.to_asset_id, ...(b.style ? { style: b.style } : {}) };
    return { type: 'pipeline', projectId: p.id, params: { project_id: p.id, remake }, payload: { project_id: p.id, remake } };
  }

  async canvas(p: ProjectView): Promise<NewJob> {
    const photos = await this.repos.assets.photos(p.id);
    if (photos.length === 0) throw new ApiError('validation_failed', 'This memorial has no photos yet.', { field: 'photos' });
    const payload = { project_id: p.id, photos: photos.map(assetRef), resolution: p.resolution, fps: p.fps };
    return { type: 'canvas', projectId: p.id, params: { project_id: p.id }, payload };
  }

  private async plan(p: ProjectView, seconds?: 6 | 10, style?: PipelinePlan['style']): Promise<PipelinePlan> {
    const plan = planFor(p, await this.repos.assets.photos(p.id), await this.repos.assets.music(p.id));
    return { ...plan, seconds: seconds ?? plan.seconds, style: style ?? plan.style };
  }

  async transition(
    p: ProjectView,
    b: { project_id: string; from_asset_id: string; to_asset_id: string; duration_seconds?: 6 | 10; style?: PipelinePlan['style'] },
  ): Promise<NewJob> {
    const plan = await this.plan(p, b.duration_seconds, b.style);
    const from = plan.photos.findIndex((a) => a.asset_id === b.from_asset_id);
    const to = plan.photos.findIndex((a) => a.asset_id === b.to_asset_id);
    if (from < 0) throw new ApiError('validation_failed', 'from_asset_id: not a photo of this memorial', { field: 'from_asset_id' });
    if (to < 0) throw new ApiError('validation_failed', 'to_asset_id: not a photo of this memorial', { field: 'to_asset_id' });
    if (from === to) throw new ApiError('validation_failed', 'to_asset_id: must differ from from_asset_id', { field: 'to_asset_id' });
    const payload = {
      ...transitionPayload(plan, 0),
      from: plan.photos[from]!,
      to: plan.photos[to]!,
      seed: pairSeed(b.from_asset_id, b.to_asset_id),
      captions: clipCaptions(plan, b.from_asset_id, b.to_asset_id, from === 0),
    };
    return { type: 'transition', projectId: p.id, params: b, payload };
  }

  async lastClip(p: ProjectView, b: { project_id: string; asset_id: string; duration_seconds?: 6 | 10 }): Promise<NewJob> {
    const plan = await this.plan(p, b.duration_seconds);
    const asset = plan.photos.find((a) => a.asset_id === b.asset_id);
    if (!asset) throw new ApiError('validation_failed', 'asset_id: not a photo of this memorial', { field: 'asset_id' });
    return { type: 'last_clip', projectId: p.id, params: b, payload: { ...lastClipPayload(plan), asset, caption: lastCaption(plan, asset.asset_id) } };
  }

  /** Render from the latest good clips: for each pair in today's order, the newest succeeded transition. */
  async render(p: ProjectView): Promise<NewJob> {
    const plan = await this.plan(p);
    if (plan.photos.length < 2) throw new ApiError('validation_failed', 'A memorial video needs at least 2 photos.', { field: 'photos' });
    const { jobs } = this.repos;
    const clips: string[] = [];
    for (let i = 0; i < plan.photos.length - 1; i++) {
      const a = plan.photos[i]!.asset_id;
      const b = plan.photos[i + 1]!.asset_id;
      const found = await jobs.latestTransition(p.id, a, b, plan, transitionPayload(plan, i).captions);
      if (!found)
        throw new ApiError(
          'validation_failed',
          `The transition from photo ${i + 1} to photo ${i + 2} has not been made for the current order and settings. Run the memorial, or make that transition first.`,
          {
            field: 'transitions',
            from_asset_id: a,
            to_asset_id: b,
          },
        );
      clips.push(JOB_RESULTS.transition.parse(found.result).clip_key);
    }
    const last = await jobs.latestLastClip(p.id, plan.photos.at(-1)!.asset_id, plan, lastClipPayload(plan).caption);
    if (!last)
      throw new ApiError('validation_failed', 'The closing scene for the last photo has not been made yet. Run the memorial first.', { field: 'last_clip' });
    clips.push(JOB_RESULTS.last_clip.parse(last.result).clip_key);
    return { type: 'render', projectId: p.id, params: { project_id: p.id }, payload: renderPayload(plan, clips) };
  }
}
