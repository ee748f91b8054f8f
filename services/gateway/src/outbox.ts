import type { MikroORM } from '@mikro-orm/postgresql';
import type { CommandEnvelope, JobType } from '@mt/contracts';
import { config, publishCommand, type Bus, type Logger } from '@mt/platform';

/**
 * The outbox relay: a job row is written first, then published from here. Rows are picked with
 * `for update skip locked`, so several gateways share the work; a crash between publish and marking
 * it only re-publishes with the same Nats-Msg-Id, which JetStream de-duplicates.
 */
export class Outbox {
  private timer?: NodeJS.Timeout;
  private running = false;
  private again = false;

  constructor(
    private readonly orm: MikroORM,
    private readonly bus: Bus,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.kick(), config.outboxIntervalMs);
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
      .catch((e: unknown) => this.log.warn({ err: (e as Error).message }, 'outbox flush failed; will retry'))
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
      const em = this.orm.em.fork();
      const n = await em.transactional(async (tem) => {
        const rows = await tem.execute<{ id: string; type: JobType; trace_id: string; payload: Record<string, unknown> }[]>(
          `select id, type, trace_id, payload from jobs where published_at is null and status = 'queued'
           order by created_at limit 50 for update skip locked`,
        );
        for (const r of rows) {
          const cmd: CommandEnvelope = { job_id: r.id, trace_id: r.trace_id, type: r.type, attempt: 1, payload: r.payload };
          await publishCommand(this.bus, cmd);
          await tem.execute(`update jobs set published_at = now() where id = ?`, [r.id]);
          this.log.debug({ job_id: r.id, trace_id: r.trace_id, stage: 'queued' }, 'command published');
        }
        return rows.length;
      });
      if (n < 50) return;
    }
  }
}
