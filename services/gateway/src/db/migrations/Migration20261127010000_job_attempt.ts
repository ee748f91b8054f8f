import { Migration } from '@mikro-orm/migrations';

/** How many times a job's command was published: the reaper publishes again when a worker vanished. */
export class Migration20261127010000_job_attempt extends Migration {
  override name = 'Migration20261127010000_job_attempt';

  override up(): void {
    this.addSql(`alter table jobs add column attempt int not null default 1`);
    this.addSql(`create index job_runtimes_stale on job_runtimes (updated_at)`);
  }

  override down(): void {
    this.addSql(`alter table jobs drop column attempt`);
    this.addSql(`drop index if exists job_runtimes_stale`);
  }
}
