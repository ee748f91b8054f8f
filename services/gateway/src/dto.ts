import type { Asset, Job, Member, Project, Runtime, ShareLink } from '@mt/contracts';
import type { AssetRow, JobView, MemberRow, ProjectView, ShareLinkRow } from './db/index.js';

// Rows → the REST shapes of API.md, in one place.

const iso = (d: Date | string | null): string | null => (d === null ? null : new Date(d).toISOString());

export const thumbnailUrl = (projectId: string, assetId: string) => `/api/v1/projects/${projectId}/assets/${assetId}/thumbnail`;

export function projectDto(p: ProjectView): Project {
  return {
    id: p.id,
    title: p.title,
    subject_name: p.subject_name ?? null,
    born: p.born ?? null,
    died: p.died ?? null,
    status: p.status,
    settings: {
      transition_seconds: p.transition_seconds as 6 | 10,
      transition_style: p.transition_style as Project['settings']['transition_style'],
      resolution: p.resolution as Project['settings']['resolution'],
      fps: p.fps as 24 | 25 | 30,
      caption_style: p.caption_style === 'off' ? 'off' : 'lower_third',
    },
    photo_count: p.photo_count,
    active_job_id: p.active_job_id,
    video: p.video
      ? {
          job_id: p.video.job_id,
          url: p.video.url,
          poster_url: p.video.poster_url ?? null,
          duration_seconds: p.video.duration_seconds,
          size_bytes: p.video.size_bytes,
        }
      : null,
    cover_url: p.cover_asset_id ? thumbnailUrl(p.id, p.cover_asset_id) : null,
    preview: p.preview
      ? { job_id: p.preview.job_id, url: `/api/v1/projects/${p.id}/preview`, duration_seconds: p.preview.duration_seconds, size_bytes: p.preview.size_bytes }
      : null,
    created_at: iso(p.created_at)!,
    updated_at: iso(p.updated_at)!,
  };
}

export function assetDto(a: AssetRow): Asset {
  return {
    id: a.id,
    project_id: a.project_id,
    kind: a.kind,
    filename: a.filename,
    content_type: a.content_type,
    size_bytes: Number(a.size_bytes),
    sha256: a.sha256,
    width: a.width ?? null,
    height: a.height ?? null,
    duration_seconds: a.duration_seconds == null ? null : Number(a.duration_seconds),
    position: a.position ?? null,
    thumbnail_url: a.kind === 'photo' ? thumbnailUrl(a.project_id, a.id) : null,
    contributor_name: a.contributor_name ?? null,
    review: a.review ?? 'approved',
    caption: a.caption ?? null,
    created_at: iso(a.created_at)!,
  };
}

export function runtimeDto(j: JobView): Runtime {
  return {
    job_id: j.id,
    stage: j.r_stage,
    progress_percent: Math.round(Number(j.r_progress) * 10) / 10,
    detail_message: j.r_detail ?? null,
    cancel_requested: j.r_cancel,
    updated_at: iso(j.r_updated_at)!,
    stages: (j.r_timings ?? []).map((s) => ({ ...s })),
  };
}

export function jobDto(j: JobView): Job {
  return {
    id: j.id,
    type: j.type,
    status: j.status,
    project_id: j.project_id ?? null,
    parent_job_id: j.parent_job_id ?? null,
    trace_id: j.trace_id,
    params: j.params ?? {},
    result: j.result ?? null,
    error: j.error ? { code: j.error.code, message: j.error.message, stage: j.error.stage ?? null } : null,
    created_at: iso(j.created_at)!,
    started_at: iso(j.started_at ?? null),
    finished_at: iso(j.finished_at ?? null),
    runtime: runtimeDto(j),
  };
}

export function memberDto(m: MemberRow): Member {
  return { account_id: m.account_id, email: m.email, name: m.name, role: m.role, created_at: iso(m.created_at)! };
}

/** A share link as members see it: never its key or password. */
export function shareLinkDto(l: ShareLinkRow): ShareLink {
  return {
    id: l.id,
    kind: l.kind,
    label: l.label ?? null,
    expires_at: iso(l.expires_at),
    allow_download: l.allow_download,
    moderated: l.moderated,
    has_password: l.password_hash !== null,
    created_at: iso(l.created_at)!,
    last_used_at: iso(l.last_used_at),
    use_count: Number(l.use_count),
  };
}
