import { randomUUID } from 'node:crypto';
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import type { CreateProjectRequest, ProjectStatus } from '@mt/contracts';
import { decodeCursor, page } from './cursor.js';
import type { ProjectRow } from './entities.js';

/** A project row with what the API shows beside it, computed in the same query. */
export type ProjectView = ProjectRow & {
  photo_count: number;
  active_job_id: string | null;
  /** The first approved photo in order (a relative's pending photo is never the cover), whose thumbnail is the project's cover. */
  cover_asset_id: string | null;
  /** The latest succeeded draft preview: its pipeline, its render's video and how long and large it is. */
  preview: ProjectPreview | null;
};

export interface ProjectPreview {
  job_id: string;
  render_job_id: string;
  video_key: string;
  duration_seconds: number;
  size_bytes: number;
}

/** Which projects a caller's list shows: those the account is a member of. */
export type ProjectScope = { accountId: string };

const SELECT_PROJECT = `select p.*,
  (select count(*)::int from assets a where a.project_id = p.id and a.kind = 'photo') as photo_count,
  (select j.id from jobs j where j.project_id = p.id and j.parent_job_id is null and j.status in ('queued','running') limit 1) as active_job_id,
  (select a.id from assets a where a.project_id = p.id and a.kind = 'photo' and a.review = 'approved' order by a.position, a.id limit 1) as cover_asset_id,
  (select jsonb_build_object('job_id', j.id, 'render_job_id', r.id, 'video_key', r.result->>'video_key',
      'duration_seconds', (r.result->>'duration_seconds')::float8, 'size_bytes', (r.result->>'size_bytes')::bigint)
    from jobs j join jobs r on r.parent_job_id = j.id and r.type = 'render' and r.status = 'succeeded'
    where j.project_id = p.id and j.type = 'pipeline' and j.status = 'succeeded' and j.parent_job_id is null and j.params->>'draft' = 'true'
    order by j.finished_at desc, j.id desc limit 1) as preview
  from projects p`;

/** The `projects` table: the only module that writes SQL for it. */
export class ProjectRepo {
  constructor(private readonly orm: MikroORM) {}

  em(): EntityManager {
    return this.orm.em.fork();
  }

  /** Writes the memorial and its owner's membership in one statement: no memorial is ever without an owner. */
  async create(
    req: Omit<CreateProjectRequest, 'caption_style'> & Partial<Pick<CreateProjectRequest, 'caption_style'>>,
    ownerAccountId: string,
  ): Promise<string> {
    const id = randomUUID();
    await this.em().execute(
      `with p as (
         insert into projects (id, title, subject_name, born, died, transition_seconds, transition_style, resolution, fps, caption_style)
         values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) returning id)
       insert into project_members (project_id, account_id, role) select id, ?, 'owner' from p`,
      [
        id,
        req.title,
        req.subject_name ?? null,
        req.born ?? null,
        req.died ?? null,
        req.transition_seconds,
        req.transition_style,
        req.resolution,
        req.fps,
        req.caption_style ?? 'lower_third',
        ownerAccountId,
      ],
    );
    return id;
  }

  async find(id: string, em = this.em()): Promise<ProjectView | null> {
    const rows = await em.execute<ProjectView[]>(`${SELECT_PROJECT} where p.id = ?`, [id]);
    return rows[0] ?? null;
  }

  async list(scope: ProjectScope, limit: number, cursor?: string): Promise<{ items: ProjectView[]; next_cursor: string | null }> {
    const cur = decodeCursor(cursor);
    const rows = await this.em().execute<ProjectView[]>(
      `${SELECT_PROJECT} where exists (select 1 from project_members m where m.project_id = p.id and m.account_id = ?)
       ${cur ? 'and (p.created_at, p.id) < (?::timestamptz, ?)' : ''} order by p.created_at desc, p.id desc limit ?`,
      cur ? [scope.accountId, cur.t, cur.id, limit + 1] : [scope.accountId, limit + 1],
    );
    return page(rows, limit);
  }

  /** Deletes the memorial; its members, assets, jobs, runtimes and events go with it (foreign keys cascade). */
  async delete(em: EntityManager, id: string): Promise<void> {
    await em.execute(`delete from projects where id = ?`, [id]);
  }

  /** Holds the project's row until the transaction ends: uploads and order changes queue behind it. */
  async lock(em: EntityManager, id: string): Promise<void> {
    await em.execute(`select id from projects where id = ? for update`, [id]);
  }

  /** Issue 13: how the memorial's photo captions are shown. */
  async setCaptionStyle(em: EntityManager, id: string, style: 'lower_third' | 'off'): Promise<void> {
    await em.execute(`update projects set caption_style = ?, updated_at = now() where id = ?`, [style, id]);
  }

  async touch(em: EntityManager, id: string): Promise<void> {
    await em.execute(`update projects set updated_at = now() where id = ?`, [id]);
  }

  async setStatus(em: EntityManager, id: string, status: ProjectStatus): Promise<void> {
    await em.execute(`update projects set status = ?, updated_at = now() where id = ?`, [status, id]);
  }

  /** After a job that was not a run ends: back to what the project was (draft, or completed with its video). */
  async settle(em: EntityManager, id: string): Promise<void> {
    await em.execute(
      `update projects set status = case when video is null then 'draft' else 'completed' end, updated_at = now() where id = ? and status = 'running'`,
      [id],
    );
  }

  async setVideo(em: EntityManager, id: string, video: NonNullable<ProjectRow['video']>): Promise<void> {
    await em.execute(`update projects set video = ?::jsonb, updated_at = now() where id = ?`, [JSON.stringify(video), id]);
  }
}
