import { Migrator } from '@mikro-orm/migrations';
import { MikroORM } from '@mikro-orm/postgresql';
import { config } from '@mt/platform';
import { entities } from './entities.js';
import { Migration20261127000000_initial } from './migrations/Migration20261127000000_initial.js';
import { Migration20261127010000_job_attempt } from './migrations/Migration20261127010000_job_attempt.js';
import { Migration20261203000000_outbox_thumbnails } from './migrations/Migration20261203000000_outbox_thumbnails.js';
import { Migration20261203100000_accounts } from './migrations/Migration20261203100000_accounts.js';
import { Migration20261203110000_members } from './migrations/Migration20261203110000_members.js';
import { Migration20261203120000_share_links } from './migrations/Migration20261203120000_share_links.js';
import { Migration20261203130000_webhooks } from './migrations/Migration20261203130000_webhooks.js';
import { Migration20261210130000_captions } from './migrations/Migration20261210130000_captions.js';
import { Migration20261211100000_outbox_job } from './migrations/Migration20261211100000_outbox_job.js';

export const migrationsList = [
  { name: 'Migration20261127000000_initial', class: Migration20261127000000_initial },
  { name: 'Migration20261127010000_job_attempt', class: Migration20261127010000_job_attempt },
  { name: 'Migration20261203000000_outbox_thumbnails', class: Migration20261203000000_outbox_thumbnails },
  { name: 'Migration20261203100000_accounts', class: Migration20261203100000_accounts },
  { name: 'Migration20261203110000_members', class: Migration20261203110000_members },
  { name: 'Migration20261203120000_share_links', class: Migration20261203120000_share_links },
  { name: 'Migration20261203130000_webhooks', class: Migration20261203130000_webhooks },
  { name: 'Migration20261210130000_captions', class: Migration20261210130000_captions },
  { name: 'Migration20261211100000_outbox_job', class: Migration20261211100000_outbox_job },
];

export async function createOrm(clientUrl = config.databaseUrl): Promise<MikroORM> {
  return MikroORM.init({
    clientUrl,
    entities,
    extensions: [Migrator],
    migrations: { migrationsList, transactional: true, allOrNothing: true, tableName: 'mikro_orm_migrations', snapshot: false },
    pool: { min: 0, max: 10 },
    // Passed to pg's Pool: a lost gateway's open transaction is ended by the server (config.ts says why).
    driverOptions: { idle_in_transaction_session_timeout: config.dbIdleInTransactionMs, keepAlive: true },
    debug: false,
  });
}

/** Applies pending migrations (the only way the schema changes: no schema sync anywhere). */
export async function migrate(orm: MikroORM): Promise<void> {
  await orm.migrator.up();
}
