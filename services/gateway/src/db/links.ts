import { randomUUID } from 'node:crypto';
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import type { ShareLinkKind } from '@mt/contracts';

/** A share link's row; its key is never here, only the key's hash. */
export interface ShareLinkRow {
  id: string;
  project_id: string;
  kind: ShareLinkKind;
  label: string | null;
  key_hash: string;
  password_hash: string | null;
  expires_at: Date | null;
  allow_download: boolean;
  moderated: boolean;
  created_by: string | null;
  created_at: Date;
  last_used_at: Date | null;
  use_count: number;
}

export type NewShareLink = Pick<
  ShareLinkRow,
  'project_id' | 'kind' | 'label' | 'key_hash' | 'password_hash' | 'expires_at' | 'allow_download' | 'moderated' | 'created_by'
>;

/** The `share_links` table: the only module that writes SQL for it. */
export class LinkRepo {
  constructor(private readonly orm: MikroORM) {}

  em(): EntityManager {
    return this.orm.em.fork();
  }

  async create(l: NewShareLink, em = this.em()): Promise<ShareLinkRow> {
    const rows = await em.execute<ShareLinkRow[]>(
      `insert into share_links (id, project_id, kind, label, key_hash, password_hash, expires_at, allow_download, moderated, created_by)
       values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) returning *`,
      [randomUUID(), l.project_id, l.kind, l.label, l.key_hash, l.password_hash, l.expires_at, l.allow_download, l.moderated, l.created_by],
    );
    return rows[0]!;
  }

  async list(projectId: string, em = this.em()): Promise<ShareLinkRow[]> {
    return em.execute<ShareLinkRow[]>(`select * from share_links where project_id = ? order by created_at, id`, [projectId]);
  }

  /** Revokes a link at once (the row goes; its contributions stay, no longer tied to it): whether there was one. */
  async delete(projectId: string, linkId: string, em = this.em()): Promise<boolean> {
    const rows = await em.execute<{ id: string }[]>(`delete from share_links where project_id = ? and id = ? returning id`, [projectId, linkId]);
    return rows.length > 0;
  }

  /** The live (unexpired) link whose key hashes to this; null for an unknown, revoked or expired key. */
  async findLive(keyHash: string, em = this.em()): Promise<ShareLinkRow | null> {
    const rows = await em.execute<ShareLinkRow[]>(`select * from share_links where key_hash = ? and (expires_at is null or expires_at > now())`, [keyHash]);
    return rows[0] ?? null;
  }

  /** Counts one use of the link. */
  async used(linkId: string, em = this.em()): Promise<void> {
    await em.execute(`update share_links set use_count = use_count + 1, last_used_at = now() where id = ?`, [linkId]);
  }
}
