import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UnsupportedMediaError } from './errors.js';
import { bombPng, photo, tempDir } from './testkit.js';
import { makeThumbnail, THUMBNAIL_MAX_SIDE } from './thumbnail.js';

let t: Awaited<ReturnType<typeof tempDir>>;
beforeAll(async () => {
  t = await tempDir('mt-thumb-test-');
});
afterAll(async () => {
  await t.cleanup();
});

/** Mean absolute difference of two same-sized RGB images over a region (0..255). */
async function regionDiff(a: string, b: string, region: { left: number; top: number; width: number; height: number }): Promise<number> {
  const raw = (p: string) => sharp(p).removeAlpha().extract(region).raw().toBuffer();
  const [x, y] = await Promise.all([raw(a), raw(b)]);
  let sum = 0;
  for (let i = 0; i < x.length; i++) sum += Math.abs(x[i]! - y[i]!);
  return sum / x.length;
}

describe('makeThumbnail', () => {
  it.each([
    ['kodak/kodim01.png', 768, 512],
    ['kodak/kodim04.png', 512, 768],
    ['landscape_pd/endeavour_columbia_ferry_flyby_nasa.png', 1272, 994],
    ['people_pd/louis_armstrong_gottlieb.jpg', 886, 1217],
    ['people_pd/cameraman_varshney_cc0.png', 512, 512],
    ['everyday_cc0/rocket_launch_spacex_pd.jpg', 640, 427],
  ])('%s (%i×%i) becomes a WebP of at most 320 px, same shape', async (name, w, h) => {
    const out = t.file(`${name.replace(/\W/g, '_')}.webp`);
    const r = await makeThumbnail({ input: photo(name), output: out });
    const meta = await sharp(out).metadata();
    expect(meta.format).toBe('webp');
    expect([meta.width, meta.height]).toEqual([r.width, r.height]);
    expect(r.contentType).toBe('image/webp');
    expect(Math.max(r.width, r.height)).toBe(THUMBNAIL_MAX_SIDE);
    expect(Math.abs(r.width / r.height - w / h)).toBeLessThan(0.01);
  });

  it('a photo smaller than a thumbnail is never enlarged', async () => {
    const small = t.file('small.png');
    await sharp(photo('kodak/kodim23.png')).resize(96, 64).toFile(small);
    const r = await makeThumbnail({ input: small, output: t.file('small.webp') });
    expect([r.width, r.height]).toEqual([96, 64]);
  });

  it('a photo taken sideways (EXIF orientation 6) comes out upright', async () => {
    // The same picture twice: pixels stored sideways with "rotate 90° clockwise to show" in EXIF,
    // and the pixels already upright. Both thumbnails must look the same.
    const sideways = t.file('sideways.jpg');
    await sharp(photo('kodak/kodim01.png'))
      .jpeg({ quality: 95 })
      .withExif({ IFD0: { Make: 'PhoneMaker', Copyright: 'The family' } })
      .withMetadata({ orientation: 6 })
      .toFile(sideways);
    expect((await sharp(sideways).metadata()).exif).toBeDefined();
    const upright = t.file('upright.jpg');
    await sharp(photo('kodak/kodim01.png')).rotate(90).jpeg({ quality: 95 }).toFile(upright);
    const a = await makeThumbnail({ input: sideways, output: t.file('sideways.webp') });
    const b = await makeThumbnail({ input: upright, output: t.file('upright.webp') });
    expect([a.width, a.height]).toEqual([213, 320]);
    expect([b.width, b.height]).toEqual([213, 320]);
    const meta = await sharp(a.path).metadata();
    expect([meta.orientation, meta.exif]).toEqual([undefined, undefined]); // upright pixels; no EXIF (GPS, camera) carried over
    const topHalf = { left: 0, top: 0, width: 213, height: 160 };
    expect(await regionDiff(a.path, b.path, topHalf)).toBeLessThan(4);
    // The check can tell: the picture turned the other way differs a lot in the same region.
    const wrongWay = t.file('wrong.webp');
    await sharp(photo('kodak/kodim01.png')).rotate(270).resize(213, 320).webp().toFile(wrongWay);
    expect(await regionDiff(a.path, wrongWay, topHalf)).toBeGreaterThan(20);
  });

  // HEIC (iPhones) is decoded through heif-convert; heif-enc makes one here where libheif's tools are installed.
  const heifEnc = existsSync('/usr/bin/heif-enc');
  it.skipIf(!heifEnc)(
    'an iPhone HEIC photo gets a thumbnail too',
    async () => {
      const heic = t.file('photo.heic');
      execFileSync('heif-enc', ['-q', '50', '-o', heic, photo('kodak/kodim02.png')], { stdio: 'ignore' });
      const r = await makeThumbnail({ input: heic, output: t.file('heic.webp') });
      expect([r.width, r.height]).toEqual([320, 213]);
      expect((await sharp(r.path).stats()).channels[0]!.stdev).toBeGreaterThan(10);
    },
    60_000,
  ); // heif-enc alone took 13 s on this 2-core machine while other tests ran

  it('a pixel bomb is refused from its header, fast, with no file written', async () => {
    const bomb = t.file('bomb.png');
    await writeFile(bomb, bombPng(30000, 30000));
    const out = t.file('bomb.webp');
    const t0 = performance.now();
    const err = await makeThumbnail({ input: bomb, output: out }).catch((e: unknown) => e);
    expect(performance.now() - t0).toBeLessThan(2_000);
    expect(err).toBeInstanceOf(UnsupportedMediaError);
    expect((err as UnsupportedMediaError).code).toBe('photo_too_large');
    expect(existsSync(out)).toBe(false);
  });

  it('a damaged photo is refused as damaged', async () => {
    const broken = t.file('broken.jpg');
    const jpeg = await sharp(photo('kodak/kodim02.png')).jpeg().toBuffer();
    await writeFile(broken, jpeg.subarray(0, 2000));
    const err = await makeThumbnail({ input: broken, output: t.file('broken.webp') }).catch((e: unknown) => e);
    expect((err as UnsupportedMediaError).code).toBe('damaged_photo');
  });

  it('a cancelled call stops with an AbortError and leaves no file', async () => {
    const ac = new AbortController();
    ac.abort();
    const out = t.file('cancelled.webp');
    await expect(makeThumbnail({ input: photo('kodak/kodim03.png'), output: out, signal: ac.signal })).rejects.toMatchObject({ name: 'AbortError' });
    expect(existsSync(out)).toBe(false);
  });
});
