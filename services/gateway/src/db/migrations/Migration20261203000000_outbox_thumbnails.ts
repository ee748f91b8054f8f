import { Migration } from '@mikro-orm/migrations';

/**
 * One outbox for everything the gateway sends on the bus (commands, events, cancels), written in the
 * transaction of the state change that causes it; thumbnails of photos (v1.2).
 */
export class Migration20261203000000_outbox_thumbnails extends Migration {
  override name = 'Migration20261203000000_outbox_thumbnails';

  override up(): void {
    this.addSql(`create table outbox (
      id bigserial primary key,
      kind text not null check (kind in ('command','event','cancel')),
      job_id text not null,
      body jsonb not null,
      created_at timestamptz not null default now(),
      lease_until timestamptz,
      sent_at timestamptz)`);
    this.addSql(`create index outbox_unsent on outbox (id) where sent_at is null`);
    // Commands of jobs written before the outbox existed and not published yet go out through it.
    this.addSql(`insert into outbox (kind, job_id, body)
      select 'command', id, jsonb_build_object('job_id', id, 'trace_id', trace_id, 'type', type, 'attempt', attempt, 'payload', payload)
      from jobs where published_at is null and status = 'queued' order by created_at`);
    this.addSql(`alter table assets add column thumbnail_key text`);
  }

  override down(): void {
    this.addSql(`drop table if exists outbox`);
    this.addSql(`alter table assets drop column if exists thumbnail_key`);
  }
}
