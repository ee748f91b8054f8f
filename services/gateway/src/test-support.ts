// Test support for the gateway's own tests: a database of the test's own on the local Postgres,
// migrated like production, dropped when the test ends. Not used by production code.
import { randomBytes } from 'node:crypto';
import type { MikroORM } from '@mikro-orm/postgresql';
import { createLogger } from '@mt/platform';
import { dropDatabase, ensureDatabase } from './db/database.js';
import { createRepositories, type Repositories } from './db/index.js';
import { createOrm, migrate } from './db/orm.js';

export const testLog = createLogger('gateway-test');

export async function freshDatabase(): Promise<{ orm: MikroORM; repos: Repositories; url: string; drop: () => Promise<void> }> {
  const base = new URL(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/memorialtube');
  base.pathname = `/mt_unit_${randomBytes(6).toString('hex')}`;
  const url = base.toString();
  await ensureDatabase(url);
  const orm = await createOrm(url);
  await migrate(orm);
  return {
    orm,
    repos: createRepositories(orm),
    url,
    drop: async () => {
      await orm.close();
      await dropDatabase(url);
    },
  };
}

/** Polls `fn` until it gives something truthy, failing with `what` after `timeoutMs`: the gateway tests' one wait. */
export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | null | undefined | false> | T | null | undefined | false,
  timeoutMs = 10_000,
  intervalMs = 25,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
