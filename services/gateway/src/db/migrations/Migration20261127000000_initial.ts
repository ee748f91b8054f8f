import { Migration } from '@mikro-orm/migrations';

export class Migration20261127000000_initial extends Migration {
  override name = 'Migration20261127000000_initial';

  override up(): void {
    this.addSql(`create table projects (
      id text primary key,
      title text not null,
      subject_name text,
      born text,
      died text,
      status text not null default 'draft' check (status in ('draft','running','completed','failed','canceled')),
      transition_seconds int not null check (transition_seconds in (6, 10)),
      transition_style text not null check (transition_style in ('auto','generative','classic')),
      resolution text not null check (resolution in ('720p','1080p')),
      fps int not null check (fps in (24, 25, 30)),
      video jsonb,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now())`);
    this.addSql(`create index projects_created on projects (created_at desc, id desc)`);

    this.addSql(`create table assets (
      id text primary key,
      project_id text not null references projects(id) on delete cascade,
      kind text not null check (kind in ('photo','audio')),
      filename text not null,
      content_type text not null,
      size_bytes bigint not null,
      sha256 text not null,
      width int,
      height int,
      duration_seconds double precision,
      position int,
      object_key text not null,
      created_at timestamptz not null default now())`);
    this.addSql(`create index assets_project_position on assets (project_id, kind, position)`);

    this.addSql(`create table jobs (
      id text primary key,
      type text not null check (type in ('test','canvas','transition','last_clip','render','pipeline')),
      status text not null check (status in ('queued','running','succeeded','failed','canceled')),
      project_id text references projects(id) on delete cascade,
      parent_job_id text references jobs(id) on delete cascade,
      step_key text,
      trace_id char(32) not null,
      params jsonb not null default '{}',
      payload jsonb not null default '{}',
      result jsonb,
      error jsonb,
      published_at timestamptz,
      created_at timestamptz not null default now(),
      started_at timestamptz,
      finished_at timestamptz,
      updated_at timestamptz not null default now())`);
    // The run guard: at most one active top-level job per project, enforced by the database so that
    // simultaneous run requests cannot both win.
    this.addSql(`create unique index jobs_one_active_per_project on jobs (project_id)
      where project_id is not null and parent_job_id is null and status in ('queued','running')`);
    // A pipeline creates each of its steps once, however often its coordinator runs.
    this.addSql(`create unique index jobs_parent_step on jobs (parent_job_id, step_key) where parent_job_id is not null`);
    this.addSql(`create index jobs_unpublished on jobs (created_at) where published_at is null`);
    this.addSql(`create index jobs_list on jobs (created_at desc, id desc)`);
    this.addSql(`create index jobs_project on jobs (project_id, type, status)`);
    this.addSql(`create index jobs_parent on jobs (parent_job_id)`);

    this.addSql(`create table job_runtimes (
      job_id text primary key references jobs(id) on delete cascade,
      stage text not null default 'queued',
      progress_percent double precision not null default 0 check (progress_percent between 0 and 100),
      detail_message text,
      cancel_requested boolean not null default false,
      stage_timings jsonb not null default '[]',
      updated_at timestamptz not null default now())`);

    this.addSql(`create table job_events (
      id bigserial primary key,
      event_id text not null unique,
      job_id text not null references jobs(id) on delete cascade,
      trace_id char(32) not null,
      kind text not null,
      stage text,
      progress_percent double precision,
      detail_message text,
      attempt int not null,
      service text not null,
      body jsonb not null,
      at timestamptz not null)`);
    this.addSql(`create index job_events_job on job_events (job_id, id)`);
  }

  override down(): void {
    this.addSql('drop table if exists job_events, job_runtimes, jobs, assets, projects cascade');
  }
}
