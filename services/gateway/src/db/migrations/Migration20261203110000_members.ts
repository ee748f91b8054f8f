import { Migration } from '@mikro-orm/migrations';

/**
 * Ownership (v1.1): every memorial's members (`owner`: who made it; `organiser`: invited by the owner)
 * and the account each job belongs to (the memorial's owner; for a test job, who made it), carried on
 * its commands and events. Memorials and jobs made before accounts existed go to an operator account
 * made here, so they stay reachable: `./mt api-key create --email operator@localhost` gives its key.
 */
export class Migration20261203110000_members extends Migration {
  override name = 'Migration20261203110000_members';

  override up(): void {
    this.addSql(`create table project_members (
      project_id text not null references projects(id) on delete cascade,
      account_id text not null references "user"("id") on delete cascade,
      role text not null check (role in ('owner','organiser')),
      created_at timestamptz not null default now(),
      primary key (project_id, account_id))`);
    this.addSql(`create unique index project_members_one_owner on project_members (project_id) where role = 'owner'`);
    this.addSql(`create index project_members_account on project_members (account_id, project_id)`);
    this.addSql(`alter table jobs add column account_id text references "user"("id") on delete set null`);
    this.addSql(`create index jobs_account on jobs (account_id, created_at desc, id desc)`);

    // The operator: the owner of everything made before this migration (and an account like any other).
    this.addSql(`insert into "user" ("id", "name", "email", "emailVerified") values (md5(random()::text || clock_timestamp()::text), 'Operator', 'operator@localhost', true)
      on conflict ("email") do nothing`);
    this.addSql(`insert into project_members (project_id, account_id, role, created_at)
      select p.id, u.id, 'owner', p.created_at from projects p cross join "user" u where u.email = 'operator@localhost'`);
    this.addSql(`update jobs set account_id = (select id from "user" where email = 'operator@localhost')`);
  }

  override down(): void {
    this.addSql(`alter table jobs drop column if exists account_id`);
    this.addSql(`drop table if exists project_members`);
  }
}
