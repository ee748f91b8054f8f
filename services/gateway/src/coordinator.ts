import { createHash } from 'node:crypto';
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import {
  ClipResult,
  CanvasResult,
  RESOLUTION_SIZE,
  RenderResult,
  type AssetRef,
  type CommandPayloads,
  type JobError,
  type JobType,
} from '@mt/contracts';
import { DEFERRED, JobFailure, publishCancel, publishEvent, type Bus, type JobHandler, type Logger } from '@mt/platform';
import type { JobRecord, JobStore } from './jobs.js';
import type { Outbox } from './outbox.js';
import type { Applied } from './projector.js';
import type { AssetRecord, ProjectRecord, ProjectStore } from './projects.js';

/** What a pipeline will make, fixed when it starts so later edits to the project cannot change it. */
export interface PipelinePlan {
  project_id: string;
  photos: AssetRef[];
  music: AssetRef | null;
  resolution: '720p' | '1080p';
  fps: 24 | 25 | 30;
  seconds: 6 | 10;
  style: 'auto' | 'generative' | 'classic';
  epilogue: { name: string | null; born: string | null; died: string | null; title: string | null } | null;
}

export const assetRef = (a: AssetRecord): AssetRef => ({ asset_id: a.id, key: a.object_key, content_type: a.content_type });

/** Same pair of photos, same transition: the seed comes from the pair, so re-runs look the same. */
export const pairSeed = (a: string, b: string) => createHash('sha256').update(`${a}>${b}`).digest().readUInt32BE(0);

export function planFor(p: ProjectRecord, photos: AssetRecord[], music: AssetRecord | null): PipelinePlan {
  return {
    project_id: p.id,
    photos: photos.map(assetRef),
    music: music ? assetRef(music) : null,
    resolution: p.resolution,
    fps: p.fps,
    seconds: p.transition_seconds,
    style: p.transition_style,
    epilogue: p.subject_name || p.born || p.died ? { name: p.subject_name, born: p.born, died: p.died, title: p.title } : null,
  };
}

export const transitionPayload = (plan: PipelinePlan, i: number): CommandPayloads['transition'] => ({
  project_id: plan.project_id,
  from: plan.photos[i]!,
  to: plan.photos[i + 1]!,
  seconds: plan.seconds,
  style: plan.style,
  seed: pairSeed(plan.photos[i]!.asset_id, plan.photos[i + 1]!.asset_id),
  resolution: plan.resolution,
  fps: plan.fps,
});

export const lastClipPayload = (plan: PipelinePlan): CommandPayloads['last_clip'] => ({
  project_id: plan.project_id,
  asset: plan.photos.at(-1)!,
  seconds: plan.seconds,
  style: plan.style,
  epilogue: plan.epilogue,
  resolution: plan.resolution,
  fps: plan.fps,
});

export const renderPayload = (plan: PipelinePlan, clips: string[]): CommandPayloads['render'] => ({
  project_id: plan.project_id,
  clips,
  music: plan.music,
  expected_frames: plan.photos.length * plan.seconds * plan.fps,
  resolution: plan.resolution,
  fps: plan.fps,
});

const STEP_LABEL = (key: string) =>
  key === 'canvas' ? 'Preparing the photos' : key === 'last_clip' ? 'The closing scene' : key === 'render' ? 'Putting the video together' : `Transition ${Number(key.split(':')[1]) + 1}`;

/**
 * The pipeline coordinator: canvas → every transition and the last clip (independent, so they run
 * side by side on as many replicas as there are) → render. It advances when a child's final event
 * has been projected, and again on a timer, deciding only from the rows: running it twice is harmless.
 */
export class Coordinator {
  private lastProgressAt = new Map<string, number>();

  constructor(
    private readonly orm: MikroORM,
    private readonly jobs: JobStore,
    private readonly projects: ProjectStore,
    private readonly bus: Bus,
    private readonly outbox: Outbox,
    private readonly log: Logger,
  ) {}

  /** `pipeline_prepare`: fix the plan, start the canvas step. The pipeline then lives on events. */
  readonly prepare: JobHandler<'pipeline'> = async (ctx) => {
    await ctx.stage('pipeline_prepare', 0, 'Checking the photos');
    const pid = ctx.cmd.payload.project_id;
    const project = await this.projects.find(pid);
    if (!project) throw new JobFailure('input_missing', 'This memorial no longer exists.');
    const photos = await this.projects.photos(pid);
    if (photos.length < 2) throw new JobFailure('invalid_input', 'A memorial video needs at least 2 photos.');
    const plan = planFor(project, photos, await this.projects.music(pid));
    await this.orm.em.fork().execute(
      `update jobs set params = params || ?::jsonb where id = ? and (params->'plan') is null`,
      [JSON.stringify({ plan }), ctx.cmd.job_id],
    );
    await this.advance(ctx.cmd.job_id);
    return DEFERRED;
  };

  /** Projector hook: children move their pipeline. */
  readonly onApplied = async ({ job, event, finished }: Applied): Promise<void> => {
    if (!job.parent_job_id) return;
    if (finished) await this.advance(job.parent_job_id);
    else if (event.kind === 'progress') await this.reportProgress(job.parent_job_id, job.r_stage);
  };

  /** Runs every unfinished pipeline once more (after a restart or a lost event). */
  async reconcile(): Promise<void> {
    const rows = await this.orm.em
      .fork()
      .execute<{ id: string }[]>(`select id from jobs where type = 'pipeline' and status = 'running' and (params->'plan') is not null`);
    for (const r of rows) await this.advance(r.id).catch((e: unknown) => this.log.warn({ err: e, job_id: r.id }, 'reconcile failed'));
  }

  async advance(pipelineId: string): Promise<void> {
    const created = await this.orm.em.fork().transactional(async (em) => {
      const locked = await em.execute<{ status: string }[]>(`select status from jobs where id = ? for update`, [pipelineId]);
      if (!locked[0] || !['queued', 'running'].includes(locked[0].status)) return 0;
      const pipeline = (await this.jobs.find(pipelineId, em))!;
      const plan = (pipeline.params as { plan?: PipelinePlan }).plan;
      if (!plan) return 0;
      const children = await this.jobs.children(pipelineId, em);
      const byKey = new Map(children.map((c) => [c.step_key!, c]));

      const broken = children.find((c) => c.status === 'failed' || c.status === 'canceled');
      if (broken) {
        await this.finishBroken(pipeline, broken, children);
        return 0;
      }
      let made = 0;
      const ensure = async (key: string, type: JobType, payload: Record<string, unknown>) => {
        if (byKey.has(key)) return;
        await this.jobs.insert(em, { type, projectId: plan.project_id, parentJobId: pipelineId, stepKey: key, traceId: pipeline.trace_id, params: payload, payload });
        made++;
      };
      await ensure('canvas', 'canvas', { project_id: plan.project_id, photos: plan.photos, resolution: plan.resolution, fps: plan.fps });
      if (byKey.get('canvas')?.status !== 'succeeded') return made;
      CanvasResult.parse(byKey.get('canvas')!.result);

      const clipKeys = [...plan.photos.keys()].slice(0, -1).map((i) => `transition:${i}`).concat('last_clip');
      for (const [i] of plan.photos.slice(0, -1).entries()) await ensure(`transition:${i}`, 'transition', transitionPayload(plan, i));
      await ensure('last_clip', 'last_clip', lastClipPayload(plan));
      if (!clipKeys.every((k) => byKey.get(k)?.status === 'succeeded')) return made;

      const clips = clipKeys.map((k) => ClipResult.parse(byKey.get(k)!.result).clip_key);
      await ensure('render', 'render', renderPayload(plan, clips));
      const render = byKey.get('render');
      if (render?.status !== 'succeeded') return made;

      const r = RenderResult.parse(render.result);
      const result = {
        video_url: `/api/v1/projects/${plan.project_id}/video`,
        render_job_id: render.id,
        duration_seconds: r.duration_seconds,
        size_bytes: r.size_bytes,
        frames: r.frames,
        transitions: clipKeys.map((k) => {
          const c = ClipResult.parse(byKey.get(k)!.result);
          return { step: k, job_id: byKey.get(k)!.id, provider: c.provider, attempts: c.attempts, fallback_reason: c.fallback_reason };
        }),
      };
      await this.emit(pipeline, 'progress', { stage: 'pipeline_done', progress_percent: 100, detail_message: 'Your memorial video is ready' });
      await this.emit(pipeline, 'succeeded', { stage: 'pipeline_done', progress_percent: 100, result });
      return made;
    });
    if (created) this.outbox.kick();
  }

  private async finishBroken(pipeline: JobRecord, broken: JobRecord, children: JobRecord[]): Promise<void> {
    const others = children.filter((c) => c.status === 'queued' || c.status === 'running');
    for (const c of others) await publishCancel(this.bus, c.id, c.trace_id);
    for (const c of others.filter((o) => o.status === 'queued')) await this.emit(c, 'canceled', { stage: 'canceled', detail_message: 'Canceled: another step failed' }, 'coordinator');
    if (broken.status === 'canceled') {
      await this.emit(pipeline, 'canceled', { stage: 'canceled', detail_message: `${STEP_LABEL(broken.step_key!)} was canceled` });
      return;
    }
    const err = broken.error;
    const error: JobError = {
      code: 'child_failed',
      message: `${STEP_LABEL(broken.step_key!)} failed: ${err?.message ?? 'unknown reason'}`,
      stage: err?.stage ?? broken.r_stage,
    };
    await this.emit(pipeline, 'failed', { stage: 'failed', error });
  }

  /** Overall progress, weighted by the work each step is expected to take. */
  private async reportProgress(pipelineId: string, stage: string): Promise<void> {
    const now = Date.now();
    if (now - (this.lastProgressAt.get(pipelineId) ?? 0) < 400) return;
    this.lastProgressAt.set(pipelineId, now);
    const em = this.orm.em.fork();
    const pipeline = await this.jobs.find(pipelineId, em);
    const plan = (pipeline?.params as { plan?: PipelinePlan } | undefined)?.plan;
    if (!pipeline || !plan || pipeline.status !== 'running') return;
    const children = await this.jobs.children(pipelineId, em);
    const percent = pipelineProgress(plan, children);
    const done = children.filter((c) => c.status === 'succeeded').length;
    const total = plan.photos.length + 2;
    await this.emit(pipeline, 'progress', { stage, progress_percent: percent, detail_message: `${done} of ${total} steps done` });
  }

  private async emit(
    job: JobRecord,
    kind: 'progress' | 'succeeded' | 'failed' | 'canceled',
    e: { stage?: string; progress_percent?: number; detail_message?: string; result?: Record<string, unknown>; error?: JobError },
    service = 'coordinator',
  ): Promise<void> {
    await publishEvent(this.bus, { job_id: job.id, trace_id: job.trace_id, kind, attempt: 1, service, ...e });
  }
}

/** Weights: a canvas is light, a transition or the last clip is seconds of encoding, render is a copy. */
export function pipelineProgress(plan: PipelinePlan, children: JobRecord[]): number {
  const n = plan.photos.length;
  const { width } = RESOLUTION_SIZE[plan.resolution];
  const enc = plan.seconds * (width / 1280);
  const weights: Record<string, number> = { canvas: 0.4 * n, last_clip: enc, render: 0.15 * n * plan.seconds };
  for (let i = 0; i < n - 1; i++) weights[`transition:${i}`] = enc;
  let sum = 0;
  let got = 0;
  for (const [k, w] of Object.entries(weights)) {
    sum += w;
    const c = children.find((x) => x.step_key === k);
    if (c) got += (w * (c.status === 'succeeded' ? 100 : Number(c.r_progress))) / 100;
  }
  return Math.min(99, Math.round((got / sum) * 1000) / 10);
}
