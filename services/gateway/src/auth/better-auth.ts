import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { apiKey } from '@better-auth/api-key';
import type { Logger } from '@mt/platform';
import { type BetterAuthPlugin, betterAuth } from 'better-auth';
import { emailOTP } from 'better-auth/plugins';
import pg from 'pg';
import { pingPool } from '../db/database.js';
import type { SendSignInMail } from './mailer.js';

/** A sign-in code lives 15 minutes and dies after 5 wrong guesses (API.md). */
export const CODE_MINUTES = 15;
export const CODE_ATTEMPTS = 5;
/** How long a session lasts; used sessions are extended once a day. */
export const SESSION_SECONDS = 30 * 24 * 60 * 60;
/** Our API keys say what they are, so a leaked one is recognised (secret scanners, logs). */
export const API_KEY_PREFIX = 'mt_';

export interface BetterAuthOptions {
  databaseUrl: string;
  secret: string;
  /** Where people reach the family page: the origin of the one-click sign-in link. */
  publicUrl: string;
  sendSignInMail: SendSignInMail;
  log: Logger;
}

/**
 * better-auth for MemorialTube: accounts, sessions and email codes (emailOTP, only hashes stored),
 * API keys (stored hashed). Its HTTP handler is not mounted: our routes call `auth.api` and keep to
 * API.md; its tables come from our migration (Migration20261203100000_accounts).
 */
export function createBetterAuth(o: BetterAuthOptions) {
  const pool = new pg.Pool({ connectionString: o.databaseUrl, max: 5 });
  pool.on('error', (e) => o.log.warn({ err: e.message }, 'accounts database connection lost'));
  const auth = betterAuth({
    appName: 'MemorialTube',
    database: pool,
    secret: o.secret,
    baseURL: o.publicUrl,
    telemetry: { enabled: false },
    // Our own limits (auth/rate-limit.ts) answer 429 with Retry-After as API.md says.
    rateLimit: { enabled: false },
    session: { expiresIn: SESSION_SECONDS, updateAge: 24 * 60 * 60 },
    logger: {
      log: (level, message) => {
        if (level === 'error') o.log.error(`better-auth: ${message}`);
        else if (level === 'warn') o.log.warn(`better-auth: ${message}`);
      },
    },
    plugins: [
      emailOTP({
        otpLength: 6,
        expiresIn: CODE_MINUTES * 60,
        allowedAttempts: CODE_ATTEMPTS,
        storeOTP: 'hashed',
        sendVerificationOTP: async ({ email, otp }) => {
          const link = `${o.publicUrl.replace(/\/+$/, '')}/#/verify?email=${encodeURIComponent(email)}&code=${otp}`;
          await o.sendSignInMail({ email, code: otp, link, minutes: CODE_MINUTES });
        },
      }),
      // @better-auth/api-key 1.7.5 pins @better-auth/utils 0.4.2 while better-auth 1.7.25 has 0.5.1, so
      // pnpm keeps two copies of @better-auth/core and their plugin types differ only by that: the
      // plugin runs the same, and the two endpoints we call are typed below (ApiKeyEndpoints).
      apiKey({
        defaultPrefix: API_KEY_PREFIX,
        maximumNameLength: 100,
        startingCharactersConfig: { shouldStore: true, charactersLength: API_KEY_PREFIX.length + 6 },
        // No per-key quota; each use still records lastRequest (shown as last_used_at).
        rateLimit: { enabled: false },
      }) as unknown as BetterAuthPlugin,
    ],
  });
  return {
    auth,
    keys: auth.api as unknown as ApiKeyEndpoints,
    /** Rejects when the accounts' database does not answer (a refused credential may be an outage). */
    ping: () => pingPool(pool),
    close: () => pool.end(),
  };
}

export type MtAuth = ReturnType<typeof createBetterAuth>;

/** An API key row as the plugin returns it (never with the key's hash). */
export interface StoredApiKey {
  id: string;
  name: string | null;
  start: string | null;
  referenceId: string;
  createdAt: Date;
  lastRequest: Date | null;
}

/** The api-key plugin's server-side endpoints that we call. */
export interface ApiKeyEndpoints {
  createApiKey(a: { body: { name?: string; userId: string } }): Promise<StoredApiKey & { key: string }>;
  verifyApiKey(a: { body: { key: string } }): Promise<{ valid: boolean; key: StoredApiKey | null }>;
}

/**
 * The secret that signs session cookies: MT_AUTH_SECRET; required in production. In development one
 * is made once and kept in the data folder, so a restart keeps everyone signed in.
 */
export async function resolveAuthSecret(env: NodeJS.ProcessEnv, dataDir: string, log: Logger): Promise<string> {
  const given = env.MT_AUTH_SECRET;
  if (given) {
    if (given.length < 32) throw new Error('MT_AUTH_SECRET must be at least 32 characters (e.g. openssl rand -hex 32)');
    return given;
  }
  if (env.NODE_ENV === 'production') throw new Error('MT_AUTH_SECRET is required in production (e.g. openssl rand -hex 32)');
  const file = path.join(dataDir, 'auth-secret');
  const kept = (await readFile(file, 'utf8').catch(() => '')).trim();
  if (kept.length >= 32) return kept;
  const made = randomBytes(32).toString('hex');
  await mkdir(dataDir, { recursive: true });
  await writeFile(file, `${made}\n`, { mode: 0o600 });
  log.info({ file }, 'made a development MT_AUTH_SECRET and kept it in the data folder');
  return made;
}
