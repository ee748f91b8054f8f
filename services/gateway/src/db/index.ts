import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import { AssetRepo } from './assets.js';
import { JobEventRepo } from './job-events.js';
import { JobRepo, type NewJob } from './jobs.js';
import { LinkRepo } from './links.js';
import { MemberRepo } from './members.js';
import { OutboxRepo } from './outbox.js';
import { ProjectRepo } from './projects.js';
import { WebhookRepo } from './webhooks.js';

export type { NewAsset } from './assets.js';
export type { AssetRow, JobRow, OutboxRow, ProjectRow, StageTiming } from './entities.js';
export type { ClipSettings, JobListQuery, JobScope, JobView, NewJob } from './jobs.js';
export type { NewShareLink, ShareLinkRow } from './links.js';
export type { MemberRow } from './members.js';
export type { OutboxMessage } from './outbox.js';
export type { ProjectScope, ProjectView } from './projects.js';
export type { ClaimedDelivery, DeliveryRow, WebhookRow } from './webhooks.js';
export { enqueueWebhookEvent, WebhookRepo } from './webhooks.js';
export { AssetRepo, JobEventRepo, JobRepo, LinkRepo, MemberRepo, OutboxRepo, ProjectRepo };

/** One repository per table; nothing else in the gateway writes SQL. */
export interface Repositories {
  orm: MikroORM;
  projects: ProjectRepo;
  assets: AssetRepo;
  jobs: JobRepo;
  events: JobEventRepo;
  outbox: OutboxRepo;
  members: MemberRepo;
  webhooks: WebhookRepo;
  links: LinkRepo;
}

export function createRepositories(orm: MikroORM): Repositories {
  return {
    orm,
    projects: new ProjectRepo(orm),
    assets: new AssetRepo(orm),
    jobs: new JobRepo(orm),
    events: new JobEventRepo(),
    outbox: new OutboxRepo(orm),
    members: new MemberRepo(orm),
    webhooks: new WebhookRepo(orm),
    links: new LinkRepo(orm),
  };
}

/** Runs `fn` in one transaction: every row and outbox message it writes commits together or not at all. */
export function transaction<T>(repos: Repositories, fn: (em: EntityManager) => Promise<T>): Promise<T> {
  return repos.orm.em.fork().transactional(fn);
}

/** Writes a job and its command in the caller's transaction; the relay publishes it after commit. */
export async function enqueueJob(repos: Repositories, em: EntityManager, j: NewJob): Promise<string> {
  const command = await repos.jobs.insert(em, j);
  await repos.outbox.add(em, { kind: 'command', body: command });
  return command.job_id;
}
