import { setTimeout as sleep } from 'node:timers/promises';
import { type Command, JOB_RESULTS, type JobError, type JobResults, type JobType, parseCommand, type STAGES, type Stage } from '@mt/contracts';
import type { JsMsg } from '@nats-io/jetstream';
import { context, SpanStatusCode, trace } from '@opentelemetry/api';
import { asJobFailure } from './artifacts.js';
import { type Bus, type EventInput, headersToRecord, isCancelRequested, isJobFinished, publishEvent, WORKER_ID } from './bus.js';
import { config } from './config.js';
import { JobCanceled, JobFailure } from './errors.js';
import { jobLogger, type Logger } from './logger.js';
import { Storage } from './storage.js';
import { contextFromHeaders, tracer } from './telemetry.js';
import { makeJobDir, removeDir, sweepStaleJobDirs } from './tempdir.js';

export interface JobContext<K extends JobType> {
  cmd: Command<K>;
  /** Aborted when the job is cancelled or the process shuts down: pass it to every media call. */
  signal: AbortSignal;
  log: Logger;
  /** This job's own temp folder, removed when the handler returns or throws. */
  dir: string;
  storage: Storage;
  /** Enters one of this job type's stages (emits a progress event at once). */
  stage(stage: JobStage<K>, percent: number, detail?: string): Promise<void>;
  /** Reports progress within the current stage (throttled). */
  progress(percent: number, detail?: string): void;
  /**
   * Reports the photos whose canvases are stored so far (a canvas job), at once and never dropped by
   * the throttle: the pipeline starts each transition on it.
   */
  canvasesReady(assetIds: readonly string[]): Promise<void>;
}
/** The least time between two progress events of a job (stage changes go at once). */
const PROGRESS_INTERVAL_MS = 500;

/** Returned by a handler whose job goes on elsewhere (a pipeline advances on its children's events). */
export const DEFERRED = Symbol('deferred');
export type JobStage<K extends JobType> = (typeof STAGES)[K][number];
export type JobHandler<K extends JobType> = (ctx: JobContext<K>) => Promise<JobResults[K] | typeof DEFERRED>;
export type Handlers = { [K in JobType]?: JobHandler<K> };

export interface Worker {
  stop(graceMs?: number): Promise<void>;
  /** Jobs this process is working on now, by id. */
  readonly active: Map<string, AbortController>;
}

class ShutdownAbort extends Error {
  constructor() {
    super('service shutting down');
    this.name = 'ShutdownAbort';
  }
}

/** Exponential backoff with full jitter. */
export function backoffMs(attempt: number, base = config.retryBaseMs, cap = 60_000): number {
  return Math.round(Math.random() * Math.min(cap, base * 2 ** Math.max(0, attempt - 1)));
}

/**
 * The worker loop shared by every service: pull a command from the type's durable consumer, check
 * cancel, run the handler with a job folder and an AbortSignal, emit events, ack only when the
 * artifact is stored. Cancel requests reach the running handler at once through a subscription.
 */
export async function startWorker(opts: {
  service: string;
  bus: Bus;
  log: Logger;
  handlers: Handlers;
  storage?: Storage;
  /** Jobs of a type this process works on at once (default 1). */
  concurrency?: Partial<Record<JobType, number>>;
}): Promise<Worker> {
  const { service, bus, log, handlers } = opts;
  const storage = opts.storage ?? new Storage();
  const active = new Map<string, AbortController>();
  const inflight = new Set<Promise<void>>();
  let stopping = false;

  const sweep = async () => {
    const swept = await sweepStaleJobDirs().catch(() => 0);
    if (swept) log.info({ swept }, 'removed temp folders (and orphaned ffmpeg) left by dead processes');
  };
  await sweep();
  const sweeper = setInterval(() => void sweep(), 60_000);

  const cancelSub = bus.nc.subscribe(bus.names.cancelWildcard, {
    callback: (_err, m) => {
      const jobId = m.subject.split('.').pop()!;
      const ac = active.get(jobId);
      if (ac && !ac.signal.aborted) {
        log.info({ job_id: jobId }, 'cancel received: aborting running work');
        ac.abort(new JobCanceled());
      }
    },
  });

  const emit = async (e: EventInput) => {
    // The event must get out even across a NATS reconnect: retry for a while before giving up.
    for (let i = 1; ; i++) {
      try {
        return await publishEvent(bus, e);
      } catch (err) {
        if (i >= 30) throw err;
        await sleep(Math.min(2_000, 100 * i));
      }
    }
  };

  async function handle(msg: JsMsg, type: JobType): Promise<void> {
    let cmd: Command;
    try {
      cmd = parseCommand(msg.json());
    } catch (e) {
      log.error({ err: e, subject: msg.subject }, 'invalid command: terminated');
      msg.term('invalid command');
      return;
    }
    // A command the reaper published again carries a higher attempt; redeliveries add to it.
    const attempt = cmd.attempt + msg.info.deliveryCount - 1;
    // Events carry the job's account from its command, so whoever reads them never looks it up.
    const projectId = (cmd.payload as { project_id?: unknown }).project_id;
    const base = {
      job_id: cmd.job_id,
      trace_id: cmd.trace_id,
      account_id: cmd.account_id,
      project_id: typeof projectId === 'string' ? projectId : null,
      job_type: type,
      attempt,
      service,
    };
    const logAt = (stage: string | null) => jobLogger(log, cmd, stage).child({ attempt, worker: WORKER_ID });
    const jlog = logAt(null);

    if (active.has(cmd.job_id)) {
      // A redelivery of a job this process is still working on (its in-progress acks were lost, e.g.
      // across a NATS restart): leave it to come back once the running attempt has ended.
      jlog.info('job already running here: command returned for later');
      msg.nak(config.ackWaitMs);
      return;
    }
    if (await isJobFinished(bus, cmd.job_id)) {
      jlog.info('job already finished: command acknowledged without redoing it');
      msg.ack();
      return;
    }
    if (attempt > config.maxDeliver) {
      await emit({
        ...base,
        kind: 'failed',
        error: {
          code: 'attempts_exhausted',
          message: `The ${type} step was tried ${attempt - 1} times and its worker stopped each time. Please run it again.`,
          stage: null,
        },
      });
      msg.term('attempts exhausted');
      return;
    }
    if (await isCancelRequested(bus, cmd.job_id)) {
      await emit({ ...base, kind: 'canceled', stage: 'canceled', detail_message: 'Canceled before it started' });
      msg.ack();
      return;
    }

    const ac = new AbortController();
    active.set(cmd.job_id, ac);
    // A cancel that arrived between the check above and registering is not missed.
    if (await isCancelRequested(bus, cmd.job_id)) ac.abort(new JobCanceled());
    const keepAlive = setInterval(() => msg.working(), Math.max(1_000, config.ackWaitMs / 3));
    const parent = contextFromHeaders(headersToRecord(msg.headers));
    const span = tracer().startSpan(`${type} ${cmd.job_id}`, { attributes: { 'mt.job_id': cmd.job_id, 'mt.attempt': attempt } }, parent);
    let dir: string | undefined;
    let currentStage: Stage | null = null;
    let lastProgressAt = 0;
    let lastPercent = -1;
    try {
      await emit({ ...base, kind: 'started' });
      dir = await makeJobDir(service, cmd.job_id);
      const ctx: JobContext<JobType> = {
        cmd,
        signal: ac.signal,
        storage,
        dir,
        log: jlog,
        stage: async (stage, percent, detail) => {
          currentStage = stage;
          ctx.log = logAt(stage);
          ctx.log.info({ progress: percent }, detail ?? stage);
          lastPercent = percent;
          lastProgressAt = Date.now();
          await emit({ ...base, kind: 'progress', stage, progress_percent: percent, detail_message: detail ?? null });
        },
        canvasesReady: async (assetIds) => {
          await emit({
            ...base,
            kind: 'progress',
            stage: currentStage,
            progress_percent: lastPercent >= 0 ? lastPercent : null,
            canvases_ready: [...assetIds],
          });
        },
        progress: (percent, detail) => {
          const now = Date.now();
          // Two a second at most: every event is a transaction in the gateway's projector and one more
          // for its pipeline, and a clip's frames move the percentage tens of times a second.
          if (now - lastProgressAt < PROGRESS_INTERVAL_MS || (percent - lastPercent < 1 && now - lastProgressAt < 1_000)) return;
          lastPercent = percent;
          lastProgressAt = now;
          void emit({
            ...base,
            kind: 'progress',
            stage: currentStage,
            progress_percent: Math.min(100, Math.max(0, percent)),
            detail_message: detail ?? null,
          }).catch(() => {});
        },
      };
      const handler = handlers[type] as JobHandler<JobType>;
      const result = await context.with(trace.setSpan(parent, span), () => handler(ctx));
      if (ac.signal.aborted) throw ac.signal.reason;
      if (result === DEFERRED) {
        msg.ack();
        return;
      }
      // A result outside its contract is a bug in the handler: it fails here, not in the coordinator.
      const checked = JOB_RESULTS[type].parse(result) as Record<string, unknown>;
      await emit({ ...base, kind: 'succeeded', stage: currentStage, progress_percent: 100, result: checked });
      msg.ack();
      jlog.info({ stage: currentStage }, 'job succeeded');
    } catch (raw) {
      const err = ac.signal.aborted ? ac.signal.reason : raw;
      if (err instanceof ShutdownAbort) {
        jlog.warn('shutting down: job returned for redelivery');
        msg.nak();
      } else if (err instanceof JobCanceled) {
        jlog.info({ stage: currentStage }, 'job canceled');
        await emit({ ...base, kind: 'canceled', stage: 'canceled', detail_message: 'Canceled' });
        msg.ack();
      } else {
        // What a handler did not classify itself: storage and media errors by their kind, the rest internal (and retried).
        const mapped = asJobFailure(err, `The ${type} step`);
        const failure = mapped instanceof JobFailure ? mapped : new JobFailure('internal_error', (err as Error)?.message ?? String(err), true, { cause: err });
        span.setStatus({ code: SpanStatusCode.ERROR, message: failure.message });
        if (failure.transient && attempt < config.maxDeliver) {
          const delay = backoffMs(attempt);
          jlog.warn({ err: raw, delay_ms: delay }, `transient failure, retrying (${attempt}/${config.maxDeliver})`);
          msg.nak(delay);
        } else {
          const error: JobError = { code: failure.code, message: failure.message, stage: currentStage };
          jlog.error({ err: raw, error }, 'job failed');
          await emit({ ...base, kind: 'failed', stage: 'failed', error });
          msg.term(failure.code);
        }
      }
    } finally {
      clearInterval(keepAlive);
      active.delete(cmd.job_id);
      span.end();
      if (dir) await removeDir(dir);
    }
  }

  const loops: Promise<void>[] = [];
  const stoppers: Array<() => void> = [];
  const pullers = (Object.keys(handlers) as JobType[]).flatMap((type) =>
    Array.from({ length: Math.max(1, Math.floor(opts.concurrency?.[type] ?? 1)) }, () => type),
  );
  for (const type of pullers) {
    loops.push(
      (async () => {
        while (!stopping) {
          try {
            const consumer = await bus.js.consumers.get(bus.names.commandStream, bus.names.consumer(`cmd_${type}`));
            const msgs = await consumer.consume({ max_messages: 1 });
            stoppers.push(() => void msgs.stop());
            for await (const m of msgs) {
              if (stopping) {
                m.nak();
                break;
              }
              const p = handle(m, type).catch((e: unknown) => log.error({ err: e }, 'handler crashed'));
              inflight.add(p);
              await p;
              inflight.delete(p);
            }
          } catch (e) {
            if (stopping) break;
            log.warn({ err: e, type }, 'consumer loop ended: re-establishing');
            await sleep(1_000);
          }
        }
      })(),
    );
  }
  log.info({ types: Object.keys(handlers), concurrency: opts.concurrency ?? {} }, 'worker ready');

  return {
    active,
    async stop(graceMs = Number(process.env.MT_SHUTDOWN_GRACE_MS ?? 5_000)) {
      stopping = true;
      clearInterval(sweeper);
      for (const s of stoppers) s();
      const done = Promise.allSettled([...inflight]);
      const timer = setTimeout(() => {
        for (const ac of active.values()) ac.abort(new ShutdownAbort());
      }, graceMs);
      await done;
      clearTimeout(timer);
      cancelSub.unsubscribe();
      await Promise.race([Promise.allSettled(loops), sleep(1_000)]);
    },
  };
}
