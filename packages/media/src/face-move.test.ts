import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canvasSize, makeCanvas } from './canvas.js';
import { planClassic } from './classic.js';
import { type CanvasFace, chooseFaceMove, facesOnCanvas, groupCentre, keepsFaces } from './face-move.js';
import { detectFaces } from './faces.js';
import { cropAt, easeAt, type Move, randomMove, seededRandom } from './motion.js';
import { photo, tempDir } from './testkit.js';

const OUT = { width: 1280, height: 720 };
const CANVAS = canvasSize(OUT.width, OUT.height); // 1600×900
const HEADROOM = Math.min(CANVAS.width / OUT.width, CANVAS.height / OUT.height);
const SEEDS = Array.from({ length: 25 }, (_, i) => i * 7919 + 3);

const GROUP_PHOTOS = [
  'kodak/kodim14.png',
  'kodak/kodim12.png',
  'person_mary_lou_williams/mlw_08_1947_with_josh_white.jpg',
  'person_mary_lou_williams/mlw_09_1946-1948_with_roger_barnet.jpg',
  'person_mary_lou_williams/mlw_10_1947_group_cards.jpg',
  'person_mary_lou_williams/mlw_11_1947_with_milt_orent_small.jpg',
  'people_pd/us_navy_090815-N-3927C-001_sailing_couple.jpg',
  'people_pd/us_navy_111117-N-UB993-082_patient_drill.png',
  'people_pd/louis_armstrong_gottlieb.jpg',
  'kodak/kodim04.png',
];
const NO_FACE_PHOTOS = ['landscape_pd/washington_monument_highsmith.png', 'kodak/kodim01.png', 'everyday_cc0/coffee_michetti_cc0.png'];

const faces = new Map<string, CanvasFace[]>();
beforeAll(async () => {
  for (const p of [...GROUP_PHOTOS, ...NO_FACE_PHOTOS]) {
    const d = await detectFaces(photo(p));
    faces.set(p, facesOnCanvas(d.faces, d, CANVAS));
  }
});

/** Every frame's crop of a clip's two moves, as the renderer computes them. */
function frames(plan: ReturnType<typeof planClassic>): Array<{ move: Move; e: number; side: 'a' | 'b' }> {
  const out: Array<{ move: Move; e: number; side: 'a' | 'b' }> = [];
  for (let n = 0; n < plan.aFrames; n++) out.push({ move: plan.a, e: easeAt(n, plan.aFrames, 'away'), side: 'a' });
  for (let n = 0; n < plan.bFrames; n++) out.push({ move: plan.b, e: easeAt(n, plan.bFrames, 'back'), side: 'b' });
  return out;
}

const centreOf = (m: Move) => {
  const c = cropAt(m, 1, CANVAS.width, CANVAS.height);
  return { x: (c.x0 + c.x1) / 2, y: (c.y0 + c.y1) / 2 };
};
const dist = (p: { x: number; y: number }, q: { x: number; y: number }) => Math.hypot(p.x - q.x, p.y - q.y);

describe('facesOnCanvas', () => {
  it('places the boxes where makeCanvas put the photo (same fitPhoto geometry)', async () => {
    const t = await tempDir();
    try {
      const p = 'people_pd/us_navy_090815-N-3927C-001_sailing_couple.jpg';
      const made = await makeCanvas({ input: photo(p), output: t.file('c.png'), ...OUT });
      const d = await detectFaces(photo(p));
      expect(facesOnCanvas(d.faces, d, CANVAS, made.photo)).toEqual(facesOnCanvas(d.faces, d, CANVAS));
      // The faces found again on the canvas itself are where the mapping says (within a tenth of a face).
      const again = await detectFaces(t.file('c.png'));
      const mapped = facesOnCanvas(d.faces, d, CANVAS);
      expect(again.faces).toHaveLength(mapped.length);
      for (const f of mapped) {
        const g = again.faces.find((x) => Math.abs(x.x - f.x) < f.w * 0.15 && Math.abs(x.y - f.y) < f.h * 0.15);
        expect(g, JSON.stringify(f)).toBeDefined();
      }
    } finally {
      await t.cleanup();
    }
  });
});

describe('moves on corpus group photos', () => {
  it.each(GROUP_PHOTOS)('%s: every face wholly inside every frame of both moves, and the far end nearer the faces', (p) => {
    const f = faces.get(p)!;
    expect(f.length).toBeGreaterThan(0);
    for (const seed of SEEDS) {
      // The photo as A (moving away) and as B (settling back) of a clip.
      const plan = planClassic({ seconds: 6, fps: 30, seed, headroom: HEADROOM, faces: { canvas: CANVAS, a: f, b: f } });
      expect(plan.faceGuided).toEqual({ a: true, b: true });
      for (const { move, e } of frames(plan)) expect(keepsFaces(move, e, f, CANVAS.width, CANVAS.height, false)).toBe(true);
      for (const move of [plan.a, plan.b]) {
        expect(keepsFaces(move, 1, f, CANVAS.width, CANVAS.height, true)).toBe(true); // with the margin too
        expect(move.zoom).toBeGreaterThanOrEqual(0);
        expect(move.zoom).toBeLessThanOrEqual(HEADROOM - 1);
        expect(move.zoom).toBeLessThanOrEqual(0.12);
        expect(Math.abs(move.panX)).toBeLessThanOrEqual(1);
        expect(Math.abs(move.panY)).toBeLessThanOrEqual(1);
        const target = groupCentre(f);
        const frameCentre = { x: CANVAS.width / 2, y: CANVAS.height / 2 };
        if (dist(frameCentre, target) > 2) expect(dist(centreOf(move), target)).toBeLessThan(dist(frameCentre, target));
      }
    }
  });

  it('the zoom is the seeded one where the faces leave room, less where they need it', () => {
    const one = faces.get('people_pd/louis_armstrong_gottlieb.jpg')!;
    for (const seed of SEEDS) {
      const rand = seededRandom(seed);
      const random = randomMove(rand, 0.12);
      expect(chooseFaceMove(random, one, CANVAS, 0.12).move.zoom).toBeCloseTo(random.zoom, 3);
    }
    // Two faces at opposite corners of the canvas: no crop at any zoom keeps both but the whole canvas.
    const corners: CanvasFace[] = [
      { x: 10, y: 10, w: 120, h: 120, confidence: 0.9 },
      { x: 1460, y: 760, w: 120, h: 120, confidence: 0.9 },
    ];
    const wide = chooseFaceMove({ zoom: 0.1, panX: 0.5, panY: -0.3 }, corners, CANVAS, 0.12);
    expect(wide).toEqual({ move: { zoom: 0, panX: 0, panY: 0 }, guided: true });
    // Faces (with their margins) spread over 97% of the width: a zoom of about 3%.
    const spread: CanvasFace[] = [
      { x: 40, y: 400, w: 80, h: 80, confidence: 0.9 },
      { x: 1480, y: 400, w: 80, h: 80, confidence: 0.9 },
    ];
    const m = chooseFaceMove({ zoom: 0.11, panX: 0, panY: 0 }, spread, CANVAS, 0.12).move;
    expect(m.zoom).toBeGreaterThan(0);
    expect(m.zoom).toBeLessThanOrEqual(0.031);
    expect(keepsFaces(m, 1, spread, CANVAS.width, CANVAS.height)).toBe(true);
  });

  it('heads for the largest face when it dominates, for the group otherwise', () => {
    const big: CanvasFace = { x: 1100, y: 150, w: 300, h: 300, confidence: 0.9 };
    const small: CanvasFace = { x: 500, y: 500, w: 60, h: 60, confidence: 0.8 };
    const m = chooseFaceMove({ zoom: 0.1, panX: -0.8, panY: 0.5 }, [big, small], CANVAS, 0.12).move;
    expect(m.panX).toBeGreaterThan(0); // toward the big face on the right, not the seeded left
    expect(m.panY).toBeLessThan(0); // and up
    expect(keepsFaces(m, 1, [big, small], CANVAS.width, CANVAS.height)).toBe(true);
  });
});

describe('photos without faces move exactly as before', () => {
  it.each(NO_FACE_PHOTOS)('%s: no faces found, the plan is the seeded one byte for byte', (p) => {
    const f = faces.get(p)!;
    expect(f).toEqual([]);
    for (const seed of SEEDS) {
      const before = planClassic({ seconds: 6, fps: 30, seed, headroom: HEADROOM });
      const { faceGuided, ...withFaces } = planClassic({ seconds: 6, fps: 30, seed, headroom: HEADROOM, faces: { canvas: CANVAS, a: f, b: f } });
      expect(faceGuided).toEqual({ a: false, b: false });
      expect(JSON.stringify(withFaces)).toBe(JSON.stringify(before));
    }
  });

  it('unknown faces (detection failed or never ran) give the seeded plan, with no faceGuided at all', () => {
    const before = planClassic({ seconds: 10, fps: 30, seed: 42, headroom: HEADROOM });
    expect(before.faceGuided).toBeUndefined();
    expect(before).toEqual(planClassic({ seconds: 10, fps: 30, seed: 42, headroom: HEADROOM, faces: undefined }));
    const { faceGuided, ...rest } = planClassic({ seconds: 10, fps: 30, seed: 42, headroom: HEADROOM, faces: { canvas: CANVAS } });
    expect(faceGuided).toEqual({ a: false, b: false });
    expect(rest).toEqual(before);
  });

  it('a clip with faces on one side only changes only that side', () => {
    const f = faces.get('kodak/kodim14.png')!;
    const before = planClassic({ seconds: 6, fps: 30, seed: 9, headroom: HEADROOM });
    const mixed = planClassic({ seconds: 6, fps: 30, seed: 9, headroom: HEADROOM, faces: { canvas: CANVAS, a: [], b: f } });
    expect(mixed.a).toEqual(before.a);
    expect(mixed.transition).toBe(before.transition);
    expect(mixed.faceGuided).toEqual({ a: false, b: true });
  });
});

afterAll(() => {
  const counts = [...faces.entries()].map(([p, f]) => `${p.split('/').pop()}: ${f.length}`);
  console.log(`faces on canvases: ${counts.join(', ')}`);
});
