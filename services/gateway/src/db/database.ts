import type { MikroORM } from '@mikro-orm/postgresql';
import pg from 'pg';

/** Creates the database named in `url` when the server has none by that name yet. */
export async function ensureDatabase(url: string): Promise<void> {
  const u = new URL(url);
  const name = decodeURIComponent(u.pathname.slice(1));
  u.pathname = '/postgres';
  const c = new pg.Client({ connectionString: u.toString() });
  await c.connect();
  try {
    const r = await c.query('select 1 from pg_database where datname = $1', [name]);
    if (r.rowCount === 0)
      await c.query(`create database "${name.replace(/"/g, '""')}"`).catch((e: { code?: string }) => {
        if (e.code !== '42P04') throw e;
      });
  } finally {
    await c.end();
  }
}

/** Drops a database (tests' own, when they end). */
export async function dropDatabase(url: string): Promise<void> {
  const u = new URL(url);
  const name = decodeURIComponent(u.pathname.slice(1));
  u.pathname = '/postgres';
  const c = new pg.Client({ connectionString: u.toString() });
  await c.connect();
  try {
    await c.query(`drop database if exists "${name.replace(/"/g, '""')}" with (force)`);
  } finally {
    await c.end();
  }
}

/** Answers when Postgres does (readiness). */
export async function ping(orm: MikroORM): Promise<void> {
  await orm.em.fork().execute('select 1');
}
