import { setTimeout as sleep } from 'node:timers/promises';
import { JobEvent } from '@mt/contracts';
import { AckPolicy, type ConsumerMessages, DeliverPolicy } from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import { connectBus } from './bus.js';
import type { Logger } from './logger.js';

/**
 * An event-stream subscriber (what `./mt watch` runs): its own durable JetStream consumer on the event
 * stream, so a restart resumes after the last event it acknowledged. One event is outstanding at a
 * time (max_ack_pending 1), so events arrive in stream order, which is each job's order; an event is
 * acknowledged (and the ack confirmed) only after `onEvent` returned. A redelivery (an ack lost across
 * a NATS restart) is recognised by its event id and not shown twice.
 */
export interface WatchOptions {
  /** Durable consumer name (letters, digits, `-`, `_`). */
  name: string;
  natsUrl: string;
  namespace: string;
  /** Only this memorial's events (others are acknowledged and skipped). */
  projectId?: string;
  /** A new consumer starts with the events stored from now on (`new`, default) or with every stored event (`all`). */
  from?: 'new' | 'all';
  onEvent: (e: JobEvent, seq: number) => void | Promise<void>;
  /** Connection changes and skipped messages, for the person watching. */
  onNotice?: (text: string) => void;
}

export interface WatchStats {
  /** Messages received, redeliveries included. */
  received: number;
  /** Redeliveries of an event already shown (recognised by event id), acknowledged and not shown. */
  duplicates: number;
  /** Events given to onEvent. */
  shown: number;
  /** Events of other projects. */
  filtered: number;
  /** Messages that are not a JobEvent. */
  invalid: number;
}

export interface Watcher {
  readonly stats: WatchStats;
  readonly consumer: string;
  stop(): Promise<void>;
}

const SEEN_MAX = 100_000;

export async function watchEvents(o: WatchOptions): Promise<Watcher> {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(o.name)) throw new Error(`watch name "${o.name}": use letters, digits, - and _ (at most 64)`);
  const notice = o.onNotice ?? (() => {});
  // the services' connection: reconnects for ever, says so on disconnect and reconnect
  const say = { warn: (_: unknown, text: string) => notice(text) } as Pick<Logger, 'warn'>;
  const { nc, js, jsm, names } = await connectBus(`watch:${o.name}`, say, o.natsUrl, o.namespace);
  const stats: WatchStats = { received: 0, duplicates: 0, shown: 0, filtered: 0, invalid: 0 };
  const seen = new Set<string>();
  let stopping = false;
  let msgs: ConsumerMessages | undefined;

  // The stream is made by the services at start; wait for it rather than fail when watch starts first.
  for (let i = 0; ; i++) {
    try {
      await jsm.consumers.info(names.eventStream, o.name);
      break; // exists: resume where it left off
    } catch (e) {
      if (!/consumer not found/i.test(String((e as Error).message)) && !/stream not found/i.test(String((e as Error).message))) throw e;
    }
    try {
      await jsm.consumers.add(names.eventStream, {
        durable_name: o.name,
        filter_subject: names.eventWildcard,
        ack_policy: AckPolicy.Explicit,
        ack_wait: nanos(10_000),
        max_ack_pending: 1,
        max_deliver: -1,
        deliver_policy: o.from === 'all' ? DeliverPolicy.All : DeliverPolicy.New,
        // A watcher gone for a week (the stream's own age limit) is cleaned up by the server.
        inactive_threshold: nanos(7 * 24 * 3600_000),
      });
      break;
    } catch (e) {
      if (!/stream not found/i.test(String((e as Error).message))) throw e;
      if (i === 0) notice(`waiting for stream ${names.eventStream} (start the services)`);
      await sleep(1_000);
    }
  }

  const loop = (async () => {
    while (!stopping) {
      try {
        const consumer = await js.consumers.get(names.eventStream, o.name);
        msgs = await consumer.consume({ max_messages: 1 });
        for await (const m of msgs) {
          stats.received++;
          const parsed = JobEvent.safeParse(JSON.parse(new TextDecoder().decode(m.data) || 'null'));
          if (!parsed.success) {
            stats.invalid++;
            notice(`not a JobEvent on ${m.subject} (seq ${m.seq}): skipped`);
          } else if (seen.has(parsed.data.event_id)) {
            stats.duplicates++;
          } else if (o.projectId && parsed.data.project_id !== o.projectId) {
            stats.filtered++;
            remember(seen, parsed.data.event_id);
          } else {
            await o.onEvent(parsed.data, m.seq);
            stats.shown++;
            remember(seen, parsed.data.event_id);
          }
          // Confirmed ack: the next start resumes after this event. Lost across a NATS restart, the
          // event comes again and the seen set drops it.
          await m.ackAck().catch(() => false);
          if (stopping) break;
        }
      } catch (e) {
        if (stopping) break;
        notice(`consumer interrupted (${(e as Error).message}); re-establishing`);
        await sleep(1_000);
      }
    }
  })();

  return {
    stats,
    consumer: o.name,
    async stop() {
      stopping = true;
      msgs?.stop();
      await Promise.race([loop, sleep(5_000)]);
      await nc.close().catch(() => {});
    },
  };
}

function remember(seen: Set<string>, id: string): void {
  seen.add(id);
  if (seen.size > SEEN_MAX) seen.delete(seen.values().next().value as string);
}

/** One line per event: time, job type, job id (short), stage, percent, detail. */
export function formatEvent(e: JobEvent): string {
  const time = e.at.slice(11, 23);
  const type = (e.job_type ?? e.service).padEnd(10);
  const id = e.job_id.replace(/-/g, '').slice(0, 8);
  const stage = (e.stage ?? e.kind).padEnd(20);
  const pct = e.progress_percent === null ? '    ' : `${Math.round(e.progress_percent)}%`.padStart(4);
  // The kind where the stage column does not already say it (a job that succeeded in `render_done`).
  const kind = e.kind !== 'progress' && e.stage !== null && e.stage !== e.kind ? e.kind : '';
  const detail = e.error ? `${e.error.code}: ${e.error.message}` : [kind, e.detail_message].filter(Boolean).join(': ');
  return `${time}  ${type} ${id}  ${stage} ${pct}  ${detail}`.trimEnd();
}
