import type { MiddlewareHandler } from 'hono';
import { ApiError } from '../http-errors.js';
import { type Authenticate, type PrincipalEnv, principalMiddleware } from './principal.js';

/**
 * The /api/v1 paths that need no account: signing in (`/auth/*`) and capability links (`/shared*`,
 * whose key is the credential). Everything else under /api/v1 needs a session or an API key.
 */
export const isOpenApiPath = (path: string): boolean => path.startsWith('/api/v1/auth/') || path === '/api/v1/shared' || path.startsWith('/api/v1/shared/');

/**
 * principalMiddleware, except on the open paths, where the principal is null: a stale cookie or a
 * revoked key in the browser must not stop anyone from signing in again.
 */
export function principalUnlessOpen(authenticate: Authenticate): MiddlewareHandler<PrincipalEnv> {
  const find = principalMiddleware(authenticate);
  return async (c, next) => {
    if (!isOpenApiPath(c.req.path)) return find(c, next);
    c.set('principal', null);
    await next();
  };
}

/** 401 `unauthenticated` for a request without a credential on any path that is not open. */
export function requireCredential(): MiddlewareHandler<PrincipalEnv> {
  return async (c, next) => {
    if (!c.var.principal && !isOpenApiPath(c.req.path)) {
      throw new ApiError('unauthenticated', 'Sign in first, or send an API key as "Authorization: Bearer <key>".');
    }
    await next();
  };
}
