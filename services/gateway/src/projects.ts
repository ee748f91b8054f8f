import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import type { Asset, CreateProjectRequest, Project, ProjectStatus } from '@mt/contracts';
import { ApiError, notFound } from './http-errors.js';
import { decodeCursor, encodeCursor } from './jobs.js';
import { randomUUID } from 'node:crypto';

export interface ProjectRecord {
  id: string;
  title: string;
  subject_name: string | null;
  born: string | null;
  died: string | null;
  status: ProjectStatus;
  transition_seconds: 6 | 10;
  transition_style: 'auto' | 'generative' | 'classic';
  resolution: '720p' | '1080p';
  fps: 24 | 25 | 30;
  video: { job_id: string; url: string; poster_url?: string; duration_seconds: number; size_bytes: number; video_key: string; poster_key: string } | null;
  created_at: Date;
  updated_at: Date;
  photo_count: number;
  active_job_id: string | null;
}

export interface AssetRecord {
  id: string;
  project_id: string;
  kind: 'photo' | 'audio';
  filename: string;
  content_type: string;
  size_bytes: string | number;
  sha256: string;
  width: number | null;
  height: number | null;
  duration_seconds: number | null;
  position: number | null;
  object_key: string;
  created_at: Date;
}

const SELECT_PROJECT = `select p.*,
  (select count(*)::int from assets a where a.project_id = p.id and a.kind = 'photo') as photo_count,
  (select j.id from jobs j where j.project_id = p.id and j.parent_job_id is null and j.status in ('queued','running') limit 1) as active_job_id
  from projects p`;

export function projectDto(p: ProjectRecord): Project {
  return {
    id: p.id,
    title: p.title,
    subject_name: p.subject_name,
    born: p.born,
    died: p.died,
    status: p.status,
    settings: { transition_seconds: p.transition_seconds, transition_style: p.transition_style, resolution: p.resolution, fps: p.fps },
    photo_count: p.photo_count,
    active_job_id: p.active_job_id,
    video: p.video
      ? { job_id: p.video.job_id, url: p.video.url, poster_url: p.video.poster_url ?? null, duration_seconds: p.video.duration_seconds, size_bytes: p.video.size_bytes }
      : null,
    created_at: new Date(p.created_at).toISOString(),
    updated_at: new Date(p.updated_at).toISOString(),
  };
}

export function assetDto(a: AssetRecord): Asset {
  return {
    id: a.id,
    project_id: a.project_id,
    kind: a.kind,
    filename: a.filename,
    content_type: a.content_type,
    size_bytes: Number(a.size_bytes),
    sha256: a.sha256,
    width: a.width,
    height: a.height,
    duration_seconds: a.duration_seconds === null ? null : Number(a.duration_seconds),
    position: a.position,
    created_at: new Date(a.created_at).toISOString(),
  };
}

/** Projects and their assets. */
export class ProjectStore {
  constructor(private readonly orm: MikroORM) {}

  em(): EntityManager {
    return this.orm.em.fork();
  }

  async create(req: CreateProjectRequest): Promise<Project> {
    const id = randomUUID();
    await this.em().execute(
      `insert into projects (id, title, subject_name, born, died, transition_seconds, transition_style, resolution, fps)
       values (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [id, req.title, req.subject_name ?? null, req.born ?? null, req.died ?? null, req.transition_seconds, req.transition_style, req.resolution, req.fps],
    );
    return projectDto(await this.get(id));
  }

  async find(id: string, em = this.em()): Promise<ProjectRecord | null> {
    const rows = await em.execute<ProjectRecord[]>(`${SELECT_PROJECT} where p.id = ?`, [id]);
    return rows[0] ?? null;
  }

  async get(id: string, em = this.em()): Promise<ProjectRecord> {
    const p = await this.find(id, em);
    if (!p) throw notFound('Project', id);
    return p;
  }

  async list(limit: number, cursor?: string): Promise<{ items: Project[]; next_cursor: string | null }> {
    const cur = decodeCursor(cursor);
    const rows = await this.em().execute<ProjectRecord[]>(
      `${SELECT_PROJECT} ${cur ? 'where (p.created_at, p.id) < (?::timestamptz, ?)' : ''} order by p.created_at desc, p.id desc limit ?`,
      cur ? [cur.t, cur.id, limit + 1] : [limit + 1],
    );
    const items = rows.slice(0, limit);
    const last = items.at(-1);
    return { items: items.map(projectDto), next_cursor: rows.length > limit && last ? encodeCursor(last.created_at, last.id) : null };
  }

  async assets(projectId: string, em = this.em()): Promise<AssetRecord[]> {
    return em.execute<AssetRecord[]>(
      `select * from assets where project_id = ? order by kind desc, position nulls last, created_at, id`,
      [projectId],
    );
  }

  async photos(projectId: string, em = this.em()): Promise<AssetRecord[]> {
    return em.execute<AssetRecord[]>(`select * from assets where project_id = ? and kind = 'photo' order by position, id`, [projectId]);
  }

  /** The project's music: the latest audio upload. */
  async music(projectId: string, em = this.em()): Promise<AssetRecord | null> {
    const rows = await em.execute<AssetRecord[]>(
      `select * from assets where project_id = ? and kind = 'audio' order by created_at desc, id desc limit 1`,
      [projectId],
    );
    return rows[0] ?? null;
  }

  async asset(projectId: string, assetId: string, em = this.em()): Promise<AssetRecord> {
    const rows = await em.execute<AssetRecord[]>(`select * from assets where project_id = ? and id = ?`, [projectId, assetId]);
    if (!rows[0]) throw notFound('Asset', assetId);
    return rows[0];
  }

  /** Sets the photo order; the ids must be every photo of the project, once each. */
  async reorder(projectId: string, ids: string[]): Promise<AssetRecord[]> {
    const em = this.em();
    await em.transactional(async (tem) => {
      await this.assertIdle(projectId, tem);
      const photos = await tem.execute<{ id: string }[]>(`select id from assets where project_id = ? and kind = 'photo' for update`, [projectId]);
      const have = new Set(photos.map((p) => p.id));
      const given = new Set(ids);
      if (given.size !== ids.length) throw new ApiError('validation_failed', 'asset_ids: an id appears more than once', { field: 'asset_ids' });
      const unknown = ids.filter((i) => !have.has(i));
      const missing = [...have].filter((i) => !given.has(i));
      if (unknown.length || missing.length)
        throw new ApiError('validation_failed', 'asset_ids: list every photo of this memorial exactly once', { field: 'asset_ids', unknown, missing });
      for (const [i, id] of ids.entries()) await tem.execute(`update assets set position = ? where id = ?`, [i + 1, id]);
      await tem.execute(`update projects set updated_at = now() where id = ?`, [projectId]);
    });
    return this.photos(projectId);
  }

  /** 409 while a job is running for the project: its inputs must not change under it. */
  async assertIdle(projectId: string, em = this.em()): Promise<void> {
    const p = await this.get(projectId, em);
    if (p.active_job_id)
      throw new ApiError('project_busy', 'This memorial is being made right now. Wait for it to finish or cancel it first.', { active_job_id: p.active_job_id });
  }

  async deleteAsset(projectId: string, assetId: string): Promise<AssetRecord> {
    return this.em().transactional(async (em) => {
      await this.assertIdle(projectId, em);
      const a = await this.asset(projectId, assetId, em);
      await em.execute(`delete from assets where id = ?`, [assetId]);
      if (a.kind === 'photo')
        await em.execute(
          `update assets set position = s.rn from (select id, row_number() over (order by position, id) as rn from assets where project_id = ? and kind = 'photo') s where assets.id = s.id`,
          [projectId],
        );
      return a;
    });
  }
}
