import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import type { AssetRow } from './entities.js';

// bigint comes back from the driver as a string; the row type says number, so it is cast in SQL.
const COLUMNS = `id, project_id, kind, filename, content_type, size_bytes::float8 as size_bytes, sha256, width, height,
  duration_seconds, position, object_key, thumbnail_key, contributor_name, review, link_id, caption, created_at`;

/** A new asset's row; a member's upload leaves out who contributed it (approved, no link). */
export type NewAsset = Omit<AssetRow, 'position' | 'created_at' | 'contributor_name' | 'review' | 'link_id' | 'caption'> &
  Partial<Pick<AssetRow, 'contributor_name' | 'review' | 'link_id' | 'caption'>>;

/** The `assets` table: the only module that writes SQL for it. */
export class AssetRepo {
  constructor(private readonly orm: MikroORM) {}

  em(): EntityManager {
    return this.orm.em.fork();
  }

  /** Photos in order, then audio. */
  async list(projectId: string, em = this.em()): Promise<AssetRow[]> {
    return em.execute<AssetRow[]>(`select ${COLUMNS} from assets where project_id = ? order by kind desc, position nulls last, created_at, id`, [projectId]);
  }

  /** The photos a video is made of, in order: approved ones only (a pending contribution waits for a member). */
  async photos(projectId: string, em = this.em()): Promise<AssetRow[]> {
    return em.execute<AssetRow[]>(`select ${COLUMNS} from assets where project_id = ? and kind = 'photo' and review = 'approved' order by position, id`, [
      projectId,
    ]);
  }

  /** Every photo in order, pending contributions too (what members order and what counts toward the cap). */
  async allPhotos(projectId: string, em = this.em()): Promise<AssetRow[]> {
    return em.execute<AssetRow[]>(`select ${COLUMNS} from assets where project_id = ? and kind = 'photo' order by position, id`, [projectId]);
  }

  /** What one contribute link uploaded, oldest first (one upload's photos in their order). */
  async byLink(linkId: string, em = this.em()): Promise<AssetRow[]> {
    return em.execute<AssetRow[]>(`select ${COLUMNS} from assets where link_id = ? order by created_at, position nulls last, id`, [linkId]);
  }

  /** A member approves a pending contribution: from now on videos use it. */
  async approve(projectId: string, assetId: string, em = this.em()): Promise<AssetRow | null> {
    const rows = await em.execute<AssetRow[]>(`update assets set review = 'approved' where project_id = ? and id = ? returning ${COLUMNS}`, [
      projectId,
      assetId,
    ]);
    return rows[0] ?? null;
  }

  /** The project's music: the latest audio upload. */
  async music(projectId: string, em = this.em()): Promise<AssetRow | null> {
    const rows = await em.execute<AssetRow[]>(
      `select ${COLUMNS} from assets where project_id = ? and kind = 'audio' order by created_at desc, id desc limit 1`,
      [projectId],
    );
    return rows[0] ?? null;
  }

  async find(projectId: string, assetId: string, em = this.em()): Promise<AssetRow | null> {
    const rows = await em.execute<AssetRow[]>(`select ${COLUMNS} from assets where project_id = ? and id = ?`, [projectId, assetId]);
    return rows[0] ?? null;
  }

  /** Adds assets; photos go to the end of the order. Call with the project row locked. */
  async insert(em: EntityManager, assets: NewAsset[]): Promise<AssetRow[]> {
    const out: AssetRow[] = [];
    for (const a of assets) {
      const rows = await em.execute<AssetRow[]>(
        `insert into assets (id, project_id, kind, filename, content_type, size_bytes, sha256, width, height, duration_seconds, position, object_key, thumbnail_key,
           contributor_name, review, link_id, caption)
         values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?,
           case when ? = 'photo' then (select coalesce(max(position), 0) + 1 from assets where project_id = ? and kind = 'photo') end, ?, ?, ?, ?, ?, ?)
         returning ${COLUMNS}`,
        [
          a.id,
          a.project_id,
          a.kind,
          a.filename,
          a.content_type,
          a.size_bytes,
          a.sha256,
          a.width,
          a.height,
          a.duration_seconds,
          a.kind,
          a.project_id,
          a.object_key,
          a.thumbnail_key,
          a.contributor_name ?? null,
          a.review ?? 'approved',
          a.link_id ?? null,
          a.kind === 'photo' ? (a.caption ?? null) : null,
        ],
      );
      out.push(rows[0]!);
    }
    return out;
  }

  /** Photo ids of the project, locked until the transaction ends. */
  async lockPhotoIds(em: EntityManager, projectId: string): Promise<string[]> {
    const rows = await em.execute<{ id: string }[]>(`select id from assets where project_id = ? and kind = 'photo' for update`, [projectId]);
    return rows.map((r) => r.id);
  }

  async setOrder(em: EntityManager, ids: string[]): Promise<void> {
    for (const [i, id] of ids.entries()) await em.execute(`update assets set position = ? where id = ?`, [i + 1, id]);
  }

  /** Removes one asset; the photos after it close the gap. */
  async delete(em: EntityManager, a: AssetRow): Promise<void> {
    await em.execute(`delete from assets where id = ?`, [a.id]);
    if (a.kind === 'photo')
      await em.execute(
        `update assets set position = s.rn from (select id, row_number() over (order by position, id) as rn from assets where project_id = ? and kind = 'photo') s where assets.id = s.id`,
        [a.project_id],
      );
  }

  /** Sets (or with null clears) a photo's caption; null when the project has no such photo. */
  async setCaption(em: EntityManager, projectId: string, assetId: string, caption: string | null): Promise<AssetRow | null> {
    const rows = await em.execute<AssetRow[]>(`update assets set caption = ? where project_id = ? and id = ? and kind = 'photo' returning ${COLUMNS}`, [
      caption,
      projectId,
      assetId,
    ]);
    return rows[0] ?? null;
  }

  async setThumbnail(assetId: string, key: string): Promise<void> {
    await this.em().execute(`update assets set thumbnail_key = ? where id = ?`, [key, assetId]);
  }
}
