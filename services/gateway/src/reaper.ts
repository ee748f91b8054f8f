import type { MikroORM } from '@mikro-orm/postgresql';
import type { JobType } from '@mt/contracts';
import { config, publishCommand, publishEvent, type Bus, type Logger } from '@mt/platform';

/**
 * The reaper: a backstop for the rare job whose worker vanished and whose command JetStream will not
 * deliver again (it normally does, after the ack wait). A running job with no event for
 * MT_STALE_RUNNING_MS is published again with a higher attempt; after MT_MAX_DELIVER attempts it ends
 * `failed` (`worker_lost`). Rows are claimed with `skip locked`, so several gateways never double up.
 */
export class Reaper {
  constructor(
    private readonly orm: MikroORM,
    private readonly bus: Bus,
    private readonly log: Logger,
  ) {}

  async sweep(): Promise<number> {
    return this.orm.em.fork().transactional(async (em) => {
      const stale = await em.execute<{ id: string; type: JobType; trace_id: string; payload: Record<string, unknown>; attempt: number }[]>(
        `select j.id, j.type, j.trace_id, j.payload, j.attempt from jobs j join job_runtimes r on r.job_id = j.id
         where j.status = 'running' and j.type <> 'pipeline' and r.updated_at < now() - (? * interval '1 millisecond')
         order by r.updated_at limit 20 for update of j skip locked`,
        [config.staleRunningMs],
      );
      for (const j of stale) {
        const base = { job_id: j.id, trace_id: j.trace_id, attempt: j.attempt, service: 'reaper' };
        if (j.attempt >= config.maxDeliver) {
          this.log.warn({ job_id: j.id, trace_id: j.trace_id, attempt: j.attempt }, 'worker lost: job failed');
          await publishEvent(this.bus, {
            ...base,
            kind: 'failed',
            stage: 'failed',
            error: { code: 'worker_lost', message: `The worker making this step stopped responding ${j.attempt} times. Please run it again.`, stage: null },
          });
          continue;
        }
        const attempt = j.attempt + 1;
        await em.execute(`update jobs set attempt = ? where id = ?`, [attempt, j.id]);
        await publishCommand(this.bus, { job_id: j.id, trace_id: j.trace_id, type: j.type, attempt, payload: j.payload });
        await publishEvent(this.bus, { ...base, attempt, kind: 'progress', detail_message: 'Its worker stopped responding: starting it again' });
        this.log.warn({ job_id: j.id, trace_id: j.trace_id, attempt }, 'stale job published again');
      }
      return stale.length;
    });
  }
}
