// Our migration creates exactly the schema better-auth expects for our configuration: its own
// migration tool, run over a database migrated by ours, finds nothing to create or add.
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { getMigrations } from 'better-auth/db/migration';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, testLog } from '../test-support.js';
import { createBetterAuth, type MtAuth, resolveAuthSecret } from './better-auth.js';

let db: Awaited<ReturnType<typeof freshDatabase>>;
let ba: MtAuth;

beforeAll(async () => {
  db = await freshDatabase();
  ba = createBetterAuth({
    databaseUrl: db.url,
    secret: 'a-test-secret-that-is-long-enough-0123456789',
    publicUrl: 'http://127.0.0.1:1',
    log: testLog,
    sendSignInMail: async () => {},
  });
});
afterAll(async () => {
  await ba?.close();
  await db?.drop();
});

describe('the accounts migration', () => {
  it("matches better-auth's own schema for our plugins (emailOTP, api keys)", async () => {
    const { toBeCreated, toBeAdded } = await getMigrations(ba.auth.options);
    expect(toBeCreated.map((t) => t.table)).toEqual([]);
    expect(toBeAdded.map((t) => `${t.table}: ${Object.keys(t.fields).join(', ')}`)).toEqual([]);
  });
});

describe('the secret that signs session cookies', () => {
  it('is MT_AUTH_SECRET; required in production; in development made once and kept in the data folder', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'mt-secret-'));
    try {
      const given = 'x'.repeat(40);
      expect(await resolveAuthSecret({ MT_AUTH_SECRET: given, NODE_ENV: 'production' }, dir, testLog)).toBe(given);
      await expect(resolveAuthSecret({ MT_AUTH_SECRET: 'short' }, dir, testLog)).rejects.toThrow(/at least 32/);
      await expect(resolveAuthSecret({ NODE_ENV: 'production' }, dir, testLog)).rejects.toThrow(/required in production/);
      const made = await resolveAuthSecret({}, dir, testLog);
      expect(made).toMatch(/^[0-9a-f]{64}$/);
      expect(await resolveAuthSecret({}, dir, testLog)).toBe(made); // a restart keeps sessions
      expect((await stat(path.join(dir, 'auth-secret'))).mode & 0o777).toBe(0o600);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
