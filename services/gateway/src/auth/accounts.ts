import type { Account, ApiKey, CreatedApiKey } from '@mt/contracts';
import { isAPIError } from 'better-auth/api';
import { ApiError, notFound } from '../http-errors.js';
import type { MtAuth, StoredApiKey } from './better-auth.js';
import type { Principal } from './principal.js';
import { AttemptLimiter, type SignInLimits } from './rate-limit.js';

/** Our session cookie: better-auth's signed session token, under a name and attributes we choose. */
export const SESSION_COOKIE = 'mt_session';

const unauthenticated = (message: string) => new ApiError('unauthenticated', message);
const accountsUnreachable = () =>
  new ApiError('dependency_unavailable', 'Your sign-in could not be checked: the database is not reachable right now. Please try again in a moment.');

/** Why a code was refused, in words a person can act on; every reason is 401 unauthenticated. */
const CODE_REFUSED: Record<string, string> = {
  OTP_EXPIRED: 'That code has expired (a code lasts 15 minutes). Ask for a new one.',
  TOO_MANY_ATTEMPTS: 'That code was tried too many times and no longer works. Ask for a new one.',
};
const codeRefused = (reason: string | undefined) =>
  unauthenticated(CODE_REFUSED[reason ?? ''] ?? 'That code is not right, or it was already used. Check the mail or ask for a new code.');

const accountOf = (u: { id: string; email: string; name?: string | null }): Account => ({ id: u.id, email: u.email, name: u.name ?? '' });

const keyDto = (k: StoredApiKey): ApiKey => ({
  id: k.id,
  name: k.name ?? null,
  start: k.start ?? null,
  created_at: new Date(k.createdAt).toISOString(),
  last_used_at: k.lastRequest ? new Date(k.lastRequest).toISOString() : null,
});

/** The value of one cookie among Set-Cookie headers, as sent (still URL-encoded). */
const cookieValue = (setCookies: string[], name: string): string | null => {
  for (const line of setCookies) {
    const [pair] = line.split(';');
    const eq = pair!.indexOf('=');
    if (pair!.slice(0, eq).trim() === name) return pair!.slice(eq + 1).trim();
  }
  return null;
};

/** A cookie's value from a Cookie header, as sent. */
export const requestCookie = (headers: Headers, name: string): string | null => {
  for (const part of (headers.get('cookie') ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
};

/**
 * Accounts, sign-in, sessions and API keys: what the auth routes and `authenticate` use. Backed by
 * better-auth (auth/better-auth.ts), which keeps only hashes of codes and keys.
 */
export class Accounts {
  readonly limits: AttemptLimiter;

  constructor(
    private readonly ba: MtAuth,
    limits?: SignInLimits,
  ) {
    this.limits = new AttemptLimiter(limits);
  }

  /** Sends a 6-digit code and a link to the address (made into an account when it is verified). */
  async sendCode(email: string): Promise<void> {
    await this.ba.auth.api.sendVerificationOTP({ body: { email, type: 'sign-in' } });
  }

  /** The account (made now if it is new) and a session for a right code; 401 for any other. */
  async verifyCode(email: string, code: string): Promise<{ account: Account; session: string }> {
    let res: Response;
    try {
      res = await this.ba.auth.api.signInEmailOTP({ body: { email, otp: code }, asResponse: true });
    } catch (e) {
      if (isAPIError(e) && e.status !== 'INTERNAL_SERVER_ERROR') throw codeRefused((e.body as { code?: string } | undefined)?.code);
      throw e;
    }
    const body = (await res.json().catch(() => null)) as { code?: string; user?: { id: string; email: string; name: string } } | null;
    if (res.status >= 500) throw new Error(`sign-in failed: ${res.status}`);
    if (!res.ok || !body?.user) throw codeRefused(body?.code);
    const session = cookieValue(res.headers.getSetCookie(), (await this.ba.auth.$context).authCookies.sessionToken.name);
    if (!session) throw new Error('better-auth signed in without a session cookie');
    return { account: accountOf(body.user), session };
  }

  /** Ends the session of this cookie value (nothing happens for an unknown one). */
  async endSession(session: string): Promise<void> {
    await this.ba.auth.api.signOut({ headers: await this.asAuthCookie(session) }).catch((e: unknown) => {
      if (!isAPIError(e)) throw e;
    });
  }

  /** The caller: by API key (`Authorization: Bearer`) or session cookie; null with neither. */
  authenticate = async (headers: Headers): Promise<Principal | null> => {
    const authorization = headers.get('authorization');
    if (authorization !== null) return this.byApiKey(authorization);
    const session = requestCookie(headers, SESSION_COOKIE);
    if (session === null) return null;
    const found = await this.ba.auth.api.getSession({ headers: await this.asAuthCookie(session) }).catch((e: unknown) => {
      if (isAPIError(e)) return null;
      throw e;
    });
    if (!found) throw await this.refused('Your session has ended. Sign in again.');
    return { accountId: found.user.id, email: found.user.email, via: 'session' };
  };

  /**
   * A credential that did not check out: 401, unless the database is down — better-auth answers a
   * failed lookup like an unknown key or session, and a family must not be told their key is wrong
   * during an outage (503 instead, which clients wait through).
   */
  private async refused(message: string): Promise<ApiError> {
    const up = await this.ba.ping().then(
      () => true,
      () => false,
    );
    return up ? unauthenticated(message) : accountsUnreachable();
  }

  private async byApiKey(authorization: string): Promise<Principal> {
    const key = /^Bearer +(\S+)$/i.exec(authorization.trim())?.[1];
    if (!key) throw unauthenticated('The Authorization header must be "Bearer <API key>".');
    const verified = await this.ba.keys.verifyApiKey({ body: { key } }).catch((e: unknown) => {
      if (isAPIError(e)) return null;
      throw e;
    });
    if (!verified?.valid || !verified.key) throw await this.refused('This API key is not valid: it is unknown or was revoked.');
    const user = await (await this.ba.auth.$context).internalAdapter.findUserById(verified.key.referenceId);
    if (!user) throw unauthenticated('This API key is not valid: its account no longer exists.');
    return { accountId: user.id, email: user.email, via: 'api_key' };
  }

  async account(accountId: string): Promise<Account> {
    const user = await (await this.ba.auth.$context).internalAdapter.findUserById(accountId);
    if (!user) throw unauthenticated('This account no longer exists.');
    return accountOf(user);
  }

  /** The account of this address, made now if there is none (an operator's `./mt api-key create`). */
  async ensureAccount(email: string, name = ''): Promise<Account> {
    const ctx = await this.ba.auth.$context;
    const found = await ctx.internalAdapter.findUserByEmail(email);
    if (found) return accountOf(found.user);
    return accountOf(await ctx.internalAdapter.createUser({ email, name, emailVerified: false }, { method: 'admin' }));
  }

  async listKeys(accountId: string): Promise<ApiKey[]> {
    const ctx = await this.ba.auth.$context;
    const rows = await ctx.adapter.findMany<StoredApiKey>({
      model: 'apikey',
      where: [{ field: 'referenceId', value: accountId }],
      sortBy: { field: 'createdAt', direction: 'desc' },
    });
    return rows.map(keyDto);
  }

  /** A new key: shown in this answer only; better-auth stores its hash. */
  async createKey(accountId: string, name?: string): Promise<CreatedApiKey> {
    const made = await this.ba.keys.createApiKey({ body: { userId: accountId, ...(name ? { name } : {}) } });
    return { ...keyDto(made), key: made.key };
  }

  /** Revokes one of the account's keys at once; another account's key is 404 like a missing one. */
  async revokeKey(accountId: string, keyId: string): Promise<void> {
    const ctx = await this.ba.auth.$context;
    const row = await ctx.adapter.findOne<StoredApiKey>({ model: 'apikey', where: [{ field: 'id', value: keyId }] });
    if (!row || row.referenceId !== accountId) throw notFound('API key', keyId);
    await ctx.adapter.delete({ model: 'apikey', where: [{ field: 'id', value: keyId }] });
  }

  /** better-auth's own session cookie for a value of ours, as its getSession and signOut read it. */
  private async asAuthCookie(session: string): Promise<Headers> {
    return new Headers({ cookie: `${(await this.ba.auth.$context).authCookies.sessionToken.name}=${session}` });
  }
}

/** The accounts of a gateway built without them (some unit tests): every use is 503. */
export const accountsUnavailable = new Proxy(
  {},
  {
    get: () => async () => {
      throw new ApiError('dependency_unavailable', 'Accounts are not set up on this gateway.');
    },
  },
) as Accounts;
