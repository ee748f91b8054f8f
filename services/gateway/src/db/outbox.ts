import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import type { CommandEnvelope, JobEvent } from '@mt/contracts';
import type { OutboxRow } from './entities.js';

export type OutboxMessage =
  | { kind: 'command'; body: CommandEnvelope }
  | { kind: 'event'; body: JobEvent }
  | { kind: 'cancel'; body: { job_id: string; trace_id: string } };

/** The `outbox` table: the only module that writes SQL for it. */
export class OutboxRepo {
  constructor(private readonly orm: MikroORM) {}

  /** Writes messages in the caller's transaction: they go out only if it commits. */
  async add(em: EntityManager, ...messages: OutboxMessage[]): Promise<void> {
    for (const m of messages)
      await em.execute(`insert into outbox (kind, job_id, body) values (?, ?, ?::jsonb)`, [m.kind, m.body.job_id, JSON.stringify(m.body)]);
  }

  /**
   * Claims up to `limit` unsent messages for `leaseMs` (in order of writing) and commits at once, so no
   * row lock is held while they are published; a relay that dies leaves them to the next after the lease.
   */
  async claim(limit: number, leaseMs: number): Promise<OutboxRow[]> {
    return this.orm.em.fork().execute<OutboxRow[]>(
      `update outbox set lease_until = now() + (? * interval '1 millisecond')
       where id in (select id from outbox where sent_at is null and (lease_until is null or lease_until < now())
                    order by id limit ? for update skip locked)
       returning id::float8 as id, kind, job_id, body, created_at, lease_until, sent_at`,
      [leaseMs, limit],
    );
  }

  /** Whether the event with this id is written for the job (sent or not, until pruned). */
  async holdsEvent(em: EntityManager, jobId: string, eventId: string): Promise<boolean> {
    const rows = await em.execute(`select 1 from outbox where job_id = ? and kind = 'event' and body->>'event_id' = ? limit 1`, [jobId, eventId]);
    return rows.length > 0;
  }

  /** Gives claimed messages back at once (their publishing failed), so the next claim starts with them. */
  async release(ids: number[]): Promise<void> {
    if (ids.length)
      await this.orm.em.fork().execute(`update outbox set lease_until = null where id = any(?::bigint[]) and sent_at is null`, [`{${ids.join(',')}}`]);
  }

  async markSent(ids: number[]): Promise<void> {
    if (ids.length) await this.orm.em.fork().execute(`update outbox set sent_at = now() where id = any(?::bigint[])`, [`{${ids.join(',')}}`]);
  }

  /** The messages of a memorial's jobs, removed with the memorial (before its jobs: they are found through them). */
  async deleteForProject(em: EntityManager, projectId: string): Promise<void> {
    await em.execute(`delete from outbox where job_id in (select id from jobs where project_id = ?)`, [projectId]);
  }

  /** Sent messages are kept a while for diagnosis, then removed. */
  async prune(olderThanMs: number): Promise<void> {
    await this.orm.em.fork().execute(`delete from outbox where sent_at < now() - (? * interval '1 millisecond')`, [olderThanMs]);
  }
}
