import { Migration } from '@mikro-orm/migrations';

/** The outbox by job: the coordinator asks whether a pipeline's final event is written already. */
export class Migration20261211100000_outbox_job extends Migration {
  override name = 'Migration20261211100000_outbox_job';

  override up(): void {
    this.addSql(`create index outbox_job on outbox (job_id)`);
  }

  override down(): void {
    this.addSql(`drop index outbox_job`);
  }
}
