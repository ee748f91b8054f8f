import type { EntityManager } from '@mikro-orm/postgresql';
import { JOB_RESULTS, type JobError, type JobResults, type JobType, type Stage } from '@mt/contracts';
import { DEFERRED, type JobContext, JobFailure, type JobHandler, type Logger, makeEvent } from '@mt/platform';
import { enqueueJob, type JobView, type Repositories, transaction } from './db/index.js';
import {
  canvasPayload,
  clipKeys,
  clipPhotos,
  draftPlan,
  lastClipPayload,
  type PipelinePlan,
  pairIndex,
  pairSeed,
  pipelineProgress,
  planFor,
  renderPayload,
  stepLabel,
  transitionPayload,
  videoUrl,
} from './pipeline-plan.js';
import type { Applied } from './projector.js';

/** The closing card says the same (a stored payload's epilogue against the plan's; jsonb keeps no key order). */
const sameEpilogue = (stored: unknown, e: PipelinePlan['epilogue']): boolean => {
  const s = stored as PipelinePlan['epilogue'] | undefined;
  if (!s || !e) return !s && !e;
  return (['name', 'born', 'died', 'title'] as const).every((k) => (s[k] ?? null) === (e[k] ?? null));
};

type PipelineEvent = { stage?: Stage; progress_percent?: number; detail_message?: string; result?: JobResults['pipeline']; error?: JobError };

/** The id of a job's final event when the coordinator sends it (see `emit`). */
const finalEventId = (jobId: string) => `${jobId}.final`;

/**
 * The pipeline coordinator: canvas → every transition and the last clip (independent, so they run
 * side by side on as many replicas as there are) → render. It advances when a child's final event is
 * projected (in that event's transaction) and again on a timer, deciding only from the rows: running
 * it twice is harmless. What it starts or says goes through the outbox in the same transaction.
 */
export class Coordinator {
  /** What each pipeline was told, so a burst of child progress becomes one event but no stage is skipped. */
  private lastProgress = new Map<string, { at: number; stages: Set<Stage> }>();

  constructor(
    private readonly repos: Repositories,
    private readonly log: Logger,
    /** Called after a transaction of the coordinator's own has committed (the relay publishes). */
    private readonly committed: () => void = () => {},
  ) {}

  /** `pipeline_prepare`: fix the plan, start the canvas step. The pipeline then lives on events. */
  readonly prepare: JobHandler<'pipeline'> = async (ctx) => {
    await ctx.stage('pipeline_prepare', 0, 'Checking the photos');
    await this.repos.jobs.addParamOnce(ctx.cmd.job_id, 'plan', await this.makePlan(ctx));
    await this.advance(ctx.cmd.job_id);
    return DEFERRED;
  };

  private async makePlan(ctx: JobContext<'pipeline'>): Promise<PipelinePlan> {
    const { project_id: pid, remake, draft } = ctx.cmd.payload;
    const { projects, assets } = this.repos;
    const project = await projects.find(pid);
    if (!project) throw new JobFailure('input_missing', 'This memorial no longer exists.');
    const photos = await assets.photos(pid);
    if (photos.length < 2) throw new JobFailure('invalid_input', 'A memorial video needs at least 2 photos.');
    const plan = planFor(project, photos, await assets.music(pid));
    if (draft) {
      // A preview after moving one photo makes only the new pairs: earlier draft clips of the same take
      // (same seed, same closing card) are kept. Only 480p clips match a draft's plan, so no full-render
      // clip is ever taken, nor the other way round.
      const d = draftPlan(plan);
      const reuse = await this.reusableClips(d, { sameTake: true });
      return Object.keys(reuse).length ? { ...d, reuse } : d;
    }
    if (!remake) return plan;
    const at = pairIndex(plan, remake.from_asset_id, remake.to_asset_id);
    if (at < 0) throw new JobFailure('invalid_input', 'Those two photos are no longer next to each other. Look at the order and try again.');
    // A fresh take of that one transition; every other clip is the newest good one for these settings.
    const reuse = await this.reusableClips(plan, { except: at });
    return { ...plan, remake: { ...remake, seed: pairSeed(remake.from_asset_id, remake.to_asset_id, `:${ctx.cmd.job_id}`) }, reuse };
  }

  /**
   * The newest good clip of each step of `plan` for its settings and captions (the repositories match
   * resolution, length, fps and method version), but step `except`; with `sameTake`, only a clip made
   * from the same seed (a transition) or with the same closing card (the last clip).
   */
  private async reusableClips(plan: PipelinePlan, o: { except?: number; sameTake?: boolean }): Promise<NonNullable<PipelinePlan['reuse']>> {
    const { jobs } = this.repos;
    const reuse: NonNullable<PipelinePlan['reuse']> = {};
    for (const [i, key] of clipKeys(plan).entries()) {
      if (i === o.except) continue;
      const last = key === 'last_clip';
      const found = last
        ? await jobs.latestLastClip(plan.project_id, plan.photos.at(-1)!.asset_id, plan, lastClipPayload(plan).caption)
        : await jobs.latestTransition(plan.project_id, plan.photos[i]!.asset_id, plan.photos[i + 1]!.asset_id, plan, transitionPayload(plan, i).captions);
      if (!found) continue;
      if (o.sameTake && !(last ? sameEpilogue(found.payload.epilogue, plan.epilogue) : found.payload.seed === transitionPayload(plan, i).seed)) continue;
      reuse[key] = { job_id: found.id, clip: JOB_RESULTS.transition.parse(found.result) };
    }
    return reuse;
  }

  /**
   * Projector hook, in the child event's transaction: children move their pipeline. A canvas job's
   * progress names the photos whose canvases are stored: the clips between them start then, not after
   * the last photo.
   */
  readonly onApplied = async ({ job, event, finished }: Applied, em: EntityManager): Promise<void> => {
    if (!job.parent_job_id) return;
    if (finished) await this.advanceIn(em, job.parent_job_id);
    else if (event.kind === 'progress') {
      if (job.step_key === 'canvas' && event.canvases_ready?.length) await this.advanceIn(em, job.parent_job_id, new Set(event.canvases_ready));
      await this.reportProgress(em, job.parent_job_id, job.r_stage as Stage);
    }
  };

  /** Runs every unfinished pipeline once more (after a restart or a lost event). */
  async reconcile(): Promise<void> {
    for (const id of await this.repos.jobs.runningPipelineIds())
      await this.advance(id).catch((e: unknown) => this.log.warn({ err: e, job_id: id }, 'reconcile failed'));
  }

  async advance(pipelineId: string): Promise<void> {
    await transaction(this.repos, (em) => this.advanceIn(em, pipelineId));
    this.committed();
  }

  /** `canvasesReady`: photos whose canvases are stored while the canvas step still runs. */
  private async advanceIn(em: EntityManager, pipelineId: string, canvasesReady?: ReadonlySet<string>): Promise<void> {
    const { jobs } = this.repos;
    const status = await jobs.lockStatus(em, pipelineId);
    if (status !== 'queued' && status !== 'running') return;
    if (await this.finishing(em, pipelineId)) return;
    const pipeline = (await jobs.find(pipelineId, em))!;
    const plan = (pipeline.params as { plan?: PipelinePlan }).plan;
    if (!plan) return;
    const children = await jobs.children(pipelineId, em);
    const byKey = new Map(children.map((c) => [c.step_key!, c]));

    const broken = children.find((c) => c.status === 'failed' || c.status === 'canceled');
    if (broken) return this.finishBroken(em, pipeline, broken, children);

    const ensure = async (key: string, type: JobType, payload: Record<string, unknown>) => {
      if (byKey.has(key)) return;
      await enqueueJob(this.repos, em, {
        type,
        projectId: plan.project_id,
        parentJobId: pipelineId,
        stepKey: key,
        traceId: pipeline.trace_id,
        accountId: pipeline.account_id,
        params: payload,
        payload,
      });
    };
    await ensure('canvas', 'canvas', canvasPayload(plan));
    const canvasesDone = byKey.get('canvas')?.status === 'succeeded';
    if (!canvasesDone && !canvasesReady) return;

    const keys = clipKeys(plan);
    for (const [i, key] of keys.entries()) {
      if (plan.reuse?.[key]) continue;
      if (!canvasesDone && !clipPhotos(plan, i).every((id) => canvasesReady?.has(id))) continue;
      if (key === 'last_clip') await ensure(key, 'last_clip', lastClipPayload(plan));
      else await ensure(key, 'transition', transitionPayload(plan, i));
    }
    if (!canvasesDone) return;
    const steps = keys.map((key) => {
      const kept = plan.reuse?.[key];
      if (kept) return { key, job_id: kept.job_id, clip: kept.clip, reused: true };
      const c = byKey.get(key);
      return c?.status === 'succeeded' ? { key, job_id: c.id, clip: JOB_RESULTS.transition.parse(c.result), reused: false } : null;
    });
    if (steps.some((s) => s === null)) return;
    const made = steps as NonNullable<(typeof steps)[number]>[];

    await ensure(
      'render',
      'render',
      renderPayload(
        plan,
        made.map((s) => s.clip.clip_key),
      ),
    );
    const render = byKey.get('render');
    if (render?.status !== 'succeeded') return;

    const r = JOB_RESULTS.render.parse(render.result);
    const result: JobResults['pipeline'] = {
      video_url: videoUrl(plan),
      render_job_id: render.id,
      duration_seconds: r.duration_seconds,
      size_bytes: r.size_bytes,
      frames: r.frames,
      transitions: made.map((s) => ({
        step: s.key,
        job_id: s.job_id,
        provider: s.clip.provider,
        attempts: s.clip.attempts,
        fallback_reason: s.clip.fallback_reason,
        reused: s.reused,
      })),
    };
    await this.emit(em, pipeline, 'progress', { stage: 'pipeline_done', progress_percent: 100, detail_message: 'Your memorial video is ready' });
    await this.emit(em, pipeline, 'succeeded', { stage: 'pipeline_done', progress_percent: 100, result });
  }

  private async finishBroken(em: EntityManager, pipeline: JobView, broken: JobView, children: JobView[]): Promise<void> {
    const others = children.filter((c) => c.status === 'queued' || c.status === 'running');
    for (const c of others) await this.repos.outbox.add(em, { kind: 'cancel', body: { job_id: c.id, trace_id: c.trace_id } });
    for (const c of others.filter((o) => o.status === 'queued'))
      await this.emit(em, c, 'canceled', { stage: 'canceled', detail_message: 'Canceled: another step failed' });
    if (broken.status === 'canceled')
      return this.emit(em, pipeline, 'canceled', { stage: 'canceled', detail_message: `${stepLabel(broken.step_key!)} was canceled` });
    const err = broken.error;
    const error: JobError = {
      code: 'child_failed',
      message: `${stepLabel(broken.step_key!)} failed: ${err?.message ?? 'unknown reason'}`,
      stage: err?.stage ?? broken.r_stage,
    };
    await this.emit(em, pipeline, 'failed', { stage: 'failed', error });
  }

  /**
   * Overall progress, weighted by the work each step is expected to take: a stage the pipeline has not
   * shown yet at once (a fast render's stages come milliseconds apart), anything else at most every
   * 400 ms a pipeline (parallel clips in different stages would otherwise flip it on every frame batch).
   */
  private async reportProgress(em: EntityManager, pipelineId: string, stage: Stage): Promise<void> {
    const now = Date.now();
    const last = this.lastProgress.get(pipelineId) ?? { at: 0, stages: new Set<Stage>() };
    if (last.stages.has(stage) && now - last.at < 400) return;
    last.stages.add(stage);
    this.lastProgress.set(pipelineId, { at: now, stages: last.stages });
    const pipeline = await this.repos.jobs.find(pipelineId, em);
    const plan = (pipeline?.params as { plan?: PipelinePlan } | undefined)?.plan;
    if (!pipeline || !plan || pipeline.status !== 'running' || (await this.finishing(em, pipelineId))) {
      this.lastProgress.delete(pipelineId);
      return;
    }
    const children = await this.repos.jobs.children(pipelineId, em);
    const done = children.filter((c) => c.status === 'succeeded').length + Object.keys(plan.reuse ?? {}).length;
    const total = plan.photos.length + 2;
    await this.emit(em, pipeline, 'progress', { stage, progress_percent: pipelineProgress(plan, children), detail_message: `${done} of ${total} steps done` });
  }

  /**
   * The pipeline's final event is written, not yet applied: it still reads as running, but nothing more
   * is said or started for it (another child event or the reconciler would finish it again, or report
   * progress after its end).
   */
  private finishing(em: EntityManager, pipelineId: string): Promise<boolean> {
    return this.repos.outbox.holdsEvent(em, pipelineId, finalEventId(pipelineId));
  }

  /**
   * A job's final event has an id of its own making, `<job>.final`: `finishing` finds it by that id,
   * and were it ever written twice, JetStream would drop the repeat by message id and the projector by
   * event id.
   */
  private async emit(em: EntityManager, job: JobView, kind: 'progress' | 'succeeded' | 'failed' | 'canceled', e: PipelineEvent): Promise<void> {
    if (kind !== 'progress') this.lastProgress.delete(job.id);
    const event = makeEvent({
      ...(kind !== 'progress' ? { event_id: finalEventId(job.id) } : {}),
      job_id: job.id,
      trace_id: job.trace_id,
      account_id: job.account_id,
      project_id: job.project_id,
      job_type: job.type,
      kind,
      attempt: 1,
      service: 'coordinator',
      ...e,
    });
    await this.repos.outbox.add(em, { kind: 'event', body: event });
  }
}
