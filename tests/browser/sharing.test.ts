// Sharing a memorial, in a real (headless) Chromium against the real stack. The organiser (signed in
// with the code mailed to a real SMTP server) makes an invitation link, sees its QR code and copies it;
// a relative opens it in a second browser with no account, gives their name and adds photos, sees and
// takes back their own; the organiser sees who added what and approves it, and the next video uses
// it. A link to the video, with a password and downloads allowed, plays in a third browser with no
// other credential. Unknown and revoked links are told kindly; the relative's page reads in Korean.
// Each state leaves a screenshot in test-output/screenshots and must pass axe (no serious/critical).
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CORPUS, Stack } from '../lib/stack.js';
import { expectAccessible, launch, shot } from './browser.js';
import { Mailbox } from './mailbox.js';
import { type AccountApi, apiAs, sessionCookie, signInWithCode } from './session.js';

const PHOTOS = ['mlw_01_1946_piano.jpg', 'mlw_03_1947_cbs_studio.jpg', 'mlw_05_1947_cafe_society.jpg'].map((f) =>
  path.join(CORPUS, 'photos/person_mary_lou_williams', f),
);
const asUpload = (f: string) => ({ name: path.basename(f), mimeType: 'image/jpeg', buffer: readFileSync(f) });

/* eslint-disable @typescript-eslint/no-explicit-any */
declare const document: any;

const stack = new Stack();
const mailbox = new Mailbox();
const EMAIL = 'organiser@family.test';
const RELATIVE = 'Cousin Min-ji';
const PASSWORD = 'piano1946';
let api: AccountApi;
let browser: Browser;
let organiser: Page;
let relativeCtx: BrowserContext;
let relative: Page;
let base: string;
let memorialId: string;
let inviteUrl: string;
let contributedId: string;
const pageErrors: string[] = [];
/** Every address any browser asked the server for: a link's key must never be in one. */
const requested: string[] = [];

async function newPage(ctx: BrowserContext): Promise<Page> {
  const p = await ctx.newPage();
  p.on('pageerror', (err) => pageErrors.push(String(err)));
  p.on('dialog', (d) => void d.accept());
  p.on('request', (r) => requested.push(r.url()));
  return p;
}

const keyOf = (url: string) => /#\/s\/([\w-]+)$/.exec(url)![1]!;

beforeAll(async () => {
  const smtpUrl = await mailbox.start();
  const [e, b] = await Promise.all([stack.start({ env: { SMTP_URL: smtpUrl } }), launch()]);
  base = e.url;
  browser = b;
  const ctx = await browser.newContext({ locale: 'en-US', viewport: { width: 1100, height: 900 } });
  organiser = await newPage(ctx);
  await organiser.goto(`${base}/#/sign-in`);
  await signInWithCode(organiser, mailbox, EMAIL);
  await organiser.getByRole('heading', { level: 1, name: 'My memorials' }).waitFor();
  api = apiAs(base, await sessionCookie(ctx));
  const project = await api.project({ title: 'In loving memory of Mary Lou Williams', subject_name: 'Mary Lou Williams', born: '1910', died: '1981-05-28' });
  memorialId = project.id;
  const asFile = (f: string) => ({ data: readFileSync(f), name: path.basename(f), type: 'image/jpeg' });
  expect((await api.upload(memorialId, [asFile(PHOTOS[0]!), asFile(PHOTOS[1]!)])).status).toBe(201);
  relativeCtx = await browser.newContext({ locale: 'en-US', viewport: { width: 420, height: 860 } });
  relative = await newPage(relativeCtx);
});
afterAll(async () => {
  await browser?.close();
  await stack.stop();
  await mailbox.stop();
});

describe('sharing a memorial', () => {
  let broken = false;
  beforeEach((c) => {
    if (broken) c.skip();
  });
  afterEach((c) => {
    if (c.task.result?.state === 'fail') broken = true;
  });

  it('makes an invitation link, shows it as a QR code and lists it', async () => {
    await organiser.goto(`${base}/#/m/${memorialId}`);
    await organiser.getByRole('heading', { level: 2, name: 'Invite family' }).waitFor();
    expect(await organiser.getByLabel('Let me approve each photo before it is used').isChecked()).toBe(true);
    await organiser.getByLabel('Who is it for? (optional)').fill('Cousins in Busan');
    await organiser.getByRole('button', { name: 'Make an invitation link' }).click();
    const field = organiser.getByLabel('The link', { exact: true });
    await field.waitFor();
    inviteUrl = await field.inputValue();
    expect(inviteUrl).toMatch(new RegExp(`^${base.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/#/s/[\\w-]{40,}$`));
    await organiser.getByRole('img', { name: 'QR code of the invitation link “Cousins in Busan”' }).waitFor();
    expect(await organiser.locator('#contribute-qr path').getAttribute('d')).toMatch(/^M\d+ \d+h1v1h-1z/);
    await organiser.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });
    await organiser.getByRole('button', { name: 'Copy the link' }).click();
    await organiser.getByRole('button', { name: 'Copied' }).waitFor();
    expect(await organiser.evaluate(() => (globalThis as any).navigator.clipboard.readText())).toBe(inviteUrl);
    await organiser.locator('#contribute-links').getByText('used 0 times').waitFor();
    await shot(organiser, 'share-01-invite-link');
    await expectAccessible(organiser, 'sharing: invitation link made, QR code');
  });

  it('lets a relative with no account add photos with their name, see them and take one back', async () => {
    await relative.goto(inviteUrl);
    await relative.getByRole('heading', { level: 1, name: 'In loving memory of Mary Lou Williams' }).waitFor();
    await relative.getByText('May 28, 1981').waitFor();
    expect(await relativeCtx.cookies()).toEqual([]);
    await relative.getByText('You have not added any photos yet.').waitFor();
    // No name yet: asked for it before any photo is chosen.
    await relative.getByRole('button', { name: 'Choose photos' }).click();
    await relative.getByText('Please write your name first.').waitFor();
    expect(await relative.evaluate(() => document.activeElement?.id)).toBe('contributor-name');
    await shot(relative, 'share-02-contribute-name-needed');
    await expectAccessible(relative, 'contribute: name needed');

    await relative.getByLabel('Your name').fill(RELATIVE);
    const [chooser] = await Promise.all([relative.waitForEvent('filechooser'), relative.getByRole('button', { name: 'Choose photos' }).click()]);
    await chooser.setFiles([asUpload(PHOTOS[2]!), asUpload(PHOTOS[0]!)]);
    const mine = relative.locator('#my-uploads li');
    await expect.poll(() => mine.count(), { timeout: 60_000 }).toBe(2);
    await relative.locator('#my-uploads').getByText('The family will look at it soon').first().waitFor();
    await shot(relative, 'share-03-contribute-uploaded');
    await expectAccessible(relative, 'contribute: my uploads');

    // The second one was a mistake: taken back, from the server too.
    await relative.getByRole('button', { name: `Remove ${path.basename(PHOTOS[0]!)}` }).click();
    await expect.poll(() => mine.count()).toBe(1);
    const assets = (await api.req('GET', `/projects/${memorialId}/assets`)).body.items as Array<{
      id: string;
      filename: string;
      contributor_name: string | null;
      review: string;
    }>;
    const theirs = assets.filter((a) => a.contributor_name === RELATIVE);
    expect(theirs.map((a) => [a.filename, a.review])).toEqual([[path.basename(PHOTOS[2]!), 'pending']]);
    contributedId = theirs[0]!.id;
    expect(requested.filter((u) => u.includes(keyOf(inviteUrl)) && !u.includes('#'))).toEqual([]);
  });

  it('reads in Korean for the relative', async () => {
    await relative.getByRole('button', { name: '한국어' }).click();
    await relative.getByRole('heading', { level: 2, name: '내가 올린 사진' }).waitFor();
    await relative.getByLabel('이름').waitFor();
    await shot(relative, 'share-04-contribute-ko');
    await expectAccessible(relative, 'contribute: Korean');
    await relative.getByRole('button', { name: 'English' }).click();
  });

  it('shows the organiser who added the photo, and approves it', async () => {
    await organiser.reload();
    const panel = organiser.locator('#relatives-grid');
    await organiser.getByRole('heading', { level: 2, name: 'Added by relatives' }).waitFor();
    await panel.getByText(RELATIVE).waitFor();
    await panel.getByText('Waiting for your approval').waitFor();
    await organiser
      .locator('#contribute-links')
      .getByText(/used [1-9]\d* times/)
      .waitFor();
    await shot(organiser, 'share-05-relatives-pending');
    await expectAccessible(organiser, 'sharing: a relative’s photo waiting');
    await organiser.getByRole('button', { name: `Approve ${path.basename(PHOTOS[2]!)} from ${RELATIVE}` }).click();
    await panel.getByText('Approved').waitFor();
    const asset = (await api.req('GET', `/projects/${memorialId}/assets`)).body.items.find((a: { id: string }) => a.id === contributedId);
    expect(asset.review).toBe('approved');
    await shot(organiser, 'share-06-relatives-approved');
    await expectAccessible(organiser, 'sharing: approved');
    // The relative sees it is in.
    await relative.reload();
    await relative.locator('#my-uploads').getByText('In the memorial').waitFor();
  });

  it('makes the video with the relative’s photo', async () => {
    const run = await api.req('POST', `/projects/${memorialId}/run`);
    expect(run.status).toBe(202);
    await expect.poll(async () => (await api.req('GET', `/jobs/${run.body.id}`)).body.status, { timeout: 240_000, interval: 1000 }).toBe('succeeded');
    const canvases = (await api.req('GET', `/jobs?project_id=${memorialId}&type=canvas`)).body.items.flatMap(
      (j: { result: { canvases?: Array<{ asset_id: string }> } | null }) => j.result?.canvases ?? [],
    );
    expect(canvases.map((c: { asset_id: string }) => c.asset_id)).toContain(contributedId);
  }, 300_000);

  it('plays the video through a link with a password, in a browser with no other credential', async () => {
    await organiser.reload();
    await organiser.getByRole('heading', { level: 2, name: 'Share the video' }).waitFor();
    await organiser.getByLabel('Let them download the video').check();
    await organiser.getByLabel('Password (optional)').fill(PASSWORD);
    await organiser.getByRole('button', { name: 'Make a link to the video' }).click();
    const field = organiser.locator('#made-view-url');
    await field.waitFor();
    const viewUrl = await field.inputValue();
    await organiser.locator('#view-links').getByText('download allowed · password · used 0 times').waitFor();
    await shot(organiser, 'share-07-view-link');
    await expectAccessible(organiser, 'sharing: video link made');

    const viewerCtx = await browser.newContext({ locale: 'en-US', viewport: { width: 1000, height: 800 } });
    const viewer = await newPage(viewerCtx);
    await viewer.goto(viewUrl);
    await viewer.getByRole('heading', { level: 1, name: 'This link has a password' }).waitFor();
    await shot(viewer, 'share-08-password');
    await expectAccessible(viewer, 'view link: password asked');
    await viewer.getByLabel('Password', { exact: true }).fill('wrong-one');
    await viewer.getByRole('button', { name: 'Open' }).click();
    await viewer.getByText('That password is not right.').waitFor();
    await shot(viewer, 'share-09-password-wrong');
    await expectAccessible(viewer, 'view link: wrong password');
    await viewer.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await viewer.getByRole('button', { name: 'Open' }).click();
    await viewer.getByRole('heading', { level: 1, name: 'In loving memory of Mary Lou Williams' }).waitFor();
    const video = viewer.locator('#shared-player');
    const played = await video.evaluate(async (v: any) => {
      v.muted = true;
      await v.play();
      await new Promise((r) => setTimeout(r, 1200));
      return { time: v.currentTime, duration: v.duration, error: v.error?.code ?? null };
    });
    expect(played.error).toBeNull();
    expect(played.time).toBeGreaterThan(0);
    expect(played.duration).toBeGreaterThan(5);
    await video.evaluate((v: any) => v.pause());
    expect(await viewer.getByRole('link', { name: 'Download the video' }).getAttribute('href')).toBe(await video.getAttribute('src'));
    expect(await viewerCtx.cookies()).toEqual([]);
    await shot(viewer, 'share-10-video');
    await expectAccessible(viewer, 'view link: the video');
    expect(requested.filter((u) => u.includes(keyOf(viewUrl)) && !u.includes('#'))).toEqual([]);
    // In Korean, the video keeps its place.
    await viewer.getByRole('button', { name: '한국어' }).click();
    await viewer.getByRole('link', { name: '영상 내려받기' }).waitFor();
    await shot(viewer, 'share-10b-video-ko');
    await expectAccessible(viewer, 'view link: the video, Korean');
    await viewerCtx.close();
  }, 120_000);

  it('fits a 360 px phone screen, the organiser’s sharing panels and the relative’s page alike', async () => {
    /** What sticks out past the screen's right edge (empty when the page fits). */
    const overflowing = (p: Page) =>
      p.evaluate(() =>
        document.documentElement.scrollWidth <= 360
          ? []
          : [...document.querySelectorAll('#main *')]
              .filter((el: any) => el.getBoundingClientRect().right > 360)
              .map((el: any) => `${el.tagName.toLowerCase()}#${el.id}.${el.className}`)
              .slice(0, 8),
      );
    const phone = await organiser.context().newPage();
    await phone.setViewportSize({ width: 360, height: 780 });
    await phone.goto(`${base}/#/m/${memorialId}`);
    await phone.getByRole('button', { name: '한국어' }).click();
    await phone.getByRole('heading', { level: 2, name: '가족 초대하기' }).waitFor();
    await phone.getByRole('button', { name: '초대 링크 만들기' }).click();
    await phone.getByRole('img', { name: /QR 코드/ }).waitFor();
    expect(await overflowing(phone)).toEqual([]);
    await shot(phone, 'share-13-phone-organiser-ko');
    await expectAccessible(phone, 'sharing on a phone (ko)');
    const url = await phone.locator('#made-contribute-url').inputValue();
    await phone.getByRole('button', { name: 'English' }).click();
    await phone.goto(url);
    await phone.getByRole('heading', { level: 2, name: 'My uploads' }).waitFor();
    expect(await overflowing(phone)).toEqual([]);
    await phone.close();
  });

  it('says kindly when a link is unknown or revoked', async () => {
    await relative.goto(`${base}/#/s/${randomBytes(32).toString('base64url')}`);
    await relative.getByRole('heading', { level: 1, name: 'This link no longer works' }).waitFor();
    await shot(relative, 'share-11-unknown-link');
    await expectAccessible(relative, 'link: unknown');

    await organiser.getByRole('button', { name: 'Revoke Cousins in Busan' }).click();
    await organiser.getByText('No links yet.').first().waitFor();
    await shot(organiser, 'share-12-revoked');
    await expectAccessible(organiser, 'sharing: link revoked');
    await relative.goto(inviteUrl);
    await relative.reload();
    await relative.getByRole('heading', { level: 1, name: 'This link no longer works' }).waitFor();
    expect(pageErrors).toEqual([]);
  });
});
