import { writeFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MediaValidationError } from './errors.js';
import { detectFaces, faceModelPaths, MIN_FACE_CONFIDENCE } from './faces.js';
import { photo, tempDir } from './testkit.js';

// The network is off for this whole file, before the model is first loaded: the model and the wasm
// binaries must come from the installed packages.
const attempts: string[] = [];
const saved = { fetch: globalThis.fetch, httpRequest: http.request, httpGet: http.get, httpsRequest: https.request, httpsGet: https.get };
beforeAll(() => {
  globalThis.fetch = (async (input: string | URL | Request) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    attempts.push(url);
    throw new TypeError(`network is off in this test: ${url}`);
  }) as typeof fetch;
  const refuse = ((...args: unknown[]) => {
    attempts.push(String(args[0]));
    throw new Error('network is off in this test');
  }) as never;
  http.request = refuse;
  http.get = refuse;
  https.request = refuse;
  https.get = refuse;
});
afterAll(() => {
  globalThis.fetch = saved.fetch;
  http.request = saved.httpRequest;
  http.get = saved.httpGet;
  https.request = saved.httpsRequest;
  https.get = saved.httpsGet;
});

/** Faces a person counts in corpus photos, and the count the detector must give (frontal faces, ≥ MIN_FACE_CONFIDENCE). */
const GROUPS: Array<[string, number, number]> = [
  // [photo, fewest, most]
  ['kodak/kodim14.png', 7, 10], // eight rafters, all facing the camera
  ['person_mary_lou_williams/mlw_08_1947_with_josh_white.jpg', 2, 3],
  ['person_mary_lou_williams/mlw_09_1946-1948_with_roger_barnet.jpg', 2, 2],
  ['person_mary_lou_williams/mlw_11_1947_with_milt_orent_small.jpg', 2, 2],
  ['people_pd/us_navy_090815-N-3927C-001_sailing_couple.jpg', 2, 2],
  ['kodak/kodim12.png', 2, 2],
  // a nurse and her patient lying down (his face is seen from the side)
  ['people_pd/us_navy_111117-N-UB993-082_patient_drill.png', 1, 2],
  // Mary Lou Williams faces the camera; the two men at the card table are seen from behind and in profile
  ['person_mary_lou_williams/mlw_10_1947_group_cards.jpg', 1, 2],
];
const PORTRAITS = [
  'people_pd/louis_armstrong_gottlieb.jpg',
  'people_pd/miles_davis_gottlieb.jpg',
  'people_pd/eileen_collins_nasa.png',
  'people_pd/jack_johnson_bain_news_service.jpg',
  'people_pd/cameraman_varshney_cc0.png',
  'person_mary_lou_williams/mlw_01_1946_piano.jpg',
  'person_mary_lou_williams/mlw_04_1947_cbs_studio.jpg',
  'person_mary_lou_williams/mlw_06_1938-1948_window.jpg',
  'kodak/kodim04.png',
  'kodak/kodim18.png',
];
const NO_PEOPLE = [
  'landscape_pd/air_force_academy_chapel_highsmith.png',
  'landscape_pd/endeavour_columbia_ferry_flyby_nasa.png',
  'landscape_pd/seeding_dandelions_engelhardt_cc0.jpg',
  'landscape_pd/washington_monument_highsmith.png',
  'landscape_pd/us_navy_040329-N-1936H-001_sailing_team.jpg', // boats from afar: no face large enough to matter
  'everyday_cc0/coffee_michetti_cc0.png',
  'everyday_cc0/rocket_launch_spacex_pd.jpg',
  ...['01', '02', '03', '06', '07', '08', '09', '10', '11', '13', '16', '17', '19', '20', '21', '22', '24'].map((n) => `kodak/kodim${n}.png`),
];

const times: number[] = [];
afterAll(() => {
  const s = [...times].sort((a, b) => a - b);
  console.log(`face detection: ${s.length} photos, median ${s[Math.floor(s.length / 2)]} ms per photo (decode + detect), slowest ${s.at(-1)} ms`);
});

describe('detectFaces (BlazeFace on tfjs wasm, corpus photos)', () => {
  it('loads the model and wasm from the installed packages with the network off, leaving process handlers as they were', async () => {
    const paths = faceModelPaths();
    expect(paths.models).toMatch(/node_modules/);
    const handlers = () => [process.listeners('uncaughtException').length, process.listeners('unhandledRejection').length];
    const before = handlers();
    const r = await detectFaces(photo('people_pd/louis_armstrong_gottlieb.jpg'));
    expect(r.faces).toHaveLength(1);
    expect(attempts).toEqual([]);
    // The wasm module's rethrowing process handlers are taken off again (a service logs and survives).
    expect(handlers()).toEqual(before);
  });

  it.each(GROUPS)('%s: between %i and %i faces, each inside the photo, in its pixel coordinates', async (p, fewest, most) => {
    const r = await detectFaces(photo(p));
    times.push(r.ms);
    expect(r.faces.length).toBeGreaterThanOrEqual(fewest);
    expect(r.faces.length).toBeLessThanOrEqual(most);
    const meta = await sharp(photo(p)).metadata();
    expect({ width: r.width, height: r.height }).toEqual({ width: meta.width, height: meta.height });
    for (const f of r.faces) {
      expect(f.confidence).toBeGreaterThanOrEqual(MIN_FACE_CONFIDENCE);
      expect(f.x).toBeGreaterThanOrEqual(0);
      expect(f.y).toBeGreaterThanOrEqual(0);
      expect(f.x + f.w).toBeLessThanOrEqual(r.width);
      expect(f.y + f.h).toBeLessThanOrEqual(r.height);
      // A face, not a speck or the whole picture.
      expect(f.w).toBeGreaterThan(r.width * 0.02);
      expect(f.w).toBeLessThan(r.width * 0.8);
    }
    // Most confident first.
    expect(r.faces.map((f) => f.confidence)).toEqual([...r.faces.map((f) => f.confidence)].sort((a, b) => b - a));
  });

  it.each(PORTRAITS)('%s: one face', async (p) => {
    const r = await detectFaces(photo(p));
    times.push(r.ms);
    expect(r.faces).toHaveLength(1);
  });

  it.each(NO_PEOPLE)('%s: no face', async (p) => {
    const r = await detectFaces(photo(p));
    times.push(r.ms);
    expect(r.faces).toEqual([]);
  });

  it('boxes follow the photo: the same face in a half-size copy is at half the coordinates', async () => {
    const t = await tempDir();
    try {
      const src = photo('people_pd/us_navy_090815-N-3927C-001_sailing_couple.jpg'); // 3008×2000
      const half = t.file('half.png');
      await sharp(src).resize(1504, 1000).png().toFile(half);
      const [big, small] = [await detectFaces(src), await detectFaces(half)];
      expect(small.faces).toHaveLength(big.faces.length);
      for (const [i, f] of big.faces.entries()) {
        const g = small.faces[i]!;
        expect(Math.abs(g.x * 2 - f.x)).toBeLessThan(f.w * 0.1);
        expect(Math.abs(g.y * 2 - f.y)).toBeLessThan(f.h * 0.1);
        expect(Math.abs(g.w * 2 - f.w)).toBeLessThan(f.w * 0.1);
      }
    } finally {
      await t.cleanup();
    }
  });

  it('an upright photo: EXIF orientation is applied before detecting, boxes are in upright coordinates', async () => {
    const t = await tempDir();
    try {
      // The portrait stored on its side with orientation 6 ("rotate 90° clockwise to view").
      const src = photo('people_pd/louis_armstrong_gottlieb.jpg');
      const sideways = t.file('sideways.jpg');
      await sharp(src).rotate(-90).withMetadata({ orientation: 6 }).jpeg().toFile(sideways);
      const [upright, rotated] = [await detectFaces(src), await detectFaces(sideways)];
      expect({ w: rotated.width, h: rotated.height }).toEqual({ w: upright.width, h: upright.height });
      expect(rotated.faces).toHaveLength(1);
      expect(Math.abs(rotated.faces[0]!.x - upright.faces[0]!.x)).toBeLessThan(upright.faces[0]!.w * 0.15);
      expect(Math.abs(rotated.faces[0]!.y - upright.faces[0]!.y)).toBeLessThan(upright.faces[0]!.h * 0.15);
    } finally {
      await t.cleanup();
    }
  });

  it('an unreadable file is a MediaValidationError; an aborted signal stops before any work', async () => {
    const t = await tempDir();
    try {
      await writeFile(t.file('bad.jpg'), 'not a photo');
      await expect(detectFaces(t.file('bad.jpg'))).rejects.toBeInstanceOf(MediaValidationError);
      const ac = new AbortController();
      ac.abort();
      await expect(detectFaces(photo('kodak/kodim04.png'), { signal: ac.signal })).rejects.toMatchObject({ name: 'AbortError' });
    } finally {
      await t.cleanup();
    }
    expect(attempts).toEqual([]);
  });
});
