import type { MemberRole } from '@mt/contracts';
import type { Context, MiddlewareHandler } from 'hono';
import type { Principal, PrincipalEnv } from './auth/principal.js';
import type { AssetRow, JobScope, JobView, ProjectScope, ProjectView, Repositories } from './db/index.js';
import { ApiError, notFound } from './http-errors.js';

/**
 * What a request wants to do with a thing: read it, change it, or do what only its owner may
 * (delete the memorial, manage its organisers).
 */
export type Need = 'read' | 'write' | 'own';

/**
 * The one place where "may this caller do this?" is decided, made once per request. Routes ask it for
 * the things they touch and never check access themselves. Something the caller may not see answers
 * exactly like something that does not exist (404).
 */
export interface Access {
  /** The caller's account; 401 `unauthenticated` when nobody is signed in. */
  account(): Principal;
  project(id: string, need: Need): Promise<ProjectView>;
  asset(projectId: string, assetId: string, need: Need): Promise<{ project: ProjectView; asset: AssetRow }>;
  job(id: string, need: Need): Promise<JobView>;
  /** Which projects and jobs the caller's lists show. */
  projectScope(): ProjectScope;
  jobScope(): JobScope;
}

export type AccessPolicy = (c: Context<PrincipalEnv & AccessEnv>, repos: Repositories) => Access;

/** What each role may do on a memorial (API.md "Who may do what"). */
const ALLOWED: Record<MemberRole, readonly Need[]> = {
  owner: ['read', 'write', 'own'],
  organiser: ['read', 'write'],
};

/**
 * Members only: a memorial, its assets and jobs are reachable by its owner and organisers; a test job
 * (no memorial) by the account that made it. Anyone else gets the 404 a missing one gets, with the
 * same message (it names only the id they asked for). A member whose role does not allow the need
 * gets 403 `forbidden`: they may see the memorial, so saying so tells them nothing new.
 */
export const memberAccess: AccessPolicy = (c, repos) => {
  const account = (): Principal => {
    const p = c.var.principal;
    if (!p) throw new ApiError('unauthenticated', 'Sign in, or send an API key in Authorization: Bearer <key>.');
    return p;
  };
  const allow = (role: MemberRole, need: Need) => {
    if (!ALLOWED[role].includes(need))
      throw new ApiError('forbidden', "Only the memorial's owner may do this (delete it, or invite and remove organisers).", { role });
  };
  const project = async (id: string, need: Need) => {
    const { accountId } = account();
    const role = await repos.members.role(id, accountId);
    const p = role ? await repos.projects.find(id) : null;
    if (!role || !p) throw notFound('Project', id);
    allow(role, need);
    return p;
  };
  return {
    account,
    project,
    async asset(projectId, assetId, need) {
      const p = await project(projectId, need);
      const a = await repos.assets.find(projectId, assetId);
      if (!a) throw notFound('Asset', assetId);
      return { project: p, asset: a };
    },
    async job(id, need) {
      const { accountId } = account();
      const j = await repos.jobs.find(id);
      if (!j) throw notFound('Job', id);
      if (!j.project_id) {
        if (j.account_id !== accountId) throw notFound('Job', id);
        return j;
      }
      const role = await repos.members.role(j.project_id, accountId);
      if (!role) throw notFound('Job', id);
      allow(role, need);
      return j;
    },
    projectScope: () => ({ accountId: account().accountId }),
    jobScope: () => ({ accountId: account().accountId }),
  };
};

export type AccessEnv = { Variables: { access: Access } };

/** Puts the request's Access where every route finds it: `c.var.access`. */
export function accessMiddleware(policy: AccessPolicy, repos: Repositories): MiddlewareHandler<AccessEnv & PrincipalEnv> {
  return async (c, next) => {
    c.set('access', policy(c, repos));
    await next();
  };
}
