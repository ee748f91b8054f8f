import type { EntityManager } from '@mikro-orm/postgresql';
import type { JobEvent } from '@mt/contracts';

/** The `job_events` table: every event once, by its id. The only module that writes SQL for it. */
export class JobEventRepo {
  /** Records the event; false when it was recorded before (a redelivery). */
  async record(em: EntityManager, e: JobEvent): Promise<boolean> {
    const inserted = await em.execute<{ id: number }[]>(
      `insert into job_events (event_id, job_id, trace_id, kind, stage, progress_percent, detail_message, attempt, service, body, at)
       values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?::jsonb, ?) on conflict (event_id) do nothing returning id`,
      [e.event_id, e.job_id, e.trace_id, e.kind, e.stage, e.progress_percent, e.detail_message, e.attempt, e.service, JSON.stringify(e), e.at],
    );
    return inserted.length > 0;
  }
}
