import { randomBytes } from 'node:crypto';
import { type Account, SignInRequest } from '@mt/contracts';
import { createLogger, retryUntil } from '@mt/platform';
import { ensureDatabase } from '../db/database.js';
import { createOrm, migrate } from '../db/orm.js';
import { Accounts } from './accounts.js';
import { createBetterAuth } from './better-auth.js';

/**
 * An API key for the account of this address, made now (with the account if it is new): what
 * `./mt api-key create`, the demo and the tests use. Brings the database schema up to date first, so
 * it works before the gateway has ever started. The key is returned once; only its hash is stored.
 */
export async function createApiKeyForEmail(databaseUrl: string, email: string, name?: string): Promise<{ key: string; account: Account; keyId: string }> {
  const address = SignInRequest.parse({ email }).email;
  const log = createLogger('api-key');
  await ensureDatabase(databaseUrl);
  const orm = await createOrm(databaseUrl);
  try {
    // A gateway starting at the same moment may be applying the same migrations: try again after it.
    await retryUntil('migrations', log, () => migrate(orm), 10);
  } finally {
    await orm.close();
  }
  // Keys are hashed without the secret; this one only satisfies better-auth and signs nothing.
  const ba = createBetterAuth({
    databaseUrl,
    secret: randomBytes(32).toString('hex'),
    publicUrl: 'http://127.0.0.1',
    log,
    sendSignInMail: async () => {
      throw new Error('no sign-in mail from the command line');
    },
  });
  try {
    const accounts = new Accounts(ba);
    const account = await accounts.ensureAccount(address);
    const made = await accounts.createKey(account.id, name);
    return { key: made.key, account, keyId: made.id };
  } finally {
    await ba.close();
  }
}
