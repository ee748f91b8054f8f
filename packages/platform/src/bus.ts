import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { type BusNames, busNames, type CancelMessage, type CommandEnvelope, HEADER_JOB_ID, HEADER_TRACE_ID, type JobEvent, JobType } from '@mt/contracts';
import {
  AckPolicy,
  DeliverPolicy,
  type JetStreamClient,
  type JetStreamManager,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
} from '@nats-io/jetstream';
import { connect, type MsgHdrs, type NatsConnection, nanos, headers as natsHeaders } from '@nats-io/transport-node';
import { config } from './config.js';
import type { Logger } from './logger.js';
import { traceparentFor } from './telemetry.js';

export interface Bus {
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  names: BusNames;
}

/**
 * Connects to NATS and keeps reconnecting for ever: a NATS restart must never take a service down.
 * Resolves once the first connection is up (it keeps trying until then).
 */
export async function connectBus(name: string, log: Pick<Logger, 'warn'>, url = config.natsUrl, namespace = config.namespace): Promise<Bus> {
  const nc = await connect({
    servers: url.split(','),
    name,
    waitOnFirstConnect: true,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    pingInterval: 5_000,
  });
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect' || s.type === 'reconnect') log.warn({ nats: s.type }, `nats ${s.type}`);
    }
  })();
  const js = jetstream(nc);
  const jsm = await jetstreamManager(nc);
  return { nc, js, jsm, names: busNames(namespace) };
}

/** Creates or updates the streams and durable consumers; safe to call from every service at start. */
export async function ensureTopology(bus: Bus): Promise<void> {
  const { jsm, names } = bus;
  const day = 24 * 3600 * 1e9;
  await upsertStream(jsm, {
    name: names.commandStream,
    num_replicas: config.streamReplicas,
    subjects: [names.commandWildcard],
    retention: RetentionPolicy.Workqueue,
    storage: StorageType.File,
    duplicate_window: nanos(10 * 60_000),
    max_age: 7 * day,
  });
  await upsertStream(jsm, {
    name: names.eventStream,
    num_replicas: config.streamReplicas,
    subjects: [names.eventWildcard],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    duplicate_window: nanos(10 * 60_000),
    max_age: 7 * day,
  });
  await upsertStream(jsm, {
    name: names.cancelStream,
    num_replicas: config.streamReplicas,
    subjects: [names.cancelWildcard],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    max_msgs_per_subject: 1,
    max_age: 7 * day,
  });
  for (const type of JobType.options) {
    await upsertConsumer(jsm, names.commandStream, {
      durable_name: names.consumer(`cmd_${type}`),
      filter_subject: names.command(type),
      ack_policy: AckPolicy.Explicit,
      ack_wait: nanos(config.ackWaitMs),
      // Unlimited here: the worker counts deliveries itself and ends the job `failed` with a reason
      // after MT_MAX_DELIVER, instead of JetStream silently dropping it.
      max_deliver: -1,
      max_ack_pending: 1000,
      deliver_policy: DeliverPolicy.All,
    });
  }
  await upsertConsumer(jsm, names.eventStream, {
    durable_name: names.projectorConsumer,
    filter_subject: names.eventWildcard,
    ack_policy: AckPolicy.Explicit,
    ack_wait: nanos(30_000),
    max_deliver: -1,
    max_ack_pending: 1000,
    deliver_policy: DeliverPolicy.All,
  });
}

async function upsertStream(jsm: JetStreamManager, cfg: Parameters<JetStreamManager['streams']['add']>[0]): Promise<void> {
  try {
    await jsm.streams.add(cfg);
  } catch (e) {
    if (!/already in use/i.test(String((e as Error).message))) throw e;
    const { name, retention: _r, storage: _s, ...rest } = cfg as { name: string; retention?: unknown; storage?: unknown };
    await jsm.streams.update(name, rest);
  }
}

async function upsertConsumer(jsm: JetStreamManager, stream: string, cfg: Parameters<JetStreamManager['consumers']['add']>[1]): Promise<void> {
  try {
    await jsm.consumers.add(stream, cfg);
  } catch (e) {
    if (!/already (exists|in use)|consumer.*exist/i.test(String((e as Error).message))) throw e;
    await jsm.consumers.update(stream, cfg.durable_name!, { ack_wait: cfg.ack_wait, max_deliver: cfg.max_deliver, max_ack_pending: cfg.max_ack_pending });
  }
}

export function messageHeaders(jobId: string, traceId: string, traceparent?: string): MsgHdrs {
  const h = natsHeaders();
  h.set(HEADER_JOB_ID, jobId);
  h.set(HEADER_TRACE_ID, traceId);
  h.set('traceparent', traceparent ?? traceparentFor(traceId));
  return h;
}

export function headersToRecord(h: MsgHdrs | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!h) return out;
  for (const k of h.keys()) out[k.toLowerCase()] = h.get(k);
  return out;
}

/** Publishes a job command; `Nats-Msg-Id` = job id + attempt, so a re-publish is de-duplicated. */
export async function publishCommand(bus: Bus, cmd: CommandEnvelope, traceparent?: string): Promise<void> {
  await bus.js.publish(bus.names.command(cmd.type), JSON.stringify(cmd), {
    msgID: `${cmd.job_id}:${cmd.attempt}`,
    headers: messageHeaders(cmd.job_id, cmd.trace_id, traceparent),
  });
}

export type EventInput = Omit<JobEvent, 'event_id' | 'at' | 'stage' | 'progress_percent' | 'detail_message' | 'result' | 'error' | 'worker'> &
  Partial<Pick<JobEvent, 'event_id' | 'stage' | 'progress_percent' | 'detail_message' | 'result' | 'error' | 'worker'>>;

/** This process, as events name it. */
export const WORKER_ID = `${os.hostname()}:${process.pid}`;

/** A complete event from what its emitter knows: its id and time are fixed here, once. */
export function makeEvent(e: EventInput): JobEvent {
  return {
    stage: null,
    progress_percent: null,
    detail_message: null,
    result: null,
    error: null,
    worker: WORKER_ID,
    ...e,
    event_id: e.event_id ?? randomUUID(),
    at: new Date().toISOString(),
  };
}

/** Publishes a made event; `Nats-Msg-Id` = its id, so publishing it again is de-duplicated. */
export async function publishJobEvent(bus: Bus, event: JobEvent): Promise<JobEvent> {
  await bus.js.publish(bus.names.event(event.job_id, event.kind), JSON.stringify(event), {
    msgID: event.event_id,
    headers: messageHeaders(event.job_id, event.trace_id),
  });
  return event;
}

export async function publishEvent(bus: Bus, e: EventInput): Promise<JobEvent> {
  return publishJobEvent(bus, makeEvent(e));
}

/** Records a cancel request: kept in a stream (last per job) so a worker that starts later sees it. */
export async function publishCancel(bus: Bus, jobId: string, traceId: string): Promise<void> {
  const body: CancelMessage = { job_id: jobId, at: new Date().toISOString() };
  await bus.js.publish(bus.names.cancel(jobId), JSON.stringify(body), {
    headers: messageHeaders(jobId, traceId),
  });
}

async function lastOnSubject(bus: Bus, stream: string, subject: string): Promise<boolean> {
  try {
    return (await bus.jsm.streams.getMessage(stream, { last_by_subj: subject })) !== null;
  } catch (e) {
    if (/no message found|not found/i.test(String((e as Error).message))) return false;
    throw e;
  }
}

export async function isCancelRequested(bus: Bus, jobId: string): Promise<boolean> {
  return lastOnSubject(bus, bus.names.cancelStream, bus.names.cancel(jobId));
}

/** Whether a final event of the job is on the bus already (a duplicate or late command). */
export async function isJobFinished(bus: Bus, jobId: string): Promise<boolean> {
  for (const kind of ['succeeded', 'failed', 'canceled'] as const)
    if (await lastOnSubject(bus, bus.names.eventStream, bus.names.event(jobId, kind))) return true;
  return false;
}
