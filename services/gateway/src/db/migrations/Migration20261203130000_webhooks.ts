import { Migration } from '@mikro-orm/migrations';

/**
 * Webhooks (v1.1, integrators): an account's subscriptions and the deliveries owed to them. A
 * delivery row is written in the transaction of the event it reports (outbox-style), so none is lost
 * to a crash; the deliverer claims due rows with a lease (`lease_until`) and retries with backoff.
 * The signing secret must be usable to sign, so it is kept encrypted (AES-256-GCM), never in clear.
 */
export class Migration20261203130000_webhooks extends Migration {
  override name = 'Migration20261203130000_webhooks';

  override up(): void {
    this.addSql(`create table webhooks (
      id text primary key,
      account_id text not null references "user"(id) on delete cascade,
      url text not null,
      events text[] not null,
      secret_encrypted text not null,
      created_at timestamptz not null default now())`);
    this.addSql(`create index webhooks_account on webhooks (account_id, created_at desc)`);
    this.addSql(`create table webhook_deliveries (
      id text primary key,
      webhook_id text not null references webhooks(id) on delete cascade,
      type text not null,
      payload jsonb not null,
      attempts integer not null default 0,
      next_attempt_at timestamptz not null default now(),
      lease_until timestamptz,
      delivered_at timestamptz,
      gave_up_at timestamptz,
      last_status integer,
      last_error text,
      created_at timestamptz not null default now())`);
    this.addSql(`create index webhook_deliveries_due on webhook_deliveries (next_attempt_at) where delivered_at is null and gave_up_at is null`);
    this.addSql(`create index webhook_deliveries_webhook on webhook_deliveries (webhook_id)`);
  }

  override down(): void {
    this.addSql(`drop table if exists webhook_deliveries`);
    this.addSql(`drop table if exists webhooks`);
  }
}
