import type { CommandEnvelope, JobEvent } from '@mt/contracts';
import { type Bus, type Logger, publishCancel, publishCommand, publishJobEvent } from '@mt/platform';
import type { OutboxRepo, OutboxRow } from './db/index.js';

const BATCH = 100;
const LEASE_MS = 30_000;
const KEEP_SENT_MS = 60 * 60_000;

/**
 * The outbox relay: publishes what committed transactions wrote to the outbox (commands, events,
 * cancels), in order, outside any transaction. Several gateways share the work (claims skip locked
 * rows); a relay that dies mid-batch leaves its claim to expire, and publishing again is de-duplicated
 * by JetStream (`Nats-Msg-Id`) or harmless (a cancel).
 */
export class Relay {
  private timer?: NodeJS.Timeout;
  private running = false;
  private again = false;
  private lastPrune = 0;

  constructor(
    private readonly outbox: OutboxRepo,
    private readonly bus: Bus,
    private readonly log: Logger,
    private readonly intervalMs: number,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.kick(), this.intervalMs);
    this.kick();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Publishes now (coalescing concurrent calls). */
  kick(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    void this.flush()
      .catch((e: unknown) => this.log.warn({ err: (e as Error).message }, 'outbox relay: publish failed; will retry'))
      .finally(() => {
        this.running = false;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  private async flush(): Promise<void> {
    for (;;) {
      const rows = (await this.outbox.claim(BATCH, LEASE_MS)).sort((a, b) => a.id - b.id);
      const sent: number[] = [];
      try {
        for (const r of rows) {
          await this.publish(r);
          sent.push(r.id);
        }
      } finally {
        await this.outbox.markSent(sent);
        // What a failed publish left unsent goes back at once: held under its lease, the messages written
        // after it would go out first (a pipeline's progress after its final event, across a NATS restart).
        await this.outbox.release(rows.filter((r) => !sent.includes(r.id)).map((r) => r.id));
      }
      if (rows.length < BATCH) break;
    }
    if (Date.now() - this.lastPrune > 60_000) {
      this.lastPrune = Date.now();
      await this.outbox.prune(KEEP_SENT_MS);
    }
  }

  private async publish(r: OutboxRow): Promise<void> {
    if (r.kind === 'command') {
      const cmd = r.body as CommandEnvelope;
      await publishCommand(this.bus, cmd);
      this.log.debug({ job_id: cmd.job_id, trace_id: cmd.trace_id, stage: 'queued' }, 'command published');
    } else if (r.kind === 'event') await publishJobEvent(this.bus, r.body as JobEvent);
    else {
      const c = r.body as { job_id: string; trace_id: string };
      await publishCancel(this.bus, c.job_id, c.trace_id);
    }
  }
}
