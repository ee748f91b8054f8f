import { Migration } from '@mikro-orm/migrations';

/**
 * Accounts (v1.1): the tables better-auth keeps for accounts ("user"), sessions, sign-in codes
 * ("verification": only the code's hash) and API keys ("apikey": only the key's hash). The SQL is
 * what better-auth's own `getMigrations` creates for our configuration (auth/better-auth.ts), written
 * out here so the schema changes only through our migrations; a test compares the two.
 */
export class Migration20261203100000_accounts extends Migration {
  override name = 'Migration20261203100000_accounts';

  override up(): void {
    this.addSql(`create table "user" (
      "id" text not null primary key, "name" text not null, "email" text not null unique, "emailVerified" boolean not null,
      "image" text, "createdAt" timestamptz default CURRENT_TIMESTAMP not null, "updatedAt" timestamptz default CURRENT_TIMESTAMP not null)`);
    this.addSql(`create table "session" (
      "id" text not null primary key, "expiresAt" timestamptz not null, "token" text not null unique,
      "createdAt" timestamptz default CURRENT_TIMESTAMP not null, "updatedAt" timestamptz not null, "ipAddress" text, "userAgent" text,
      "userId" text not null references "user" ("id") on delete cascade)`);
    this.addSql(`create table "account" (
      "id" text not null primary key, "accountId" text not null, "providerId" text not null,
      "userId" text not null references "user" ("id") on delete cascade, "accessToken" text, "refreshToken" text, "idToken" text,
      "accessTokenExpiresAt" timestamptz, "refreshTokenExpiresAt" timestamptz, "scope" text, "password" text,
      "createdAt" timestamptz default CURRENT_TIMESTAMP not null, "updatedAt" timestamptz not null)`);
    this.addSql(`create table "verification" (
      "id" text not null primary key, "identifier" text not null, "value" text not null, "expiresAt" timestamptz not null,
      "createdAt" timestamptz default CURRENT_TIMESTAMP not null, "updatedAt" timestamptz default CURRENT_TIMESTAMP not null)`);
    this.addSql(`create table "apikey" (
      "id" text not null primary key, "configId" text not null, "name" text, "start" text, "referenceId" text not null, "prefix" text,
      "key" text not null, "refillInterval" integer, "refillAmount" integer, "lastRefillAt" timestamptz, "enabled" boolean,
      "rateLimitEnabled" boolean, "rateLimitTimeWindow" integer, "rateLimitMax" integer, "requestCount" integer, "remaining" integer,
      "lastRequest" timestamptz, "expiresAt" timestamptz, "createdAt" timestamptz not null, "updatedAt" timestamptz not null,
      "permissions" text, "metadata" text)`);
    this.addSql(`create index "session_userId_idx" on "session" ("userId")`);
    this.addSql(`create index "account_userId_idx" on "account" ("userId")`);
    this.addSql(`create index "verification_identifier_idx" on "verification" ("identifier")`);
    this.addSql(`create index "apikey_configId_idx" on "apikey" ("configId")`);
    this.addSql(`create index "apikey_referenceId_idx" on "apikey" ("referenceId")`);
    this.addSql(`create index "apikey_key_idx" on "apikey" ("key")`);
  }

  override down(): void {
    for (const table of ['apikey', 'verification', 'account', 'session', 'user']) this.addSql(`drop table if exists "${table}"`);
  }
}
