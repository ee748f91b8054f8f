// The browser tests' account: signing in through the page with the code from the mail, and a client for
// the tests' own API calls that carries the same session cookie as the browser (so both see the same
// memorials).
import { createMemorialClient, ok, type paths, type UploadFile } from '@mt/client';
import type { BrowserContext, Page } from 'playwright-core';
import type { RawAnswer } from '../lib/api.js';
import type { Mailbox } from './mailbox.js';

export const SESSION_COOKIE = 'mt_session';

/** What the sign-in views say, in each language (the tests find things by what a person reads). */
export const SIGN_IN_WORDS = {
  en: { title: 'Sign in', email: 'Email address', send: 'Send me a code', codeTitle: 'Check your email', code: '6-digit code', submit: 'Sign in' },
  ko: { title: '로그인', email: '이메일 주소', send: '코드 받기', codeTitle: '이메일을 확인해 주세요', code: '6자리 코드', submit: '로그인' },
} as const;
export type SignInWords = (typeof SIGN_IN_WORDS)[keyof typeof SIGN_IN_WORDS];

/** On the sign-in view: types the address, reads the code from the mail, types it and signs in. */
export async function signInWithCode(page: Page, mailbox: Mailbox, email: string, words: SignInWords = SIGN_IN_WORDS.en): Promise<void> {
  const seen = mailbox.count(email);
  await page.getByLabel(words.email).fill(email);
  await page.getByRole('button', { name: words.send }).click();
  await page.getByRole('heading', { level: 1, name: words.codeTitle }).waitFor();
  const { code } = await mailbox.next(email, seen);
  await page.getByLabel(words.code).fill(code);
  await page.getByRole('button', { name: words.submit, exact: true }).click();
}

/** The browser's session cookie as a Cookie header (HttpOnly: only the test harness can read it). */
export async function sessionCookie(ctx: BrowserContext): Promise<string> {
  const c = (await ctx.cookies()).find((x) => x.name === SESSION_COOKIE);
  if (!c) throw new Error('the browser has no session cookie');
  return `${c.name}=${c.value}`;
}

type NewProject = NonNullable<paths['/api/v1/projects']['post']['requestBody']>['content']['application/json'];

/** The calls the browser tests make themselves, as the signed-in account of the browser. */
export interface AccountApi {
  cookie: string;
  req(method: string, path: string, body?: unknown): Promise<RawAnswer>;
  project(body?: Partial<NewProject>): ReturnType<typeof createProject>;
  upload(projectId: string, files: UploadFile[]): Promise<{ status: number; body: RawAnswer['body'] }>;
}

const createProject = async (client: ReturnType<typeof createMemorialClient>, body: Partial<NewProject>) =>
  ok(await client.POST('/api/v1/projects', { body: { title: 'In memory', resolution: '720p', ...body } }));

export function apiAs(base: string, cookie: string): AccountApi {
  const client = createMemorialClient(base, { headers: { cookie } });
  return {
    cookie,
    req: async (method, p, body) => {
      const r = await fetch(`${base}/api/v1${p}`, {
        method,
        headers: body === undefined ? { cookie } : { cookie, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await r.text();
      return { status: r.status, body: text ? JSON.parse(text) : null, headers: r.headers };
    },
    project: (body = {}) => createProject(client, body),
    upload: async (projectId, files) => {
      const r = await client.uploadFiles(projectId, files);
      return { status: r.response.status, body: (r.data ?? r.error) as RawAnswer['body'] };
    },
  };
}
