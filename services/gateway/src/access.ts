import type { MemberRole } from '@mt/contracts';
import type { Context, MiddlewareHandler } from 'hono';
import type { Principal, PrincipalEnv } from './auth/principal.js';
import type { AssetRow, JobScope, JobView, ProjectScope, ProjectView, Repositories, ShareLinkRow } from './db/index.js';
import { ApiError, notFound } from './http-errors.js';
import { hashLinkKey, verifyLinkPassword } from './link-keys.js';

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

/** Who holds a share link: the link and its memorial. Reached only through /api/v1/shared* (routes/shared.ts). */
export interface LinkHolder {
  link: ShareLinkRow;
  project: ProjectView;
}

/** The credential of a link holder, from the request's headers. */
export interface LinkCredential {
  key: string | undefined;
  password: string | undefined;
}

/**
 * The link holder's access, decided here like a member's: the key must belong to a live link (an
 * unknown, revoked or expired key, or one of a memorial that is gone, is 404, the same answer for
 * each), then its password if it has one (401 `password_required`, missing or wrong). A link is a
 * credential for nothing but /api/v1/shared* and what its kind allows (`need`: 403 otherwise).
 * Each good use is counted.
 */
export async function linkAccess(repos: Repositories, cred: LinkCredential, need: 'view' | 'contribute' | 'any'): Promise<LinkHolder> {
  if (!cred.key) throw new ApiError('unauthenticated', 'Send the link’s key in the Mt-Link-Key header.');
  const gone = () => new ApiError('not_found', 'This link does not work: it may have been revoked, or it has expired.');
  // A real key is 43 characters; anything much longer is not one and is not worth hashing.
  if (cred.key.length > 128) throw gone();
  const link = await repos.links.findLive(hashLinkKey(cred.key));
  const project = link ? await repos.projects.find(link.project_id) : null;
  if (!link || !project) throw gone();
  if (link.password_hash) {
    if (!cred.password) throw new ApiError('password_required', 'This link has a password: send it in the Mt-Link-Password header.');
    if (cred.password.length > 200 || !(await verifyLinkPassword(cred.password, link.password_hash)))
      throw new ApiError('password_required', 'That password is not right for this link.', { wrong_password: true });
  }
  if (need !== 'any' && link.kind !== need)
    throw new ApiError(
      'forbidden',
      need === 'contribute' ? 'This link is for watching the memorial, not for adding photos.' : 'This link is for adding photos.',
    );
  await repos.links.used(link.id);
  return { link, project };
}
