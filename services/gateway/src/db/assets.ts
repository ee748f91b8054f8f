import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import type { AssetRow } from './entities.js';

// bigint comes back from the driver as a string; the row type says number, so it is cast in SQL.
const COLUMNS = `id, project_id, kind, filename, content_type, size_bytes::float8 as size_bytes, sha256, width, height,
  duration_seconds, position, object_key, thumbnail_key, created_at`;

export type NewAsset = Omit<AssetRow, 'position' | 'created_at'>;

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

  async photos(projectId: string, em = this.em()): Promise<AssetRow[]> {
    return em.execute<AssetRow[]>(`select ${COLUMNS} from assets where project_id = ? and kind = 'photo' order by position, id`, [projectId]);
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
        `insert into assets (id, project_id, kind, filename, content_type, size_bytes, sha256, width, height, duration_seconds, position, object_key, thumbnail_key)
         values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?,
           case when ? = 'photo' then (select coalesce(max(position), 0) + 1 from assets where project_id = ? and kind = 'photo') end, ?, ?)
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

  async setThumbnail(assetId: string, key: string): Promise<void> {
    await this.em().execute(`update assets set thumbnail_key = ? where id = ?`, [key, assetId]);
  }
}
