import type { MikroORM } from '@mikro-orm/postgresql';
import pg from 'pg';

/** Runs `fn` with a connection to the server's `postgres` database and the name of `url`'s database. */
async function withServer(url: string, fn: (c: pg.Client, name: string) => Promise<void>): Promise<void> {
  const u = new URL(url);
  const name = decodeURIComponent(u.pathname.slice(1));
  u.pathname = '/postgres';
  const c = new pg.Client({ connectionString: u.toString() });
  await c.connect();
  try {
    await fn(c, name);
  } finally {
    await c.end();
  }
}

const quoted = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** Creates the database named in `url` when the server has none by that name yet. */
export function ensureDatabase(url: string): Promise<void> {
  return withServer(url, async (c, name) => {
    const r = await c.query('select 1 from pg_database where datname = $1', [name]);
    if (r.rowCount === 0)
      await c.query(`create database ${quoted(name)}`).catch((e: { code?: string }) => {
        if (e.code !== '42P04') throw e; // made meanwhile by another process
      });
  });
}

/** Drops a database (tests' own, when they end). */
export function dropDatabase(url: string): Promise<void> {
  return withServer(url, async (c, name) => {
    await c.query(`drop database if exists ${quoted(name)} with (force)`);
  });
}

/** Answers when Postgres does (readiness). */
export async function ping(orm: MikroORM): Promise<void> {
  await orm.em.fork().execute('select 1');
}

/** Answers when the Postgres behind a plain pg pool does (the accounts' own pool). */
export async function pingPool(pool: pg.Pool): Promise<void> {
  await pool.query('select 1');
}
