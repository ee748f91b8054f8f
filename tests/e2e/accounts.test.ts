// Accounts against the real gateway process: sign-in mail through a real SMTP server started here
// (smtp-server), the session cookie, sign-out, API keys (over the API and `./mt api-key create`), 401
// without a credential, rate limits; and that no code or key is kept in Postgres or written to the
// log in clear while mail goes over SMTP (with no SMTP_URL the log is where the code goes).
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, OUTPUT, ROOT, Stack } from '../lib/stack.js';
import { waitFor } from '../lib/wait.js';

const stack = new Stack();
let url: string;
let db: pg.Client;
let smtp: SMTPServer;
/** Every mail the SMTP server received: recipients and the raw message. */
const mails: { to: string[]; raw: string }[] = [];
/** Every code and key handed out in this file: none may be found at rest or in the log. */
const secrets = new Set<string>();
const PUBLIC_URL = 'http://memorial.test';

interface Answer {
  status: number;
  body: any;
  headers: Headers;
}
async function call(
  method: string,
  p: string,
  o: { json?: unknown; cookie?: string; key?: string; headers?: Record<string, string>; base?: string } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...o.headers };
  if (o.json !== undefined) headers['content-type'] = 'application/json';
  if (o.cookie) headers.cookie = o.cookie;
  if (o.key) headers.authorization = `Bearer ${o.key}`;
  const res = await fetch(`${o.base ?? url}${p}`, { method, headers, body: o.json === undefined ? undefined : JSON.stringify(o.json) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null, headers: res.headers };
}

/** Quoted-printable soft breaks and escapes undone, so the link reads as sent. */
const decodeQp = (raw: string) => raw.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(Number.parseInt(h, 16)));

/** Waits for the next mail to `email` after `seen` of them, and reads its code and link. */
async function nextMail(email: string, seen: number): Promise<{ code: string; link: string; count: number }> {
  const to = () => mails.filter((m) => m.to.includes(email));
  const mail = await waitFor(() => to()[seen], { timeoutMs: 15_000, what: `a sign-in mail to ${email}` });
  const text = decodeQp(mail.raw);
  const code = /sign-in code: (\d{6})/.exec(text)?.[1];
  const link = /(http:\/\/memorial\.test\/#\/verify\?[^\s"<]+)/.exec(text)?.[1];
  expect(code, 'the subject carries a 6-digit code').toBeDefined();
  expect(link, 'the mail carries a one-click link').toBeDefined();
  secrets.add(code!);
  return { code: code!, link: link!.replace(/&amp;/g, '&'), count: to().length };
}

/** Signs in as `email` (a code by mail, then verify): the session cookie to send back. */
async function signIn(email: string, headers: Record<string, string> = {}): Promise<{ cookie: string; setCookie: string; account: any }> {
  const seen = mails.filter((m) => m.to.includes(email)).length;
  expect((await call('POST', '/api/v1/auth/sign-in', { json: { email } })).status).toBe(202);
  const { code } = await nextMail(email, seen);
  const r = await call('POST', '/api/v1/auth/verify', { json: { email, code }, headers });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  const setCookie = r.headers.get('set-cookie') ?? '';
  return { cookie: setCookie.split(';')[0]!, setCookie, account: r.body.account };
}

/** `./mt api-key create`: its exit code and the last line of its output. */
function mtApiKey(args: string[]): Promise<{ code: number | null; lastLine: string; stderr: string }> {
  const child = spawn(path.join(ROOT, 'mt'), ['api-key', 'create', ...args], {
    cwd: ROOT,
    env: { ...process.env, ...stack.e.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, lastLine: out.trim().split('\n').at(-1) ?? '', stderr: err })));
}

beforeAll(async () => {
  const smtpPort = await freePort();
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, done) {
      let raw = '';
      stream.on('data', (d: Buffer) => (raw += d.toString()));
      stream.on('end', () => {
        mails.push({ to: session.envelope.rcptTo.map((r) => r.address), raw });
        done();
      });
    },
  });
  await new Promise<void>((resolve) => smtp.listen(smtpPort, '127.0.0.1', resolve));
  const e = await stack.start({ services: ['gateway'], env: { SMTP_URL: `smtp://127.0.0.1:${smtpPort}`, MT_PUBLIC_URL: PUBLIC_URL } });
  url = e.url;
  db = new pg.Client({ connectionString: e.databaseUrl });
  await db.connect();
}, 120_000);

afterAll(async () => {
  await db?.end();
  await stack.stop();
  await new Promise<void>((resolve) => smtp?.close(() => resolve()));
});

describe('without a credential', () => {
  it('every API path answers 401 unauthenticated; health, docs and the page stay open', async () => {
    for (const [method, p] of [
      ['GET', '/api/v1/projects'],
      ['POST', '/api/v1/projects'],
      ['GET', '/api/v1/jobs'],
      ['GET', '/api/v1/me'],
      ['GET', '/api/v1/api-keys'],
      ['GET', '/api/v1/projects/nope/assets'],
    ] as const) {
      const r = await call(method, p, method === 'POST' ? { json: { title: 'x' } } : {});
      expect([p, r.status, r.body.error.code]).toEqual([p, 401, 'unauthenticated']);
    }
    expect((await call('GET', '/api/v1/me', { key: 'mt_not_a_key' })).status).toBe(401);
    expect((await call('GET', '/api/v1/me', { headers: { authorization: 'Basic abc' } })).status).toBe(401);
    expect((await call('GET', '/api/v1/me', { cookie: 'mt_session=forged.value' })).status).toBe(401);
    for (const p of ['/healthz', '/openapi.json', '/']) expect((await fetch(`${url}${p}`)).status, p).toBe(200);
  });
});

describe('sign-in by email', () => {
  it('mails one 6-digit code and a link to any address, account or not; the code signs in once', async () => {
    const email = 'ada@example.com';
    const r = await call('POST', '/api/v1/auth/sign-in', { json: { email: ' Ada@Example.com ' } });
    expect(r.status).toBe(202);
    expect(r.body).toEqual({ email, expires_in_seconds: 900 });
    const mail = await nextMail(email, 0);
    expect(mail.count).toBe(1);
    expect(mail.link).toBe(`${PUBLIC_URL}/#/verify?email=${encodeURIComponent(email)}&code=${mail.code}`);

    const v = await call('POST', '/api/v1/auth/verify', { json: { email, code: mail.code } });
    expect(v.status).toBe(200);
    expect(v.body).toEqual({ account: { id: expect.any(String), email, name: '' } });
    const setCookie = v.headers.get('set-cookie')!;
    expect(setCookie).toMatch(/^mt_session=[^;]+;/);
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/SameSite=Lax/);
    expect(setCookie).not.toMatch(/Secure/);
    const cookie = setCookie.split(';')[0]!;

    const me = await call('GET', '/api/v1/me', { cookie });
    expect(me.body).toEqual(v.body);
    expect((await call('GET', '/api/v1/projects', { cookie })).status).toBe(200);

    const again = await call('POST', '/api/v1/auth/verify', { json: { email, code: mail.code } });
    expect([again.status, again.body.error.code]).toEqual([401, 'unauthenticated']);
    expect(again.body.error.message).toMatch(/already used|not right/);
  });

  it('sets a Secure cookie behind an HTTPS proxy (X-Forwarded-Proto: https)', async () => {
    const { setCookie } = await signIn('grace@example.com', { 'x-forwarded-proto': 'https' });
    expect(setCookie).toMatch(/; Secure/);
  });

  it('refuses a wrong code and an expired one with 401 and says which', async () => {
    const email = 'wrong@example.com';
    expect((await call('POST', '/api/v1/auth/sign-in', { json: { email } })).status).toBe(202);
    const { code } = await nextMail(email, 0);
    const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, '0');
    const w = await call('POST', '/api/v1/auth/verify', { json: { email, code: wrong } });
    expect([w.status, w.body.error.code]).toEqual([401, 'unauthenticated']);
    expect((await call('POST', '/api/v1/auth/verify', { json: { email, code: 'abc' } })).status).toBe(422);

    // 15 minutes later, as the row says: the right code no longer works.
    await db.query(`update "verification" set "expiresAt" = now() - interval '1 second' where "identifier" like $1`, [`%${email}`]);
    const late = await call('POST', '/api/v1/auth/verify', { json: { email, code } });
    expect([late.status, late.body.error.code]).toEqual([401, 'unauthenticated']);
    expect(late.body.error.message).toMatch(/expired/);
  });

  it('a code dies after 5 wrong guesses; the 11th verify for an address in 15 minutes is 429 with Retry-After', async () => {
    const email = 'guess@example.com';
    expect((await call('POST', '/api/v1/auth/sign-in', { json: { email } })).status).toBe(202);
    const { code } = await nextMail(email, 0);
    const wrong = (i: number) => String((Number(code) + 1 + i) % 1_000_000).padStart(6, '0');
    for (let i = 0; i < 5; i++) expect((await call('POST', '/api/v1/auth/verify', { json: { email, code: wrong(i) } })).status).toBe(401);
    const dead = await call('POST', '/api/v1/auth/verify', { json: { email, code } });
    expect([dead.status, dead.body.error.code]).toEqual([401, 'unauthenticated']);
    expect(dead.body.error.message).toMatch(/too many times/);
    for (let i = 0; i < 4; i++) expect((await call('POST', '/api/v1/auth/verify', { json: { email, code: wrong(i) } })).status).toBe(401);
    const limited = await call('POST', '/api/v1/auth/verify', { json: { email, code } });
    expect([limited.status, limited.body.error.code]).toEqual([429, 'rate_limited']);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('sign-out ends the session and clears the cookie', async () => {
    const { cookie } = await signIn('leaving@example.com');
    const out = await call('POST', '/api/v1/auth/sign-out', { cookie });
    expect(out.status).toBe(204);
    expect(out.headers.get('set-cookie')).toMatch(/^mt_session=;.*Max-Age=0/);
    const me = await call('GET', '/api/v1/me', { cookie });
    expect([me.status, me.body.error.code]).toEqual([401, 'unauthenticated']);
    // A stale cookie does not stop anyone from signing in again.
    expect((await call('POST', '/api/v1/auth/sign-in', { cookie, json: { email: 'leaving@example.com' } })).status).toBe(202);
  });

  it('limits codes per address: the 6th in 15 minutes is 429 with Retry-After, and sends no mail', async () => {
    const email = 'flood@example.com';
    for (let i = 0; i < 5; i++) expect((await call('POST', '/api/v1/auth/sign-in', { json: { email } })).status).toBe(202);
    await waitFor(() => mails.filter((m) => m.to.includes(email)).length === 5, { timeoutMs: 15_000, what: '5 mails' });
    const r = await call('POST', '/api/v1/auth/sign-in', { json: { email } });
    expect([r.status, r.body.error.code]).toEqual([429, 'rate_limited']);
    expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(Number(r.headers.get('retry-after'))).toBeLessThanOrEqual(900);
    for (const m of mails.filter((x) => x.to.includes(email))) secrets.add(/sign-in code: (\d{6})/.exec(decodeQp(m.raw))![1]!);
    expect(mails.filter((m) => m.to.includes(email))).toHaveLength(5);
  });
});

describe('API keys', () => {
  it('are made (shown once), listed without the key, used as Bearer, and revoked; another account gets 404', async () => {
    const { cookie, account } = await signIn('keys@example.com');
    const made = await call('POST', '/api/v1/api-keys', { cookie, json: { name: 'funeral home sync' } });
    expect(made.status).toBe(201);
    expect(made.body).toMatchObject({ name: 'funeral home sync', last_used_at: null, key: expect.stringMatching(/^mt_[A-Za-z]{64}$/) });
    expect(made.body.key.startsWith(made.body.start)).toBe(true);
    secrets.add(made.body.key);
    const unnamed = await call('POST', '/api/v1/api-keys', { cookie });
    expect([unnamed.status, unnamed.body.name]).toEqual([201, null]);
    secrets.add(unnamed.body.key);

    const me = await call('GET', '/api/v1/me', { key: made.body.key });
    expect(me.body.account).toEqual(account);
    const list = await call('GET', '/api/v1/api-keys', { key: made.body.key });
    expect(list.body.items.map((k: any) => k.id)).toEqual([unnamed.body.id, made.body.id]);
    expect(JSON.stringify(list.body)).not.toContain(made.body.key);
    expect(list.body.items[1].last_used_at).not.toBeNull();

    const other = await mtApiKey(['--email', 'other@example.com']);
    secrets.add(other.lastLine);
    const theirs = await call('DELETE', `/api/v1/api-keys/${made.body.id}`, { key: other.lastLine });
    expect([theirs.status, theirs.body.error.code]).toEqual([404, 'not_found']);
    expect((await call('GET', '/api/v1/api-keys', { key: other.lastLine })).body.items).toHaveLength(1);

    expect((await call('DELETE', `/api/v1/api-keys/${made.body.id}`, { cookie })).status).toBe(204);
    const revoked = await call('GET', '/api/v1/me', { key: made.body.key });
    expect([revoked.status, revoked.body.error.code]).toEqual([401, 'unauthenticated']);
    expect((await call('DELETE', `/api/v1/api-keys/${made.body.id}`, { cookie })).status).toBe(404);
  });

  it('./mt api-key create makes the account if new and prints a key that works as the last line', async () => {
    const r = await mtApiKey(['--email', 'Operator@Example.com', '--name', 'ops']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.lastLine).toMatch(/^mt_[A-Za-z]{64}$/);
    secrets.add(r.lastLine);
    const me = await call('GET', '/api/v1/me', { key: r.lastLine });
    expect(me.body.account).toMatchObject({ email: 'operator@example.com' });
    const second = await mtApiKey(['--email', 'operator@example.com']);
    secrets.add(second.lastLine);
    expect((await call('GET', '/api/v1/me', { key: second.lastLine })).body.account.id).toBe(me.body.account.id);
    expect((await mtApiKey(['--email', 'not an address'])).code).toBe(1);
  });
});

describe('secrets at rest and in the log (mail over SMTP)', () => {
  it('no code or key is in any text column of any table, nor in the gateway log', async () => {
    expect(secrets.size).toBeGreaterThan(10);
    const columns = await db.query<{ table_name: string; column_name: string }>(
      `select table_name, column_name from information_schema.columns
       where table_schema = 'public' and data_type in ('text', 'character varying', 'jsonb', 'json', 'character')`,
    );
    expect(columns.rows.map((c) => `${c.table_name}.${c.column_name}`)).toEqual(expect.arrayContaining(['verification.value', 'apikey.key']));
    const found: string[] = [];
    for (const { table_name, column_name } of columns.rows) {
      for (const s of secrets) {
        const q = await db.query(`select count(*)::int as n from "${table_name}" where "${column_name}"::text like $1`, [`%${s}%`]);
        if (q.rows[0].n > 0) found.push(`${table_name}.${column_name} holds ${s.slice(0, 6)}…`);
      }
    }
    expect(found).toEqual([]);
    const log = await readFile(path.join(OUTPUT, 'logs', `${stack.e.namespace}-gateway.log`), 'utf8');
    expect(log).toMatch(/sign-in mail sent/);
    expect([...secrets].filter((s) => log.includes(s))).toEqual([]);
  });
});

describe('without SMTP_URL (the local default)', () => {
  it('writes the code and link to the log, and that code signs in', async () => {
    const port = await freePort();
    stack.spawn('gateway', 'gateway-nomail', { SMTP_URL: '', MT_PUBLIC_URL: '', PORT: String(port) });
    const base = `http://127.0.0.1:${port}`;
    await waitFor(async () => (await fetch(`${base}/healthz`)).ok, { timeoutMs: 60_000, what: 'the second gateway' });
    const email = 'local@example.com';
    expect((await call('POST', '/api/v1/auth/sign-in', { base, json: { email } })).status).toBe(202);
    const logFile = path.join(OUTPUT, 'logs', `${stack.e.namespace}-gateway-nomail.log`);
    const line = await waitFor(async () => (await readFile(logFile, 'utf8')).split('\n').find((l) => l.includes('sign-in code for local@example.com')), {
      timeoutMs: 10_000,
      what: 'the code in the log',
    });
    const logged = JSON.parse(line);
    expect(logged.link).toBe(`http://127.0.0.1:${port}/#/verify?email=local%40example.com&code=${logged.code}`);
    const v = await call('POST', '/api/v1/auth/verify', { base, json: { email, code: logged.code } });
    expect([v.status, v.body.account.email]).toEqual([200, email]);
    await stack.stopProcess('gateway-nomail');
  });
});
