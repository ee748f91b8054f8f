import { execFileSync } from 'node:child_process';
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UnsupportedMediaError } from './errors.js';
import { bombPng, MUSIC, photo, tempDir } from './testkit.js';
import { inspectUpload } from './upload.js';

let t: Awaited<ReturnType<typeof tempDir>>;
beforeAll(async () => {
  t = await tempDir();
});
afterAll(async () => {
  await t.cleanup();
});
const limits = { maxPixels: 50_000_000, maxAudioSeconds: 20 * 60 };

async function reject(path: string) {
  const err = await inspectUpload(path, limits).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(UnsupportedMediaError);
  return err as UnsupportedMediaError;
}

describe('inspectUpload', () => {
  it('accepts a real JPEG', async () => {
    expect(await inspectUpload(photo('people_pd/louis_armstrong_gottlieb.jpg'), limits)).toEqual({
      kind: 'photo',
      contentType: 'image/jpeg',
      ext: 'jpg',
      width: 886,
      height: 1217,
    });
  });

  it('a PNG renamed .jpg is still a PNG', async () => {
    const p = t.file('really-png.jpg');
    await copyFile(photo('kodak/kodim04.png'), p);
    expect(await inspectUpload(p, limits)).toMatchObject({ kind: 'photo', contentType: 'image/png', ext: 'png', width: 512, height: 768 });
  });

  it('a text file renamed .jpg is refused with 415', async () => {
    const p = t.file('notes.jpg');
    await writeFile(p, 'Grandma’s recipes\nflour, sugar, butter\n');
    const e = await reject(p);
    expect(e.httpStatus).toBe(415);
    expect(e.reason).toBe('not a photo or audio file we can read');
  });

  it('a truncated JPEG is refused as damaged (422)', async () => {
    const p = t.file('cut.jpg');
    const bytes = await readFile(photo('landscape_pd/us_navy_040329-N-1936H-001_sailing_team.jpg'));
    await writeFile(p, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
    const e = await reject(p);
    expect([e.httpStatus, e.reason]).toEqual([422, 'this photo is damaged or incomplete']);
  });

  it('a picture smaller than 16 pixels on a side is refused (422)', async () => {
    const p = t.file('pixel.png');
    await sharp({ create: { width: 12, height: 400, channels: 3, background: '#884422' } })
      .png()
      .toFile(p);
    const e = await reject(p);
    expect([e.httpStatus, e.code]).toEqual([422, 'photo_too_small']);
    expect(e.reason).toMatch(/too small to show: 12×400 pixels/);
  });

  it('a pixel bomb is refused fast', async () => {
    const p = t.file('bomb.png');
    await writeFile(p, bombPng(30000, 30000));
    const t0 = performance.now();
    const e = await reject(p);
    // from the header alone: decoding 900 megapixels would take tens of seconds (margin for a busy machine)
    expect(performance.now() - t0).toBeLessThan(2_000);
    expect(e.httpStatus).toBe(422);
    expect(e.reason).toBe('this photo is too large: 900 megapixels, the limit is 50');
  });

  it('GIF (first frame) and WebP are photos', async () => {
    const gif = t.file('a.gif');
    await sharp(photo('kodak/kodim07.png')).resize(200).gif().toFile(gif);
    expect(await inspectUpload(gif, limits)).toMatchObject({ kind: 'photo', contentType: 'image/gif' });
    const webp = t.file('a.bin');
    await sharp(photo('kodak/kodim07.png')).webp().toFile(webp);
    expect(await inspectUpload(webp, limits)).toMatchObject({ kind: 'photo', contentType: 'image/webp', ext: 'webp' });
  });

  it('HEIC is detected and decoded via heif-convert', async () => {
    const heic = t.file('photo.jpg');
    try {
      execFileSync('heif-enc', ['-q', '50', '-o', heic, photo('kodak/kodim02.png')], { stdio: 'ignore' });
    } catch {
      return; // heif-enc not installed
    }
    expect(await inspectUpload(heic, limits)).toMatchObject({ kind: 'photo', contentType: 'image/heic', width: 768, height: 512 });
  }, 20_000);

  it('the ogg music is audio with a duration', async () => {
    const r = await inspectUpload(MUSIC, limits);
    expect(r).toMatchObject({ kind: 'audio', contentType: 'audio/ogg', ext: 'ogg' });
    expect(r.durationSeconds).toBeCloseTo(170.13, 1);
  });

  it('a video without sound is refused; too long music is refused', async () => {
    const v = t.file('silent.mp4');
    execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc=s=160x90:d=1', '-c:v', 'libx264', '-preset', 'ultrafast', v]);
    const e = await reject(v);
    expect(e.code).toBe('video_without_audio');
    const long = await inspectUpload(MUSIC, { maxPixels: 1e6, maxAudioSeconds: 60 }).catch((x: unknown) => x);
    expect((long as UnsupportedMediaError).code).toBe('audio_too_long');
  });
});
