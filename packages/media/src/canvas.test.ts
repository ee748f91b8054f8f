import { execFileSync } from 'node:child_process';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canvasSize, channelStats, makeCanvas, validateCanvas } from './canvas.js';
import { MediaValidationError } from './errors.js';
import { photo, tempDir } from './testkit.js';

let t: Awaited<ReturnType<typeof tempDir>>;
beforeAll(async () => {
  t = await tempDir();
});
afterAll(async () => {
  await t.cleanup();
});

const W = 1280;
const H = 720;

async function check(input: string, name: string) {
  const r = await makeCanvas({ input, output: t.file(`${name}.png`), width: W, height: H });
  const meta = await sharp(r.path).metadata();
  expect([meta.width, meta.height, meta.depth, meta.channels, meta.space]).toEqual([1600, 900, 'uchar', 3, 'srgb']);
  const rect = await validateCanvas(r.path, { width: W, height: H });
  return { r, rect };
}

describe('makeCanvas', () => {
  it('canvasSize is output × 1.25, even', () => {
    expect(canvasSize(1280, 720)).toEqual({ width: 1600, height: 900 });
    expect(canvasSize(1920, 1080)).toEqual({ width: 2400, height: 1350 });
  });

  it('portrait photo: whole photo fitted and centred, detected by validateCanvas', async () => {
    const { r, rect } = await check(photo('kodak/kodim04.png'), 'portrait');
    expect(r.photo).toEqual({ left: 500, top: 0, width: 600, height: 900 });
    expect(Math.abs(rect.left - 500)).toBeLessThan(12);
    expect(Math.abs(rect.width - 600)).toBeLessThan(24);
  });

  it('greyscale and tiny scans', async () => {
    await check(photo('people_pd/cameraman_varshney_cc0.png'), 'grey');
    const { r } = await check(photo('person_mary_lou_williams/mlw_11_1947_with_milt_orent_small.jpg'), 'tiny');
    expect(r.photo.height).toBe(900);
    const thumb = t.file('thumb.png');
    await sharp(photo('kodak/kodim01.png')).resize(96, 64).toFile(thumb);
    const small = await makeCanvas({ input: thumb, output: t.file('thumb-canvas.png'), width: W, height: H });
    expect(small.photo.width).toBe(240); // capped at 2.5× on the canvas, not blown up to 1350
  });

  it('EXIF orientation is applied', async () => {
    const rotated = t.file('rotated.jpg');
    await sharp(photo('kodak/kodim01.png')).jpeg().withMetadata({ orientation: 6 }).toFile(rotated);
    const { r } = await check(rotated, 'rotated');
    expect(r.source).toEqual({ width: 512, height: 768 });
    expect(r.photo.height).toBeGreaterThan(r.photo.width);
  });

  it('CMYK, 16-bit, alpha+palette and panorama inputs become 8-bit sRGB canvases', async () => {
    const cmyk = t.file('cmyk.jpg');
    await sharp(photo('kodak/kodim05.png')).toColourspace('cmyk').jpeg().toFile(cmyk);
    expect((await sharp(cmyk).metadata()).space).toBe('cmyk');
    await check(cmyk, 'cmyk');

    const sixteen = t.file('16.png');
    await sharp(photo('kodak/kodim23.png')).toColourspace('rgb16').png().toFile(sixteen);
    expect((await sharp(sixteen).metadata()).depth).toBe('ushort');
    await check(sixteen, 'sixteen');

    const pal = t.file('palette.png');
    await sharp(photo('kodak/kodim03.png')).ensureAlpha(0.7).png({ palette: true }).toFile(pal);
    await check(pal, 'palette');

    const pano = t.file('pano.jpg');
    await sharp(photo('landscape_pd/seeding_dandelions_engelhardt_cc0.jpg')).resize(3000, 500, { fit: 'fill' }).jpeg().toFile(pano);
    const { r } = await check(pano, 'pano');
    expect(r.photo.width).toBe(1600);
    expect(r.photo.height).toBe(267);
  });

  it('HEIC is converted with heif-convert first', async () => {
    const heic = t.file('photo.heic');
    try {
      execFileSync('heif-enc', ['-q', '60', '-o', heic, photo('kodak/kodim02.png')], { stdio: 'ignore' });
    } catch {
      return; // heif-enc not installed: nothing to test
    }
    await check(heic, 'heic');
  }, 20_000);

  it('a plain black card, a 64×48 thumbnail and a 30:1 panorama make canvases that pass validation', async () => {
    const cases = {
      black: sharp({ create: { width: 800, height: 600, channels: 3, background: '#000000' } }),
      thumb: sharp(photo('kodak/kodim23.png')).resize(64, 48, { fit: 'fill' }),
      pano: sharp(photo('kodak/kodim23.png')).resize(6000, 200, { fit: 'fill' }),
    };
    for (const [name, img] of Object.entries(cases)) {
      const input = t.file(`${name}-in.png`);
      await img.png().toFile(input);
      const r = await makeCanvas({ input, output: t.file(`${name}.png`), width: W, height: H });
      expect(await validateCanvas(r.path, { width: W, height: H, photo: r.photo, photoTone: r.photoTone })).toEqual(r.photo);
    }
  });

  it('validateCanvas finds a missing photo even where makeCanvas said it put it', async () => {
    const r = await makeCanvas({ input: photo('kodak/kodim23.png'), output: t.file('whole.png'), width: W, height: H });
    // the canvas as if the photo had not been drawn: the blurred, dimmed background everywhere
    const background = t.file('background-only.png');
    await sharp(photo('kodak/kodim23.png')).resize(1600, 900, { fit: 'cover' }).blur(20).linear(0.42, 0).png().toFile(background);
    await expect(validateCanvas(background, { width: W, height: H, photo: r.photo, photoTone: r.photoTone })).rejects.toThrow(/no photo region/);
  });

  it('validateCanvas rejects wrong size and uniform images', async () => {
    const flat = t.file('flat.png');
    await sharp({ create: { width: 1600, height: 900, channels: 3, background: '#808080' } })
      .png()
      .toFile(flat);
    await expect(validateCanvas(flat, { width: W, height: H })).rejects.toThrow(/uniform/);
    const blurred = t.file('blurred.png');
    await sharp(photo('kodak/kodim01.png')).resize(1600, 900, { fit: 'fill' }).blur(20).png().toFile(blurred);
    await expect(validateCanvas(blurred, { width: W, height: H })).rejects.toBeInstanceOf(MediaValidationError);
    await expect(validateCanvas(photo('kodak/kodim01.png'), { width: W, height: H })).rejects.toThrow(/expected 1600x900/);
  });
});

describe('channelStats', () => {
  it('gives each channel the mean and standard deviation libvips gives it', async () => {
    const { data, info } = await sharp(photo('kodak/kodim04.png')).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const vips = (await sharp(data, { raw: { width: info.width, height: info.height, channels: 3 } }).stats()).channels;
    const mine = channelStats(data, 3);
    for (const [c, s] of vips.entries()) {
      expect(mine[c]!.mean).toBeCloseTo(s.mean, 6);
      expect(mine[c]!.stdev).toBeCloseTo(s.stdev, 6);
    }
    expect(channelStats(new Uint8Array(300).fill(7), 3)).toEqual(Array(3).fill({ mean: 7, stdev: 0 }));
  });
});
