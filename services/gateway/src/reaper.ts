import { config, type Logger, makeEvent } from '@mt/platform';
import { type Repositories, transaction } from './db/index.js';

/**
 * The reaper: a backstop for the rare job whose worker vanished and whose command JetStream will not
 * deliver again (it normally does, after the ack wait). A running job with no event for
 * MT_STALE_RUNNING_MS is published again with a higher attempt; after MT_MAX_DELIVER attempts it ends
 * `failed` (`worker_lost`). Rows are claimed with `skip locked`, so several gateways never double up;
 * what it sends goes through the outbox with the attempt it records.
 */
export class Reaper {
  constructor(
    private readonly repos: Repositories,
    private readonly log: Logger,
    private readonly committed: () => void = () => {},
  ) {}

  async sweep(): Promise<number> {
    const { jobs, outbox } = this.repos;
    const n = await transaction(this.repos, async (em) => {
      const stale = await jobs.claimStale(em, config.staleRunningMs, 20);
      for (const j of stale) {
        const base = {
          job_id: j.id,
          trace_id: j.trace_id,
          account_id: j.account_id,
          project_id: j.project_id,
          job_type: j.type,
          attempt: j.attempt,
          service: 'reaper',
        };
        if (j.attempt >= config.maxDeliver) {
          this.log.warn({ job_id: j.id, trace_id: j.trace_id, attempt: j.attempt }, 'worker lost: job failed');
          const error = {
            code: 'worker_lost',
            message: `The worker making this step stopped responding ${j.attempt} times. Please run it again.`,
            stage: null,
          };
          await outbox.add(em, { kind: 'event', body: makeEvent({ ...base, kind: 'failed', stage: 'failed', error }) });
          continue;
        }
        const attempt = j.attempt + 1;
        await jobs.setAttempt(em, j.id, attempt);
        await outbox.add(
          em,
          { kind: 'command', body: { job_id: j.id, trace_id: j.trace_id, type: j.type, attempt, account_id: j.account_id, payload: j.payload } },
          { kind: 'event', body: makeEvent({ ...base, attempt, kind: 'progress', detail_message: 'Its worker stopped responding: starting it again' }) },
        );
        this.log.warn({ job_id: j.id, trace_id: j.trace_id, attempt }, 'stale job published again');
      }
      return stale.length;
    });
    if (n) this.committed();
    return n;
  }
}
