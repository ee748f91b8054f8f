import { describe, expect, it } from 'vitest';
import { axisCandidates, cropAt, easeAt, kenBurnsChain, perFrameExpr, randomMove, seededRandom, smoothestPath, swsRatio } from './motion.js';

/** Canvas coordinate of output edge coordinate u through the two-stage path (swscale's fixed-point ratios). */
const mapU = (L: number, c: number, s: { m1: number; j1: number; m2: number; j2: number }, u: number) =>
  ((u + s.j2) * swsRatio(c, s.m2) + s.j1) * swsRatio(L, s.m1);

describe('two-stage swscale Ken Burns', () => {
  it('swsRatio is libswscale lumXInc (16.16, rounded)', () => {
    expect(swsRatio(1600, 1280)).toBe(1.25);
    expect(swsRatio(1408, 1300)).toBe(Math.floor((1408 * 65536 + 650) / 1300) / 65536);
  });

  it('hits the exact crop of every frame to a small fraction of a pixel, with even sizes and offsets', () => {
    const pad = 96;
    const [L, o, c] = [1600 + 2 * pad, 1280, 1510];
    for (let seed = 0; seed < 4; seed++) {
      const move = randomMove(seededRandom(seed), 0.12);
      const frames = 90;
      const path = smoothestPath(
        Array.from({ length: frames }, (_, n) => {
          const r = cropAt(move, easeAt(n, frames, 'away'), 1600, 900);
          return axisCandidates(L, o, c, r.x0 + pad, r.x1 - r.x0, 2, 0.08);
        }),
      );
      path.forEach((s, n) => {
        const r = cropAt(move, easeAt(n, frames, 'away'), 1600, 900);
        const k = (r.x1 - r.x0) / o;
        expect(Math.abs(mapU(L, c, s, 0) - (r.x0 + pad)) / k).toBeLessThan(0.1);
        expect(Math.abs(mapU(L, c, s, o) - (r.x1 + pad)) / k).toBeLessThan(0.1);
        for (const v of [s.m1, s.j1, s.m2, s.j2]) expect(v % 2).toBe(0);
        expect(s.m1).toBeLessThanOrEqual(L); // stage 1 never upsamples
        expect(s.m2).toBeLessThanOrEqual(c); // stage 2 never upsamples
        expect(s.j1 + c).toBeLessThanOrEqual(s.m1);
        expect(s.j2 + o).toBeLessThanOrEqual(s.m2);
      });
    }
  });

  it('per-frame values become a log-depth expression of n', () => {
    const values = Array.from({ length: 300 }, (_, n) => 1400 + ((n * 7) % 50) * 2);
    const expr = perFrameExpr(values);
    // walk the if(lt(n,k),a,b) tree to check it
    const evalAt = (n: number): number => {
      let e = expr;
      for (;;) {
        const m = /^if\(lt\(n,(\d+)\),/.exec(e);
        if (!m) return Number(e);
        const rest = e.slice(m[0].length, -1);
        let depth = 0;
        let cut = -1;
        for (let i = 0; i < rest.length; i++) {
          if (rest[i] === '(') depth++;
          else if (rest[i] === ')') depth--;
          else if (rest[i] === ',' && depth === 0) {
            cut = i;
            break;
          }
        }
        e = n < Number(m[1]) ? rest.slice(0, cut) : rest.slice(cut + 1);
      }
    };
    for (const n of [0, 1, 57, 149, 299]) expect(evalAt(n)).toBe(values[n]);
    expect(expr.split('if(').length - 1).toBe(299);
    expect(perFrameExpr([5, 5, 5])).toBe('5');
  });

  it('kenBurnsChain: neutral first frame, sub-pixel error bound, fallback when impossible', () => {
    const move = { zoom: 0.12, panX: 0.8, panY: -0.6 };
    const kb = kenBurnsChain({ move, canvas: { width: 2400, height: 1350 }, output: { width: 1920, height: 1080 }, frames: 300, direction: 'back' });
    expect(kb).toBeDefined();
    expect(kb!.maxErr).toBeLessThan(0.1);
    expect(kb!.prepare).toMatch(/^pad=2688:1638:144:144,fillborders=.*mode=smear$/);
    expect(kenBurnsChain({ move, canvas: { width: 1601, height: 900 }, output: { width: 1280, height: 720 }, frames: 30, direction: 'away' })).toBeUndefined();
  });
});
