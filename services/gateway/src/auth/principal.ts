import type { MiddlewareHandler } from 'hono';

/** Who is asking: an account, signed in on the family page (session cookie) or by an API key. */
export interface Principal {
  accountId: string;
  email: string;
  via: 'session' | 'api_key';
}

/**
 * Finds the principal of a request from its headers (cookie or `Authorization: Bearer`): null when
 * there is no credential; throws `ApiError('unauthenticated')` when there is one and it is not good.
 */
export type Authenticate = (headers: Headers) => Promise<Principal | null>;

export type PrincipalEnv = { Variables: { principal: Principal | null } };

/** Nobody: the authentication of a gateway built without accounts (some unit tests). */
export const anonymous: Authenticate = async () => null;

/** Puts the request's principal where access and the routes find it: `c.var.principal`. */
export function principalMiddleware(authenticate: Authenticate): MiddlewareHandler<PrincipalEnv> {
  return async (c, next) => {
    c.set('principal', await authenticate(c.req.raw.headers));
    await next();
  };
}
