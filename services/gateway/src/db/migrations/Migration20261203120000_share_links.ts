import { Migration } from '@mikro-orm/migrations';

/**
 * Share links (v1.3): view and contribute links of a memorial. Only the SHA-256 of a link's key is
 * kept (the key has 256 random bits, so a fast hash is enough), and a password only as a salted
 * scrypt hash. Assets remember who contributed them, through which link, and whether members have
 * approved them; everything uploaded before is approved.
 */
export class Migration20261203120000_share_links extends Migration {
  override name = 'Migration20261203120000_share_links';

  override up(): void {
    this.addSql(`create table share_links (
      id text primary key,
      project_id text not null references projects(id) on delete cascade,
      kind text not null check (kind in ('view','contribute')),
      label text,
      key_hash text not null unique,
      password_hash text,
      expires_at timestamptz,
      allow_download boolean not null default false,
      moderated boolean not null default false,
      created_by text references "user"("id") on delete set null,
      created_at timestamptz not null default now(),
      last_used_at timestamptz,
      use_count integer not null default 0)`);
    this.addSql(`create index share_links_project on share_links (project_id, created_at)`);
    this.addSql(`alter table assets
      add column contributor_name text,
      add column review text not null default 'approved' check (review in ('approved','pending')),
      add column link_id text references share_links(id) on delete set null`);
    this.addSql(`create index assets_link on assets (link_id) where link_id is not null`);
  }
}
