/**
 * The `generative` provider: one attempt = both canvases uploaded to the model server (ComfyUI), the
 * first/last-frame workflow queued with this attempt's seed, its clip downloaded, then the quality
 * gate (retime, encode, check). Retries and the classic fallback are the orchestrator's business
 * (make-clip.ts); this file makes one attempt and says why it failed.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { ComfyClient } from './comfy-client.js';
import { gateGeneratedClip } from './gate.js';
import type { GenerativeConfig } from './generative-config.js';
import { GenerativeFailure } from './generative-errors.js';
import type { GenerateRequest, TransitionProvider } from './provider.js';
import { fillWorkflow, generationSize, loadWorkflowTemplate, type Workflow } from './workflow.js';

/** A counting semaphore whose waiters give up when their signal fires. */
export class Semaphore {
  private free: number;
  private readonly waiters: Array<() => void> = [];
  constructor(size: number) {
    this.free = size;
  }
  async acquire(signal: AbortSignal): Promise<() => void> {
    signal.throwIfAborted();
    if (this.free > 0) {
      this.free--;
      return this.releaser();
    }
    await new Promise<void>((resolve, reject) => {
      const grant = () => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = () => {
        const i = this.waiters.indexOf(grant);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(signal.reason);
      };
      this.waiters.push(grant);
      signal.addEventListener('abort', onAbort, { once: true });
    });
    return this.releaser();
  }
  private releaser(): () => void {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const next = this.waiters.shift();
      if (next) next();
      else this.free++;
    };
  }
}

export class GenerativeProvider implements TransitionProvider {
  readonly name = 'generative' as const;
  readonly client: ComfyClient;
  private readonly slots: Semaphore;
  private template: Promise<Workflow> | null = null;
  private health: { ok: boolean; at: number; why: string } | null = null;

  constructor(
    readonly cfg: GenerativeConfig & { url: string },
    client?: ComfyClient,
  ) {
    this.client = client ?? new ComfyClient(cfg.url, { requestTimeoutMs: cfg.requestTimeoutMs, pollMs: cfg.pollMs });
    this.slots = new Semaphore(cfg.concurrency);
  }

  /**
   * Is the model server up? A quick GET /system_stats, its answer reused for MT_COMFYUI_HEALTH_TTL_MS
   * so a project of 100 transitions asks once, not 100 times.
   */
  async healthy(signal: AbortSignal): Promise<{ ok: boolean; why: string }> {
    const now = Date.now();
    if (this.health && now - this.health.at < this.cfg.healthTtlMs) return this.health;
    let ok = false;
    let why = '';
    try {
      await this.client.systemStats(AbortSignal.any([signal, AbortSignal.timeout(Math.min(2_000, this.cfg.requestTimeoutMs))]));
      ok = true;
    } catch (e) {
      if (signal.aborted) throw signal.reason;
      why = (e as Error).message;
    }
    this.health = { ok, at: Date.now(), why };
    return this.health;
  }

  /** Forget the cached health (after an attempt found the server gone). */
  markUnhealthy(why: string): void {
    this.health = { ok: false, at: Date.now(), why };
  }

  private workflowTemplate(): Promise<Workflow> {
    this.template ??= loadWorkflowTemplate(this.cfg.workflowPath).catch((e: unknown) => {
      this.template = null; // a fixed file is picked up on the next attempt
      throw new GenerativeFailure('workflow_invalid', (e as Error).message, false, { cause: e });
    });
    return this.template;
  }

  /** One attempt, ending in a normalised, checked clip at `req.output`. */
  async generate(req: GenerateRequest): Promise<{ detail: string }> {
    const { cfg } = this;
    const template = await this.workflowTemplate();
    const gen = generationSize(req.size, cfg.maxWidth);
    const release = await this.slots.acquire(req.signal);
    let raw: string;
    try {
      const id = randomUUID().slice(0, 8);
      const [a, b] = [await this.client.upload(req.from, `mt-${id}-a.png`, req.signal), await this.client.upload(req.to, `mt-${id}-b.png`, req.signal)];
      const workflow = fillWorkflow(template, {
        image_a: a,
        image_b: b,
        width: gen.width,
        height: gen.height,
        length: cfg.modelFrames,
        fps: cfg.modelFps,
        seed: req.seed,
        seconds: req.seconds,
        prefix: `mt-${id}`,
      });
      const result = await this.client.run({
        workflow,
        outputFile: path.join(path.dirname(req.output), `generated-${id}.mp4`),
        signal: req.signal,
        timeoutMs: cfg.timeoutMs,
        onProgress: (f) => req.onProgress(f),
        log: req.log,
      });
      raw = result.file;
      req.log?.info({ prompt_id: result.promptId, seed: req.seed, size: `${gen.width}x${gen.height}` }, 'model clip downloaded');
    } finally {
      release();
    }
    await req.onPhase?.('validate');
    const report = await gateGeneratedClip({
      raw,
      output: req.output,
      expect: { width: gen.width, height: gen.height, frames: cfg.modelFrames, fps: cfg.modelFps },
      target: { ...req.size, fps: req.fps, frames: Math.round(req.seconds * req.fps) },
      first: req.from,
      last: req.to,
      minSsim: cfg.minSsim,
      interpolate: cfg.interpolate,
      signal: req.signal,
      onProgress: req.onProgress,
    });
    return { detail: `generative (seed ${req.seed}, first/last SSIM ${report.firstSsim.toFixed(2)}/${report.lastSsim.toFixed(2)})` };
  }
}
