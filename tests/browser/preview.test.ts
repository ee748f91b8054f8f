// The draft preview on the family page, in a real (headless) Chromium against the real stack: the
// organiser presses "Preview" beside "Make the video", watches it being made, and the draft (854×480)
// plays in its own player, seeking by Range; the memorial still has no video. The page reads in Korean too.
// Each state leaves a screenshot in test-output/screenshots and must pass axe (no serious/critical).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CORPUS, Stack } from '../lib/stack.js';
import { expectAccessible, launch, shot } from './browser.js';
import { Mailbox } from './mailbox.js';
import { type AccountApi, apiAs, sessionCookie, signInWithCode } from './session.js';

const PHOTOS = ['mlw_01_1946_piano.jpg', 'mlw_03_1947_cbs_studio.jpg'].map((f) => path.join(CORPUS, 'photos/person_mary_lou_williams', f));
const MUSIC = path.join(CORPUS, 'audio/bach_goldberg_aria_da_capo_ishizaka_cc0.ogg');

// Code passed to page.evaluate runs in the browser; the project compiles without the DOM library.
/* eslint-disable @typescript-eslint/no-explicit-any */
declare const document: any;
type HTMLVideoElement = {
  readyState: number;
  duration: number;
  currentTime: number;
  videoWidth: number;
  videoHeight: number;
  muted: boolean;
  play(): Promise<void>;
  pause(): void;
  addEventListener(e: string, f: () => void, o?: unknown): void;
};

const stack = new Stack();
const mailbox = new Mailbox();
let api: AccountApi;
let browser: Browser;
let page: Page;
let base: string;
let memorialId: string;
const pageErrors: string[] = [];

beforeAll(async () => {
  const smtpUrl = await mailbox.start();
  const [e, b] = await Promise.all([stack.start({ env: { SMTP_URL: smtpUrl } }), launch()]);
  base = e.url;
  browser = b;
  const ctx = await browser.newContext({ locale: 'en-US', viewport: { width: 1100, height: 900 } });
  page = await ctx.newPage();
  page.on('pageerror', (err) => pageErrors.push(String(err)));
  await page.goto(`${base}/#/sign-in`);
  await signInWithCode(page, mailbox, 'draft.preview@family.test');
  await page.getByRole('heading', { level: 1, name: 'My memorials' }).waitFor();
  api = apiAs(base, await sessionCookie(ctx));
  const project = await api.project({ title: 'In loving memory of Mary Lou Williams', subject_name: 'Mary Lou Williams', fps: 24 });
  memorialId = project.id;
  const files = [...PHOTOS.map((f) => ({ data: readFileSync(f), name: path.basename(f), type: 'image/jpeg' })), { path: MUSIC }];
  expect((await api.upload(memorialId, files)).status).toBe(201);
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await stack.stop();
  await mailbox.stop();
});

describe('the draft preview on the family page', () => {
  it('"Preview" makes a draft that plays in Chromium, and the video stays unmade', async () => {
    await page.goto(`${base}/#/m/${memorialId}`);
    const preview = page.getByRole('button', { name: 'Preview', exact: true });
    await preview.waitFor();
    expect(await page.getByRole('button', { name: 'Make the memorial video' }).isVisible()).toBe(true);
    await page.getByText('A quick, smaller draft to check the order and the story.').waitFor();
    await shot(page, 'preview-01-buttons');
    await expectAccessible(page, 'preview: buttons');

    // Listening from before the player exists: a small draft can be fetched whole by its first requests.
    const statuses: number[] = [];
    page.on('response', (r) => r.url().includes('/preview') && statuses.push(r.status()));
    await preview.click();
    await page.locator('#progress').waitFor({ timeout: 15_000 });
    await expect.poll(() => page.locator('#outcome').textContent(), { timeout: 240_000, interval: 500 }).toContain('The draft preview is ready');
    await page.getByRole('heading', { level: 3, name: 'Draft preview' }).waitFor();
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('preview-h');

    const video = page.locator('#preview-player');
    expect(await video.getAttribute('src')).toContain(`/api/v1/projects/${memorialId}/preview`);
    expect(await video.getAttribute('aria-label')).toBe('Draft preview: In loving memory of Mary Lou Williams');
    await page.waitForFunction(() => (document.querySelector('#preview-player') as HTMLVideoElement).readyState >= 1, null, { timeout: 20_000 });
    expect(await video.evaluate((v: HTMLVideoElement) => [v.videoWidth, v.videoHeight])).toEqual([854, 480]);
    expect(await video.evaluate((v: HTMLVideoElement) => v.duration)).toBeCloseTo(12, 0);
    await video.evaluate((v: HTMLVideoElement) => {
      v.muted = true;
      return v.play();
    });
    // Decoded frames at hand and time moving: it plays.
    await page.waitForFunction(
      () => {
        const v = document.querySelector('#preview-player') as HTMLVideoElement;
        return v.readyState >= 2 && v.currentTime > 0.5;
      },
      null,
      { timeout: 20_000 },
    );
    await video.evaluate((v: HTMLVideoElement) => v.pause());
    const landed = await video.evaluate(
      (v: HTMLVideoElement, to: number) =>
        new Promise<number>((resolve) => {
          v.addEventListener('seeked', () => resolve(v.currentTime), { once: true });
          v.currentTime = to;
        }),
      9,
    );
    expect(Math.abs(landed - 9)).toBeLessThan(1);
    expect(statuses).toContain(206);
    await shot(page, 'preview-02-playing');
    await expectAccessible(page, 'preview: playing');

    // The draft is not the video: no video panel, the run button still says "Make the memorial video".
    expect(await page.locator('#player').count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Make the memorial video' }).isEnabled()).toBe(true);
    const project = (await api.req('GET', `/projects/${memorialId}`)).body;
    expect(project.video).toBeNull();
    expect(project.preview.url).toBe(`/api/v1/projects/${memorialId}/preview`);
  }, 300_000);

  it('reads in Korean, and the draft is still there after a reload', async () => {
    await page.evaluate(() => (globalThis as any).localStorage.setItem('mt.lang', 'ko'));
    await page.reload();
    await page.getByRole('button', { name: '미리보기', exact: true }).waitFor();
    await page.getByRole('heading', { level: 3, name: '미리보기 영상' }).waitFor();
    await page.waitForFunction(() => (document.querySelector('#preview-player') as HTMLVideoElement).readyState >= 1, null, { timeout: 20_000 });
    await shot(page, 'preview-03-ko');
    await expectAccessible(page, 'preview: Korean');
    expect(pageErrors).toEqual([]);
  }, 60_000);
});
