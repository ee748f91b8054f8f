// Photo captions (issue 13) on the family page and in the finished video, in a real (headless)
// Chromium against the real stack: the organiser types a Korean caption under one photo (Enter) and an
// Arabic one under the other (leaving the field), they are kept (a reload shows them, the page reads in
// Korean too), the memorial is made, and Tesseract reads each caption back from a frame of the video
// where its photo is shown, and neither while the photos change. Screenshots and axe on each state.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { type CaptionLayout, renderCaption, runFfmpeg } from '@mt/media';
import type { Browser, Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CORPUS, Stack } from '../lib/stack.js';
import { waitFor } from '../lib/wait.js';
import { expectAccessible, launch, shot } from './browser.js';
import { Mailbox } from './mailbox.js';
import { type AccountApi, apiAs, sessionCookie, signInWithCode } from './session.js';

const run = promisify(execFile);
const HOUSE = path.join(CORPUS, 'photos/kodak/kodim01.png');
const TRUMPET = path.join(CORPUS, 'photos/people_pd/louis_armstrong_gottlieb.jpg');
const KO = '할머니의 결혼식, 부산 1962년';
const AR = 'زفاف جدتي في القاهرة';
const W = 1280;
const H = 720;
const FPS = 24;

const stack = new Stack();
const mailbox = new Mailbox();
let api: AccountApi;
let browser: Browser;
let page: Page;
let base: string;
let memorialId: string;
let work: string;
const pageErrors: string[] = [];

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'mt-captions-browser-'));
  const smtpUrl = await mailbox.start();
  const [e, b] = await Promise.all([stack.start({ env: { SMTP_URL: smtpUrl } }), launch()]);
  base = e.url;
  browser = b;
  const ctx = await browser.newContext({ locale: 'en-US', viewport: { width: 1100, height: 900 } });
  page = await ctx.newPage();
  page.on('pageerror', (err) => pageErrors.push(String(err)));
  await page.goto(`${base}/#/sign-in`);
  await signInWithCode(page, mailbox, 'captions@family.test');
  await page.getByRole('heading', { level: 1, name: 'My memorials' }).waitFor();
  api = apiAs(base, await sessionCookie(ctx));
  // 10 s transitions: each photo is on screen long enough to find a frame with its caption fully on.
  const project = await api.project({ title: 'Grace Kim', subject_name: 'Grace Kim', fps: FPS, transition_seconds: 10, transition_style: 'classic' });
  memorialId = project.id;
  const files = [
    { data: await readFile(HOUSE), name: 'house.png', type: 'image/png' },
    { data: await readFile(TRUMPET), name: 'trumpet.jpg', type: 'image/jpeg' },
  ];
  expect((await api.upload(memorialId, files)).status).toBe(201);
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await stack.stop();
  await mailbox.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

const captions = async () => ((await api.req('GET', `/projects/${memorialId}/assets`)).body.items as Array<{ caption: string | null }>).map((a) => a.caption);

/** Characters of `want` (spaces and punctuation aside) found in order in `got`: longest common subsequence / the longer of the two. */
function recognised(want: string, got: string): number {
  const clean = (s: string) => [...s.normalize('NFC').replace(/[\s\p{P}\u200e\u200f]/gu, '')];
  const a = clean(want);
  const b = clean(got);
  const dp = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) dp[i]![j] = a[i - 1] === b[j - 1] ? dp[i - 1]![j - 1]! + 1 : Math.max(dp[i - 1]![j]!, dp[i]![j - 1]!);
  return dp[a.length]![b.length]! / Math.max(a.length, b.length); // what is read beyond the text counts against it
}

/** Frame n of the video, the caption's block cropped, white letters kept as black on white, read by Tesseract. */
async function ocr(video: string, n: number, box: CaptionLayout['box'], lang: 'kor' | 'ara'): Promise<string> {
  const png = path.join(work, `f${n}-${lang}.png`);
  await runFfmpeg(['-i', video, '-vf', `select=eq(n\\,${n})`, '-fps_mode', 'passthrough', '-frames:v', '1', png]);
  const crop = png.replace(/\.png$/, '-text.png');
  const p = 12;
  await sharp(png)
    .extract({ left: box.x - p, top: box.y - p, width: box.width + 2 * p, height: box.height + 2 * p })
    .greyscale()
    .threshold(190)
    .negate()
    .resize({ width: (box.width + 2 * p) * 2 })
    .toFile(crop);
  return (await run('tesseract', [crop, '-', '-l', lang, '--psm', '7'])).stdout.trim();
}

describe('captions on the family page and in the video', () => {
  it('are typed under each photo, saved on Enter or on leaving the field, and kept', async () => {
    await page.goto(`${base}/#/m/${memorialId}`);
    const house = page.getByLabel('Caption of house.png');
    const trumpet = page.getByLabel('Caption of trumpet.jpg');
    await house.waitFor();
    expect(await house.getAttribute('placeholder')).toBe('Add a caption');
    await house.fill(KO);
    await house.press('Enter');
    await expect.poll(captions, { timeout: 10_000 }).toEqual([KO, null]);
    await trumpet.fill(AR);
    await trumpet.press('Tab'); // leaving the field saves it
    await expect.poll(captions, { timeout: 10_000 }).toEqual([KO, AR]);
    expect(await trumpet.getAttribute('dir')).toBe('auto');
    await shot(page, 'captions-01-typed');
    await expectAccessible(page, 'captions: typed');

    // Escape puts the saved caption back; emptying a field removes the caption.
    await house.fill('oops');
    await house.press('Escape');
    expect(await house.inputValue()).toBe(KO);

    await page.reload();
    await page.getByLabel('Caption of trumpet.jpg').waitFor();
    expect(await page.getByLabel('Caption of house.png').inputValue()).toBe(KO);
    expect(await page.getByLabel('Caption of trumpet.jpg').inputValue()).toBe(AR);

    await page.evaluate(() => (globalThis as any).localStorage.setItem('mt.lang', 'ko'));
    await page.reload();
    await page.getByLabel('house.png 사진 설명').waitFor();
    expect(await page.getByLabel('house.png 사진 설명').inputValue()).toBe(KO);
    await shot(page, 'captions-02-ko');
    await expectAccessible(page, 'captions: Korean');
    await page.evaluate(() => (globalThis as any).localStorage.setItem('mt.lang', 'en'));
    expect(pageErrors).toEqual([]);
  }, 120_000);

  it('the video shows each caption over its own photo (read back by Tesseract), and neither while the photos change', async () => {
    expect((await api.req('POST', `/projects/${memorialId}/run`)).status).toBe(202);
    const project = await waitFor(
      async () => {
        const p = (await api.req('GET', `/projects/${memorialId}`)).body;
        return p.video || p.status === 'failed' ? p : undefined;
      },
      { timeoutMs: 480_000, intervalMs: 1000, what: 'the memorial video' },
    );
    expect(project.status).not.toBe('failed');
    const res = await fetch(`${base}${project.video.url}`, { headers: { cookie: api.cookie } });
    expect(res.status).toBe(200);
    const video = path.join(work, 'memorial.mp4');
    await writeFile(video, Buffer.from(await res.arrayBuffer()));

    const ko = await renderCaption({ text: KO, width: W, height: H, output: path.join(work, 'ko.png') });
    const ar = await renderCaption({ text: AR, width: W, height: H, output: path.join(work, 'ar.png') });
    // 10 s clips at 24 fps: the house (first photo) is alone on screen from about 1.2 s to 3.6 s, the
    // transition covers frame 120 whatever its length, the trumpeter opens the closing clip (frame 240).
    const first = await ocr(video, 48, ko.box, 'kor');
    const last = await ocr(video, 252, ar.box, 'ara');
    console.log(
      `video OCR: frame 48 "${first}" (${(recognised(KO, first) * 100).toFixed(0)} %), frame 252 "${last}" (${(recognised(AR, last) * 100).toFixed(0)} %)`,
    );
    expect(recognised(KO, first)).toBeGreaterThanOrEqual(0.85);
    expect(recognised(AR, last)).toBeGreaterThanOrEqual(0.85);
    expect(recognised(KO, await ocr(video, 120, ko.box, 'kor'))).toBeLessThan(0.3);
    expect(recognised(AR, await ocr(video, 120, ar.box, 'ara'))).toBeLessThan(0.3);
    expect(recognised(AR, await ocr(video, 48, ar.box, 'ara'))).toBeLessThan(0.3);
  }, 600_000);
});
