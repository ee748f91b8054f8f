// Our migration creates exactly the schema better-auth expects for our configuration: its own
// migration tool, run over a database migrated by ours, finds nothing to create or add.
import { getMigrations } from 'better-auth/db/migration';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, testLog } from '../test-support.js';
import { createBetterAuth, type MtAuth } from './better-auth.js';

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
