import { getConnInfo } from '@hono/node-server/conninfo';
import { createRoute } from '@hono/zod-openapi';
import { AccountResponse, SignInRequest, SignInStarted, VerifyRequest } from '@mt/contracts';
import type { Context } from 'hono';
import { deleteCookie, setCookie } from 'hono/cookie';
import { requestCookie, SESSION_COOKIE } from '../auth/accounts.js';
import { CODE_MINUTES, SESSION_SECONDS } from '../auth/better-auth.js';
import { ApiError } from '../http-errors.js';
import type { RouteDeps } from './deps.js';
import { body, errors, json, newRoutes } from './openapi.js';

const tags = ['accounts'];
/** Signing in needs no credential: these operations override the document's default security. */
const open: [] = [];

/** The peer's address, for per-IP limits (in-process requests have none). */
const clientIp = (c: Context): string => {
  try {
    return getConnInfo(c).remote.address ?? 'unknown';
  } catch {
    return 'unknown';
  }
};

/** Secure cookies over HTTPS, also behind a proxy that ends TLS and says so. */
const isHttps = (c: Context) => new URL(c.req.url).protocol === 'https:' || c.req.header('x-forwarded-proto')?.split(',')[0]?.trim() === 'https';

/** The 429 of the limited operations, with its Retry-After header. */
const limited = () => {
  const e = errors(429)[429]!;
  return { 429: { ...e, headers: { 'Retry-After': { description: 'Seconds to wait before trying again', schema: { type: 'integer' as const } } } } };
};

/** 429 with Retry-After (the header set here stays on the error answer that onError makes). */
const tooManyAttempts = (c: Context, seconds: number): never => {
  c.header('Retry-After', String(seconds));
  throw new ApiError('rate_limited', `Too many attempts. Try again in ${Math.ceil(seconds / 60)} minute(s).`, { retry_after_seconds: seconds });
};

/** Passwordless sign-in by email (a 6-digit code or its link), the session cookie, sign-out, me. */
export function authRoutes(d: RouteDeps) {
  const api = newRoutes();
  // The two credentials of API.md, named by the document's default `security` (app.ts).
  api.openAPIRegistry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
    description: 'An API key: `Authorization: Bearer <key>` (`./mt api-key create`, or POST /api/v1/api-keys)',
  });
  api.openAPIRegistry.registerComponent('securitySchemes', 'session', {
    type: 'apiKey',
    in: 'cookie',
    name: SESSION_COOKIE,
    description: 'The session cookie set by POST /api/v1/auth/verify',
  });

  api.openapi(
    createRoute({
      method: 'post',
      path: '/auth/sign-in',
      tags,
      operationId: 'signIn',
      summary: 'Send a sign-in code and link by email',
      description: 'The same answer whether or not an account exists for the address. The code lasts 15 minutes and works once.',
      security: open,
      request: { body: body(SignInRequest) },
      responses: { 202: json(SignInStarted, 'A code is on its way'), ...errors(422, 503), ...limited() },
    }),
    async (c) => {
      const { email } = c.req.valid('json');
      const wait = await d.accounts.limits.consume('sign-in', email, clientIp(c));
      if (wait) tooManyAttempts(c, wait);
      await d.accounts.sendCode(email);
      return c.json({ email, expires_in_seconds: CODE_MINUTES * 60 }, 202);
    },
  );
  api.openapi(
    createRoute({
      method: 'post',
      path: '/auth/verify',
      tags,
      operationId: 'verifySignIn',
      summary: 'Sign in with the code: sets the session cookie',
      security: open,
      request: { body: body(VerifyRequest) },
      responses: { 200: json(AccountResponse, 'Signed in (Set-Cookie: mt_session)'), ...errors(401, 422, 503), ...limited() },
    }),
    async (c) => {
      const { email, code } = c.req.valid('json');
      const wait = await d.accounts.limits.consume('verify', email, clientIp(c));
      if (wait) tooManyAttempts(c, wait);
      const { account, session } = await d.accounts.verifyCode(email, code);
      setCookie(c, SESSION_COOKIE, decodeURIComponent(session), { path: '/', httpOnly: true, sameSite: 'Lax', secure: isHttps(c), maxAge: SESSION_SECONDS });
      return c.json({ account }, 200);
    },
  );
  api.openapi(
    createRoute({
      method: 'post',
      path: '/auth/sign-out',
      tags,
      operationId: 'signOut',
      summary: 'End this session and clear its cookie',
      security: open,
      responses: { 204: { description: 'Signed out (also when there was no session)' }, ...errors(503) },
    }),
    async (c) => {
      const session = requestCookie(c.req.raw.headers, SESSION_COOKIE);
      if (session) await d.accounts.endSession(session);
      deleteCookie(c, SESSION_COOKIE, { path: '/', httpOnly: true, sameSite: 'Lax', secure: isHttps(c) });
      return c.body(null, 204);
    },
  );
  api.openapi(
    createRoute({
      method: 'get',
      path: '/me',
      tags,
      operationId: 'getMe',
      summary: 'The signed-in account',
      responses: { 200: json(AccountResponse, 'The account of this session or API key'), ...errors(401) },
    }),
    async (c) => {
      const principal = c.var.principal;
      if (!principal) throw new ApiError('unauthenticated', 'Sign in first.');
      return c.json({ account: await d.accounts.account(principal.accountId) }, 200);
    },
  );
  return api;
}
