// The families' page end to end in a real (headless) Chromium against the real stack: sign in with
// the code mailed to a real SMTP server started here (a wrong code refused; the one-click link from a
// second browser; too many tries; no network; a session that ends mid-visit; sign-out), create a
// memorial, upload photos (one refused with the server's reason) and music, reorder by dragging and by
// keyboard, run it and watch the progress, play and seek the video, remake one transition, stop a
// second memorial mid-run, and read it all in Korean and English, on a desktop and a phone-width screen.
// Each step leaves a screenshot in test-output/screenshots and must pass axe (no serious/critical).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CORPUS, Stack } from '../lib/stack.js';
import { expectAccessible, launch, shot } from './browser.js';
import { Mailbox } from './mailbox.js';
import { type AccountApi, apiAs, SIGN_IN_WORDS, sessionCookie, signInWithCode } from './session.js';

const PHOTOS = ['mlw_01_1946_piano.jpg', 'mlw_03_1947_cbs_studio.jpg', 'mlw_05_1947_cafe_society.jpg'].map((f) =>
  path.join(CORPUS, 'photos/person_mary_lou_williams', f),
);
const MUSIC = path.join(CORPUS, 'audio/bach_goldberg_aria_da_capo_ishizaka_cc0.ogg');

// Code passed to page.evaluate runs in the browser; the project compiles without the DOM library, so
// the few browser globals used there are declared here, for this file only.
/* eslint-disable @typescript-eslint/no-explicit-any */
declare const window: any;
declare const document: any;
declare const MutationObserver: any;
declare const PerformanceObserver: any;
type HTMLVideoElement = {
  readyState: number;
  duration: number;
  currentTime: number;
  muted: boolean;
  play(): Promise<void>;
  pause(): void;
  seekable: { length: number; end(i: number): number };
  addEventListener(e: string, f: () => void, o?: unknown): void;
};
type PerformanceEntry = { value: number; hadRecentInput: boolean };
const asUpload = (f: string) => ({ name: path.basename(f), mimeType: 'image/jpeg', buffer: readFileSync(f) });

const stack = new Stack();
const mailbox = new Mailbox();
const EMAIL = 'grace.kim@family.test';
/** The tests' own calls, as the account signed in in the browser. */
let api: AccountApi;
let browser: Browser;
let ctx: BrowserContext;
let page: Page;
let base: string;
let memorialId: string;
const pageErrors: string[] = [];

/** File names of the photos as the page shows them, in order. */
const tileNames = (p: Page) => p.locator('#photo-grid .tile-done .tile-name').allTextContents();

beforeAll(async () => {
  // Sign-in mail goes over SMTP to the mailbox; the link in it points at this stack (MT_PUBLIC_URL's default).
  const smtpUrl = await mailbox.start();
  const [e, b] = await Promise.all([stack.start({ env: { SMTP_URL: smtpUrl } }), launch()]);
  base = e.url;
  browser = b;
  ctx = await browser.newContext({ locale: 'en-US', viewport: { width: 1100, height: 900 } });
  page = await ctx.newPage();
  page.on('pageerror', (err) => pageErrors.push(String(err)));
  page.on('dialog', (d) => void d.accept());
});
afterAll(async () => {
  await browser?.close();
  await stack.stop();
  await mailbox.stop();
});

describe('the families page', () => {
  // The steps build on each other: after one fails, the rest are skipped rather than timing out.
  let broken = false;
  beforeEach((c) => {
    if (broken) c.skip();
  });
  afterEach((c) => {
    if (c.task.result?.state === 'fail') broken = true;
  });

  it('is served by the gateway as small static files with safe paths', async () => {
    const index = await fetch(`${base}/`);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toMatch(/^text\/html/);
    expect(index.headers.get('content-security-policy')).toContain("default-src 'self'");
    const html = await index.text();
    expect(html).toContain('/web/app.js');
    const js = await fetch(`${base}/web/app.js`);
    expect(js.headers.get('content-type')).toMatch(/^text\/javascript/);
    const etag = js.headers.get('etag')!;
    expect((await fetch(`${base}/web/app.js`, { headers: { 'if-none-match': etag } })).status).toBe(304);
    expect((await fetch(`${base}/web/style.css`)).headers.get('content-type')).toMatch(/^text\/css/);
    for (const bad of ['/web/../src/web.ts', '/web/..%2Fsrc%2Fweb.ts', '/web/%2e%2e/package.json', '/web/nope.js', '/web/.hidden.js'])
      expect((await fetch(`${base}${bad}`)).status, bad).toBe(404);
  });

  it('asks for an email, mails a 6-digit code, refuses a wrong one and signs in with the right one', async () => {
    await page.goto(`${base}/`);
    await page.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor();
    expect(new URL(page.url()).hash).toBe('#/sign-in');
    expect(await page.locator('#account-email').count()).toBe(0);
    await shot(page, '00a-sign-in');
    await expectAccessible(page, 'sign in: email');

    // A slip in the address is caught with words that say what to write; nothing is sent.
    await page.getByLabel('Email address').fill('grace.kim.family.test');
    await page.getByRole('button', { name: 'Send me a code' }).click();
    await page.getByText('Please enter an email address like name@example.com.').waitFor();
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('f-email');
    expect(await page.getByLabel('Email address').getAttribute('aria-invalid')).toBe('true');
    await shot(page, '00b-sign-in-bad-email');
    await expectAccessible(page, 'sign in: a wrong address');

    const seen = mailbox.count(EMAIL);
    await page.getByLabel('Email address').fill(EMAIL);
    await page.getByRole('button', { name: 'Send me a code' }).click();
    await page.getByRole('heading', { level: 1, name: 'Check your email' }).waitFor();
    expect(await page.locator('#code-sent').textContent()).toBe(`We sent a 6-digit code to ${EMAIL}.`);
    await expect.poll(() => page.evaluate(() => document.activeElement?.tagName)).toBe('H1');
    await expect.poll(() => page.locator('#live').textContent()).toContain(`We sent a 6-digit code to ${EMAIL}`);
    const codeField = page.getByLabel('6-digit code');
    expect(await codeField.getAttribute('autocomplete')).toBe('one-time-code');
    expect(await codeField.getAttribute('inputmode')).toBe('numeric');
    const mail = await mailbox.next(EMAIL, seen);
    await shot(page, '00c-code-sent');
    await expectAccessible(page, 'sign in: code sent');

    // A wrong code: refused in words, the field marked and focused, still on the code step.
    await codeField.fill(mail.code === '000000' ? '111111' : '000000');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByText('That code did not work.').waitFor();
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('f-code');
    expect(await codeField.getAttribute('aria-invalid')).toBe('true');
    expect(await page.locator('#account-email').count()).toBe(0);
    await shot(page, '00d-code-wrong');
    await expectAccessible(page, 'sign in: wrong code');

    // The right one, pasted with a space as people do: signed in, on my memorials, the address in the header.
    await codeField.fill(`${mail.code.slice(0, 3)} ${mail.code.slice(3)}`);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'My memorials' }).waitFor();
    expect(new URL(page.url()).hash).toBe('#/');
    await expect.poll(() => page.locator('#account-email').textContent()).toBe(EMAIL);
    await expect.poll(() => page.locator('#live').textContent()).toContain(`Signed in as ${EMAIL}`);
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    // The session is an HttpOnly cookie: the page's scripts never see it.
    const cookie = (await ctx.cookies()).find((c) => c.name === 'mt_session');
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Lax' });
    expect(await page.evaluate(() => document.cookie)).not.toContain('mt_session');
    api = apiAs(base, await sessionCookie(ctx));
    expect((await api.req('GET', '/me')).body.account.email).toBe(EMAIL);
  });

  it('lists memorials and creates one from the form', async () => {
    await page.goto(`${base}/`);
    await page.getByRole('heading', { level: 1, name: 'Memorials' }).waitFor();
    await page.getByText('There are no memorials yet').waitFor();
    await shot(page, '01-list-empty');
    await expectAccessible(page, 'list (empty)');

    await page.getByRole('link', { name: 'Create a memorial' }).click();
    await page.getByRole('heading', { level: 1, name: 'Create a memorial' }).waitFor();
    // A wrong date is caught with words that say what to write.
    await page.getByLabel('Title').fill('In loving memory of Mary Lou Williams');
    await page.getByLabel('Year of birth').fill('19x0');
    await page.getByRole('button', { name: 'Create memorial' }).click();
    await page.getByText('Please write a year like 1941').first().waitFor();
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('f-born');
    await page.getByLabel('Their name').fill('Mary Lou Williams');
    await page.getByLabel('Year of birth').fill('1910');
    await page.getByLabel('Year of passing').fill('1981-05-28');
    await page.getByRole('radio', { name: /^6 seconds/ }).check();
    await page.getByRole('radio', { name: /^720p/ }).check();
    await page.getByRole('radio', { name: /^Classic/ }).check();
    await shot(page, '02-create');
    await expectAccessible(page, 'create form');
    await page.getByRole('button', { name: 'Create memorial' }).click();
    await page.waitForURL(/#\/m\//);
    memorialId = /#\/m\/(.+)$/.exec(page.url())![1]!;
    await page.getByRole('heading', { level: 1, name: 'In loving memory of Mary Lou Williams' }).waitFor();
    await page.getByText('May 28, 1981').waitFor();
    const p = (await api.req('GET', `/projects/${memorialId}`)).body;
    expect(p).toMatchObject({
      subject_name: 'Mary Lou Williams',
      born: '1910',
      died: '1981-05-28',
      settings: { transition_seconds: 6, resolution: '720p', transition_style: 'classic' },
    });
  });

  it('uploads photos one per request with progress, shows the refused file with its reason, and does not shift the layout', async () => {
    // Slow the upload down so the per-file progress is visible, as on a home connection.
    const cdp = await ctx.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 20, downloadThroughput: -1, uploadThroughput: 400 * 1024 });
    await page.evaluate(() => {
      const w = window as unknown as { __cls: number; __pcts: Set<string> };
      w.__cls = 0;
      w.__pcts = new Set();
      new PerformanceObserver((l: any) => {
        for (const e of l.getEntries() as PerformanceEntry[]) if (!e.hadRecentInput) w.__cls += e.value;
      }).observe({ type: 'layout-shift', buffered: false });
      new MutationObserver(() =>
        document.querySelectorAll('.tile-status').forEach((s: any) => {
          if (/\d+%/.test(s.textContent ?? '')) w.__pcts.add(s.textContent!);
        }),
      ).observe(document.body, { subtree: true, childList: true, characterData: true });
    });
    const requests: string[] = [];
    page.on('request', (r) => r.method() === 'POST' && r.url().endsWith('/assets') && requests.push(r.url()));
    await page
      .locator('#photo-input')
      .setInputFiles([
        asUpload(PHOTOS[0]!),
        { name: 'photo.jpg', mimeType: 'image/jpeg', buffer: Buffer.from('these are not the bytes of a photo\n'.repeat(40)) },
        asUpload(PHOTOS[1]!),
        asUpload(PHOTOS[2]!),
      ]);
    // Every chosen file gets its place at once; from then on nothing moves while they upload.
    await page.locator('#photo-grid .tile').nth(3).waitFor();
    await page.evaluate(() => {
      (window as unknown as { __cls: number }).__cls = 0;
    });
    await page.locator('.tile-uploading').first().waitFor();
    await page.waitForFunction(() => [...document.querySelectorAll('.tile-status')].some((s: any) => /Uploading… [1-9]\d?%/.test(s.textContent ?? '')));
    await shot(page, '03-uploading');
    await expectAccessible(page, 'uploading');
    await page.locator('#photo-grid .tile-done').nth(2).waitFor({ timeout: 30_000 });
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });

    const refused = page.locator('.tile-refused');
    await expect.poll(() => refused.count()).toBe(1);
    expect(await refused.locator('.tile-name').textContent()).toBe('photo.jpg');
    const reason = await refused.locator('.refusal').textContent();
    expect(reason).toMatch(/photo|image|recogni|support|decod/i);
    expect(reason).toContain('Please choose a photo or music file instead');
    expect(requests).toHaveLength(4); // one request per file
    expect(await tileNames(page)).toEqual(PHOTOS.map((p) => path.basename(p)));
    const w = await page.evaluate(() => {
      const x = window as unknown as { __cls: number; __pcts: Set<string> };
      return { cls: x.__cls, pcts: [...x.__pcts] };
    });
    expect(w.pcts.length).toBeGreaterThan(1); // the percent moved
    expect(w.cls).toBeLessThan(0.02);
    await expect.poll(async () => (await api.req('GET', `/projects/${memorialId}/assets`)).body.items.length).toBe(3);
    await shot(page, '04-uploaded-with-refusal');
    await expectAccessible(page, 'uploaded, one refused');

    // The refusal can be dismissed; focus goes on to something useful.
    await refused.getByRole('button', { name: /Dismiss/ }).click();
    await expect.poll(() => refused.count()).toBe(0);

    // Music: one audio file.
    await page.locator('#music-input').setInputFiles(MUSIC);
    await page.locator('.music-name', { hasText: 'bach_goldberg' }).waitFor({ timeout: 30_000 });
    await page.getByText('2:50').waitFor();
  });

  it('reorders by dragging and by keyboard, saving the order', async () => {
    const order = async () =>
      ((await api.req('GET', `/projects/${memorialId}/assets`)).body.items as Array<{ kind: string; filename: string }>)
        .filter((a) => a.kind === 'photo')
        .map((a) => a.filename);
    const [a, b, c] = PHOTOS.map((p) => path.basename(p)) as [string, string, string];
    // Drag the third photo onto the left half of the first: it goes first.
    const saved = page.waitForResponse((r) => r.url().endsWith('/assets/order') && r.request().method() === 'PUT');
    const first = page.locator('#photo-grid .tile-done').nth(0);
    const box = (await first.boundingBox())!;
    await page
      .locator('#photo-grid .tile-done')
      .nth(2)
      .dragTo(first, { targetPosition: { x: 10, y: box.height / 2 } });
    expect((await saved).status()).toBe(200);
    expect(await tileNames(page)).toEqual([c, a, b]);
    expect(await order()).toEqual([c, a, b]);

    // Keyboard: move the (now) first photo one later with its button; focus stays on that photo.
    const btn = page.getByRole('button', { name: `Move ${c} later` });
    await btn.focus();
    const saved2 = page.waitForResponse((r) => r.url().endsWith('/assets/order'));
    await page.keyboard.press('Enter');
    await saved2;
    expect(await tileNames(page)).toEqual([a, c, b]);
    expect(await order()).toEqual([a, c, b]);
    expect(await page.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toBe(`Move ${c} later`);
    await expect.poll(() => page.locator('#live').textContent()).toContain(`${c} is now photo 2 of 3`);
    await shot(page, '05-reordered');
    await expectAccessible(page, 'reordered');
  });

  it('shows every photo from the server after a reload, and the first one as the cover in the list', async () => {
    type PhotoAsset = { kind: string; filename: string; thumbnail_url: string | null };
    const photos = ((await api.req('GET', `/projects/${memorialId}/assets`)).body.items as PhotoAsset[]).filter((a) => a.kind === 'photo');
    expect(photos.map((a) => typeof a.thumbnail_url)).toEqual(['string', 'string', 'string']);
    await page.reload();
    await page.locator('#photo-grid .tile-done').nth(2).waitFor();
    // Every tile shows its picture (decoded, not a placeholder), from the server's thumbnail, not this visit's files.
    const tileImages = page.locator('#photo-grid .tile-done .thumb img');
    await page.waitForFunction(
      () => {
        const imgs = [...document.querySelectorAll('#photo-grid .tile-done .thumb img')] as Array<{ complete: boolean; naturalWidth: number }>;
        return imgs.length === 3 && imgs.every((i) => i.complete && i.naturalWidth > 0);
      },
      null,
      { timeout: 15_000 },
    );
    expect(await page.locator('#photo-grid .tile-done .thumb-empty').count()).toBe(0);
    expect(await tileImages.evaluateAll((imgs: any[]) => imgs.map((i) => i.getAttribute('src')))).toEqual(photos.map((a) => a.thumbnail_url));
    expect(await tileNames(page)).toEqual(photos.map((a) => a.filename));
    await shot(page, '05b-photos-after-reload');
    await expectAccessible(page, 'photos after a reload');

    // The list: the first photo in order is the memorial's cover; a memorial without photos has a placeholder.
    const bare = await api.project({ title: 'A memorial without photos yet' });
    const coverUrl = (await api.req('GET', `/projects/${memorialId}`)).body.cover_url as string;
    expect(coverUrl).toBe(photos[0]!.thumbnail_url);
    await page.goto(`${base}/#/`);
    await page.getByRole('heading', { level: 1, name: 'Memorials' }).waitFor();
    const cover = page.locator(`.card:has(a[href="#/m/${memorialId}"]) img.cover`);
    await cover.waitFor();
    await page.waitForFunction(
      (sel: string) => {
        const i = document.querySelector(sel) as { complete: boolean; naturalWidth: number } | null;
        return Boolean(i?.complete && i.naturalWidth > 0);
      },
      `.card:has(a[href="#/m/${memorialId}"]) img.cover`,
      { timeout: 15_000 },
    );
    expect(await cover.getAttribute('src')).toBe(coverUrl);
    await page.locator(`.card:has(a[href="#/m/${bare.id}"]) .cover-empty`).waitFor();
    await shot(page, '05c-list-with-covers');
    await expectAccessible(page, 'list with covers');
    await page.getByRole('link', { name: 'In loving memory of Mary Lou Williams' }).click();
    await page.getByRole('heading', { level: 2, name: 'Photos' }).waitFor();
  });

  it('runs and shows live progress in plain words, then plays and seeks the video', async () => {
    await page.getByRole('button', { name: 'Make the memorial video' }).click();
    await page.locator('#progress').waitFor();
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('cancel');
    const seen = new Set<string>();
    const stages = new Set<string>();
    let etaShown = false;
    let shotTaken = false;
    const until = Date.now() + 180_000;
    while (Date.now() < until) {
      if (await page.locator('#video-h').isVisible()) break;
      const pct = await page
        .locator('#pct')
        .textContent()
        .catch(() => null);
      const stage = await page
        .locator('#stage')
        .textContent()
        .catch(() => null);
      const eta = await page
        .locator('#eta')
        .textContent()
        .catch(() => null);
      if (pct) seen.add(pct);
      if (stage) stages.add(stage);
      if (eta && /left|Almost/.test(eta)) etaShown = true;
      if (!shotTaken && pct && /^([1-9]\d?)% done$/.test(pct)) {
        shotTaken = true;
        await shot(page, '06-progress');
        await expectAccessible(page, 'running');
      }
      await page.waitForTimeout(250);
    }
    await page.locator('#video-h').waitFor({ timeout: 5_000 });
    const nums = [...seen].map((s) => Number(/\d+/.exec(s)![0]));
    expect(nums.length, `percents seen: ${[...seen].join(', ')}`).toBeGreaterThanOrEqual(3);
    expect(Math.max(...nums)).toBeGreaterThan(Math.min(...nums));
    expect(
      [...stages].every((s) => !/_/.test(s)),
      [...stages].join(' | '),
    ).toBe(true); // words, never stage ids
    expect(etaShown, 'an estimated time left was shown').toBe(true);
    await expect.poll(() => page.locator('#outcome').textContent()).toContain('Your memorial video is ready');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('video-h');

    // The video: metadata only up front, a poster, plays, seeks (by Range requests) and downloads.
    const video = page.locator('#player');
    expect(await video.getAttribute('preload')).toBe('metadata');
    expect(await video.getAttribute('src')).toContain(`/api/v1/projects/${memorialId}/video`);
    const poster = await fetch(new URL((await video.getAttribute('poster'))!, base), { headers: { cookie: api.cookie } });
    expect(poster.status).toBe(200);
    expect(poster.headers.get('content-type')).toBe('image/jpeg');
    const ranges: number[] = [];
    page.on('response', (r) => r.url().includes('/video') && ranges.push(r.status()));
    await page.waitForFunction(() => (document.querySelector('#player') as HTMLVideoElement).readyState >= 1, null, { timeout: 20_000 });
    const duration = await video.evaluate((v: HTMLVideoElement) => v.duration);
    expect(duration).toBeGreaterThan(10);
    await video.evaluate((v: HTMLVideoElement) => {
      v.muted = true;
      return v.play();
    });
    await page.waitForFunction(() => (document.querySelector('#player') as HTMLVideoElement).currentTime > 0.5, null, { timeout: 20_000 });
    await video.evaluate((v: HTMLVideoElement) => v.pause());
    await shot(page, '07-video');
    await expectAccessible(page, 'video ready');
    const target = Math.floor(duration * 0.7);
    const landed = await video.evaluate(
      (v: HTMLVideoElement, to: number) =>
        new Promise<number>((resolve) => {
          v.addEventListener('seeked', () => resolve(v.currentTime), { once: true });
          v.currentTime = to;
        }),
      target,
    );
    expect(Math.abs(landed - target)).toBeLessThan(1);
    expect(await video.evaluate((v: HTMLVideoElement) => v.seekable.length > 0 && v.seekable.end(0) > 10)).toBe(true);
    expect(ranges).toContain(206);
    const dl = page.getByRole('link', { name: 'Download the video' });
    expect(await dl.getAttribute('download')).toMatch(/\.mp4$/);
    const file = await fetch(new URL((await dl.getAttribute('href'))!, base), { method: 'GET', headers: { range: 'bytes=0-15', cookie: api.cookie } });
    expect(file.status).toBe(206);
    expect(file.headers.get('content-type')).toBe('video/mp4');
  }, 240_000);

  it('remakes one transition and puts the video together again, with progress', async () => {
    const before = (await api.req('GET', `/projects/${memorialId}`)).body.video.job_id;
    await page.getByLabel('Transition', { exact: true }).selectOption({ label: 'Between photo 2 and photo 3' });
    const posted: string[] = [];
    const collect = (r: { method(): string; url(): string }) => void (r.method() === 'POST' && posted.push(new URL(r.url()).pathname));
    page.on('request', collect);
    await page.getByRole('button', { name: 'Make this transition again' }).click();
    await page.locator('#progress').waitFor();
    await expect
      .poll(
        () =>
          page
            .locator('#outcome')
            .textContent()
            .catch(() => ''),
        { timeout: 90_000, interval: 300 },
      )
      .toContain('put together again');
    const after = (await api.req('GET', `/projects/${memorialId}`)).body;
    expect(after.video.job_id).not.toBe(before);
    const jobs = (await api.req('GET', `/jobs?project_id=${memorialId}&limit=20`)).body.items as Array<{ type: string; status: string }>;
    expect(jobs.filter((j) => j.type === 'transition' && j.status === 'succeeded').length).toBeGreaterThanOrEqual(3);
    expect(jobs.some((j) => j.type === 'render' && j.status === 'succeeded')).toBe(true);
    await expect.poll(() => page.locator('#player').getAttribute('src')).toContain(after.video.job_id);
    // One server-side request did both (closing the tab in between changes nothing), not two from the page.
    page.off('request', collect);
    expect(posted).toEqual([`/api/v1/projects/${memorialId}/remake`]);
  }, 150_000);

  it('switches between English and Korean with every text from the catalogue', async () => {
    await page.getByRole('button', { name: '한국어' }).click();
    await page.getByRole('heading', { level: 2, name: '사진' }).waitFor();
    expect(await page.evaluate(() => document.documentElement.lang)).toBe('ko');
    await page.getByText('추모 영상', { exact: true }).waitFor();
    await page.getByRole('link', { name: '영상 내려받기' }).waitFor();
    await page.getByText('1981년 5월 28일').waitFor(); // dates in the reader's own way
    expect(await page.locator('#outcome').textContent()).toContain('영상을 다시 이어 붙였습니다');
    expect(await page.locator('#stage, #pct, .tile-status').allTextContents()).toEqual(expect.arrayContaining(['사진 1', '사진 2', '사진 3']));
    expect(await page.locator('h1 [lang=en]').textContent()).toBe('In loving memory of Mary Lou Williams');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('lang');
    await shot(page, '08-korean');
    await expectAccessible(page, 'memorial in Korean');
    await page.getByRole('button', { name: 'English' }).click();
    await page.getByRole('heading', { level: 2, name: 'Photos' }).waitFor();
    expect(await page.evaluate(() => document.documentElement.lang)).toBe('en');
  });

  it('stops a second memorial mid-run and says so', async () => {
    const p = await api.project({
      title: '할머니를 기억하며',
      subject_name: '김영희',
      born: '1941',
      died: '2026',
      transition_style: 'classic',
      transition_seconds: 6,
    });
    for (const f of PHOTOS) expect((await api.upload(p.id, [{ path: f }])).status).toBe(201);
    await page.goto(`${base}/#/m/${p.id}`);
    await page.getByRole('heading', { level: 1, name: '할머니를 기억하며' }).waitFor();
    expect(await page.locator('h1 [lang=ko]').count()).toBe(1);

    // Remove one photo (confirmed), then run and stop.
    await page.getByRole('button', { name: `Remove ${path.basename(PHOTOS[2]!)}` }).click();
    await expect.poll(() => page.locator('#photo-grid .tile-done').count()).toBe(2);
    await expect.poll(async () => (await api.req('GET', `/projects/${p.id}/assets`)).body.items.length).toBe(2);
    await page.getByRole('button', { name: 'Make the memorial video' }).click();
    await page.locator('#progress').waitFor();
    await page.waitForFunction(
      () => /^[1-9]/.test(document.querySelector('#pct')?.textContent ?? '') || !/Waiting/.test(document.querySelector('#stage')?.textContent ?? 'Waiting'),
      null,
      { timeout: 30_000 },
    );
    await page.getByRole('button', { name: 'Stop making the video' }).click();
    await page.locator('#outcome.notice-canceled').waitFor({ timeout: 30_000 });
    expect(await page.locator('#outcome').textContent()).toContain('you can make the video again');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('outcome');
    await expect.poll(async () => (await api.req('GET', `/projects/${p.id}`)).body.status).toBe('canceled');
    await page.getByRole('button', { name: 'Make the memorial video' }).waitFor();
    await shot(page, '09-canceled');
    await expectAccessible(page, 'canceled');
  });

  it('chooses Korean from the browser language and fits a 360 px phone screen', async () => {
    const phone = await browser.newContext({ locale: 'ko-KR', viewport: { width: 360, height: 780 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
    const pp = await phone.newPage();
    pp.on('pageerror', (err) => pageErrors.push(String(err)));
    await pp.goto(`${base}/`);
    // A new browser is signed out: it signs in, in Korean, with a code of its own.
    const ko = SIGN_IN_WORDS.ko;
    await pp.getByRole('heading', { level: 1, name: ko.title }).waitFor();
    expect(await pp.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360);
    await shot(pp, '10a-phone-sign-in-ko');
    await expectAccessible(pp, 'phone sign in (ko)');
    const seen = mailbox.count(EMAIL);
    await pp.getByLabel(ko.email).fill(EMAIL);
    await pp.getByRole('button', { name: ko.send }).click();
    await pp.getByRole('heading', { level: 1, name: ko.codeTitle }).waitFor();
    expect(await pp.locator('#code-sent').textContent()).toBe(`${EMAIL} 주소로 6자리 코드를 보냈습니다.`);
    const { code } = await mailbox.next(EMAIL, seen);
    await pp.getByLabel(ko.code).fill('999999' === code ? '888888' : '999999');
    await pp.getByRole('button', { name: ko.submit, exact: true }).click();
    await pp.getByText('이 코드로는 로그인할 수 없습니다.').waitFor();
    expect(await pp.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360);
    await shot(pp, '10b-phone-code-wrong-ko');
    await expectAccessible(pp, 'phone wrong code (ko)');
    await pp.getByLabel(ko.code).fill(code);
    await pp.getByRole('button', { name: ko.submit, exact: true }).click();
    await pp.getByRole('heading', { level: 1, name: '내 추모관' }).waitFor();
    await pp.getByRole('button', { name: '로그아웃' }).waitFor();
    await pp.getByRole('heading', { level: 1, name: '추모관' }).waitFor();
    await pp.locator('.card').nth(1).waitFor();
    expect(await pp.evaluate(() => document.documentElement.lang)).toBe('ko');
    expect(await pp.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360);
    await shot(pp, '10-phone-list-ko');
    await expectAccessible(pp, 'phone list (ko)');
    await pp.goto(`${base}/#/m/${memorialId}`);
    await pp.getByRole('heading', { level: 2, name: '사진' }).waitFor();
    await pp.locator('#player').waitFor();
    expect(await pp.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360);
    await shot(pp, '11-phone-memorial-ko');
    await expectAccessible(pp, 'phone memorial (ko)');
    await pp.goto(`${base}/#/new`);
    await pp.getByRole('heading', { level: 1, name: '추모관 만들기' }).waitFor();
    expect(await pp.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360);
    await shot(pp, '12-phone-create-ko');
    await expectAccessible(pp, 'phone create (ko)');
    await phone.close();
    expect(pageErrors).toEqual([]);
  });

  it('signs in a second browser by the one-click link in the mail, once', async () => {
    const seen = mailbox.count(EMAIL);
    const asked = await fetch(`${base}/api/v1/auth/sign-in`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: EMAIL }),
    });
    expect(asked.status).toBe(202);
    const mail = await mailbox.next(EMAIL, seen);
    expect(mail.link).toBe(`${base}/#/verify?email=${encodeURIComponent(EMAIL)}&code=${mail.code}`);

    const laptop = await browser.newContext({ locale: 'en-US', viewport: { width: 1100, height: 900 } });
    const lp = await laptop.newPage();
    lp.on('pageerror', (err) => pageErrors.push(String(err)));
    await lp.goto(mail.link);
    await lp.getByRole('heading', { level: 1, name: 'My memorials' }).waitFor();
    await lp.locator(`.card a[href="#/m/${memorialId}"]`).waitFor();
    expect(await lp.locator('#account-email').textContent()).toBe(EMAIL);
    // The code left the address bar and the history (the address was replaced, not added to).
    expect(new URL(lp.url()).hash).toBe('#/');
    const visited: string[] = await lp.evaluate(() => window.navigation.entries().map((e: { url: string }) => e.url));
    expect(visited.filter((u) => u.includes('code='))).toEqual([]);
    await shot(lp, '13-link-signed-in');
    await expectAccessible(lp, 'signed in by the link');
    await laptop.close();

    // The same link again, in a third browser: used once already, so it says so and offers a new code.
    const third = await browser.newContext({ locale: 'en-US', viewport: { width: 1100, height: 900 } });
    const tp = await third.newPage();
    tp.on('pageerror', (err) => pageErrors.push(String(err)));
    await tp.goto(mail.link);
    await tp.getByRole('heading', { level: 1, name: 'This sign-in link did not work' }).waitFor();
    await tp.getByRole('alert').getByText('That code did not work.').waitFor();
    expect(await tp.locator('#account-email').count()).toBe(0);
    await shot(tp, '14-link-used');
    await expectAccessible(tp, 'a used link');
    await tp.getByRole('link', { name: 'Ask for a new code' }).click();
    await tp.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor();
    expect(await tp.getByLabel('Email address').inputValue()).toBe(EMAIL);
    await third.close();
  });

  it('says how long to wait after too many tries, and when the server cannot be reached', async () => {
    const fresh = await browser.newContext({ locale: 'en-US', viewport: { width: 1100, height: 900 } });
    const fp = await fresh.newPage();
    fp.on('pageerror', (err) => pageErrors.push(String(err)));
    await fp.goto(`${base}/#/sign-in`);
    await fp.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor();
    await fp.getByLabel('Email address').fill('someone.busy@family.test');

    // No connection: said in words, nothing lost from the form.
    await fresh.setOffline(true);
    await fp.getByRole('button', { name: 'Send me a code' }).click();
    await fp.getByRole('alert').getByText('The server could not be reached.').waitFor();
    expect(await fp.getByLabel('Email address').inputValue()).toBe('someone.busy@family.test');
    await shot(fp, '16-sign-in-offline');
    await expectAccessible(fp, 'sign in: no network');
    await fresh.setOffline(false);

    // Five codes for one address are all it gets in 15 minutes; the sixth is refused with the wait in words.
    for (let i = 0; i < 5; i++) {
      const r = await fetch(`${base}/api/v1/auth/sign-in`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'someone.busy@family.test' }),
      });
      expect(r.status).toBe(202);
    }
    const refused = fp.waitForResponse((r) => r.url().endsWith('/api/v1/auth/sign-in'));
    await fp.getByRole('button', { name: 'Send me a code' }).click();
    const answer = await refused;
    expect(answer.status()).toBe(429);
    const minutes = Math.ceil(Number(answer.headers()['retry-after']) / 60);
    await fp.getByRole('alert').getByText(`Too many tries. To keep your account safe, please wait about ${minutes} minutes before trying again.`).waitFor();
    expect(minutes).toBeGreaterThanOrEqual(14);
    await shot(fp, '17-sign-in-too-many');
    await expectAccessible(fp, 'sign in: too many tries');
    await fresh.close();
  });

  it('sends the family to sign in when the session ends, and back to where they were', async () => {
    await page.goto(`${base}/#/`);
    await page.getByRole('heading', { level: 1, name: 'My memorials' }).waitFor();
    // The list is shown (its request done) before the session goes: on a busy machine the heading came
    // first and the list's own request met the cleared cookie.
    const memorial = page.getByRole('link', { name: 'In loving memory of Mary Lou Williams' });
    await memorial.waitFor();
    // The session goes (as when it expires): the next call answers 401.
    await ctx.clearCookies();
    await memorial.click();
    await page.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor();
    expect(new URL(page.url()).hash).toBe(`#/sign-in?next=${encodeURIComponent(`/m/${memorialId}`)}`);
    await page.getByText('Please sign in to see this page. You will come back here afterwards.').waitFor();
    expect(await page.locator('#account-email').count()).toBe(0);
    await expect.poll(() => page.evaluate(() => document.activeElement?.tagName)).toBe('H1');
    await shot(page, '15-sign-in-to-continue');
    await expectAccessible(page, 'sign in to continue');

    await signInWithCode(page, mailbox, EMAIL);
    await page.getByRole('heading', { level: 1, name: 'In loving memory of Mary Lou Williams' }).waitFor();
    expect(new URL(page.url()).hash).toBe(`#/m/${memorialId}`);
    await page.locator('#player').waitFor();
    api = apiAs(base, await sessionCookie(ctx));
  });

  it('signs out from the header, on the server too', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor();
    await page.locator('#sign-in-why').getByText('You are signed out.').waitFor();
    await expect.poll(() => page.locator('#live').textContent()).toContain('You are signed out');
    await expect.poll(() => page.evaluate(() => document.activeElement?.tagName)).toBe('H1');
    expect(await page.locator('#account-email').count()).toBe(0);
    expect((await ctx.cookies()).some((c) => c.name === 'mt_session')).toBe(false);
    // The session is over, not only forgotten by this browser: its cookie now gets 401.
    const me = await api.req('GET', '/me');
    expect([me.status, me.body.error.code]).toEqual([401, 'unauthenticated']);
    await shot(page, '18-signed-out');
    await expectAccessible(page, 'signed out');
    // Going back to a memorial asks to sign in again.
    await page.goto(`${base}/#/m/${memorialId}`);
    await page.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor();
    expect(pageErrors).toEqual([]);
  });
});
