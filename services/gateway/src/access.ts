import type { Context, MiddlewareHandler } from 'hono';
import type { AssetRow, JobScope, JobView, ProjectScope, ProjectView, Repositories } from './db/index.js';
import { notFound } from './http-errors.js';

/** What a request wants to do with a thing: read it, or change it. */
export type Need = 'read' | 'write';

/**
 * The one place where "may this caller do this?" is decided, made once per request. Routes ask it for
 * the things they touch and never check access themselves. Something the caller may not see answers
 * exactly like something that does not exist (404). Today everyone may do everything; issue 10
 * (accounts, share links) fills this in.
 */
export interface Access {
  project(id: string, need: Need): Promise<ProjectView>;
  asset(projectId: string, assetId: string, need: Need): Promise<{ project: ProjectView; asset: AssetRow }>;
  job(id: string, need: Need): Promise<JobView>;
  /** Which projects and jobs the caller's lists show. */
  projectScope(): ProjectScope;
  jobScope(): JobScope;
}

export type AccessPolicy = (c: Context, repos: Repositories) => Access;

/** Everyone may: the policy until there are accounts. */
export const openAccess: AccessPolicy = (_c, repos) => {
  const project = async (id: string) => {
    const p = await repos.projects.find(id);
    if (!p) throw notFound('Project', id);
    return p;
  };
  return {
    project,
    async asset(projectId, assetId) {
      const p = await project(projectId);
      const a = await repos.assets.find(projectId, assetId);
      if (!a) throw notFound('Asset', assetId);
      return { project: p, asset: a };
    },
    async job(id) {
      const j = await repos.jobs.find(id);
      if (!j) throw notFound('Job', id);
      return j;
    },
    projectScope: () => ({ all: true }),
    jobScope: () => ({ all: true }),
  };
};

export type AccessEnv = { Variables: { access: Access } };

/** Puts the request's Access where every route finds it: `c.var.access`. */
export function accessMiddleware(policy: AccessPolicy, repos: Repositories): MiddlewareHandler<AccessEnv> {
  return async (c, next) => {
    c.set('access', policy(c, repos));
    await next();
  };
}
