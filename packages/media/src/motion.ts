/**
 * Sub-pixel camera motion ("Ken Burns") as ffmpeg filter text. Pure.
 *
 * `kenBurnsChain` (the default) moves the canvas with two swscale passes and two whole-pixel crops
 * whose sizes and offsets are solved per frame so that the composite mapping hits the exact crop to a
 * few hundredths of a pixel: sub-pixel smooth like `perspective`, but ~6× cheaper per frame because
 * swscale is separable and SIMD and works at about output size. `perspectiveFilter` (maps four source
 * points to the frame corners with 1/256-pixel precision, ~35 ms per 1600×900 frame) is kept as the
 * fallback for geometries the solver cannot serve. Neither rounds to whole pixels the way `zoompan` does.
 */
export interface Move {
  /** Extra zoom at the far end of the move (0.1 = 10% closer). 0 = no zoom. */
  zoom: number;
  /** Where the crop drifts within the spare room, -1..1 (left/top .. right/bottom). */
  panX: number;
  panY: number;
}

const num = (n: number) => {
  const s = n.toFixed(6).replace(/\.?0+$/, '');
  return s === '-0' ? '0' : s;
};

/**
 * Easing expression (0..1) over `frames` frames on the perspective filter's input frame counter `in`
 * (which counts from 1, hence `in-1`: the first frame must be exactly neutral to join the clip before).
 * 'away': 0 at the first frame (neutral), velocity 0 there, accelerating away.
 * 'back': 1 at the first frame, reaching 0 exactly on the last frame with velocity 0 (seamless join).
 */
export function easeExpr(frames: number, direction: 'away' | 'back'): string {
  const last = Math.max(1, frames - 1);
  const u = `min((in-1)/${last},1)`;
  return direction === 'away' ? `(1-cos(PI/2*${u}))` : `(1-cos(PI/2*(1-${u})))`;
}

/** Crop corners at easing e (number), for checks and tests. Canvas coordinates. */
export function cropAt(move: Move, e: number, cw: number, ch: number): { x0: number; y0: number; x1: number; y1: number } {
  const z = 1 + move.zoom * e;
  const w = cw / z;
  const h = ch / z;
  const cx = cw / 2 + (move.panX * (cw - w)) / 2;
  const cy = ch / 2 + (move.panY * (ch - h)) / 2;
  return { x0: cx - w / 2, y0: cy - h / 2, x1: cx + w / 2, y1: cy + h / 2 };
}

/**
 * perspective filter for a move on a canvas of cw×ch over `frames` frames. e=0 is neutral framing
 * (the whole canvas); e=1 is zoomed by (1+zoom) with the crop drifted by pan within the spare room.
 */
export function perspectiveFilter(
  move: Move,
  cw: number,
  ch: number,
  frames: number,
  direction: 'away' | 'back',
  interpolation: 'linear' | 'cubic' = 'cubic',
): string {
  const E = easeExpr(frames, direction);
  const Z = `(1+${num(move.zoom)}*${E})`;
  // x0 = CW/2 (1+px)(1-1/Z), x1 = CW/2 ((1+px) + (1-px)/Z); same for y
  const lo = (c: number, p: number) => `${num((c / 2) * (1 + p))}*(1-1/${Z})`;
  const hi = (c: number, p: number) => `${num((c / 2) * (1 + p))}+${num((c / 2) * (1 - p))}/${Z}`;
  const xl = lo(cw, move.panX);
  const xr = hi(cw, move.panX);
  const yt = lo(ch, move.panY);
  const yb = hi(ch, move.panY);
  return (
    `perspective=x0='${xl}':y0='${yt}':x1='${xr}':y1='${yt}':x2='${xl}':y2='${yb}':x3='${xr}':y3='${yb}'` +
    `:interpolation=${interpolation}:sense=source:eval=frame`
  );
}

/** Deterministic PRNG (mulberry32) from a number or string seed. */
export function seededRandom(seed: number | string): () => number {
  let h = 2166136261 >>> 0;
  const s = String(seed);
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619) >>> 0;
  let a = h || 0x9e3779b9;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A gentle move: zoom 8–12%, drift within the spare room. */
export function randomMove(rand: () => number, maxZoom: number): Move {
  const zoom = Math.min(maxZoom, 0.08 + rand() * 0.04);
  const panX = Math.round((rand() * 2 - 1) * 0.8 * 1000) / 1000;
  const panY = Math.round((rand() * 2 - 1) * 0.6 * 1000) / 1000;
  return { zoom: Math.round(zoom * 1000) / 1000, panX, panY };
}

/**
 * swscale's fixed-point step (libswscale's lumXInc/lumYInc, 16.16): source pixels per destination
 * pixel when scaling `src` samples to `dst`. swscale maps destination pixel centres to source pixel
 * centres, so in edge coordinates a scale is exactly u_src = u_dst · swsRatio(src, dst).
 */
export function swsRatio(src: number, dst: number): number {
  return Math.floor((src * 65536 + (dst >> 1)) / dst) / 65536;
}

/** One axis of a two-stage resample (see `axisCandidates`). */
export interface AxisSteps {
  /** Stage 1: the (padded) canvas line of L samples is scaled to m1 ... */
  m1: number;
  /** ... and c samples are cropped from offset j1. */
  j1: number;
  /** Stage 2: those c samples are scaled to m2 ... */
  m2: number;
  /** ... and the output line (o samples) is cropped from offset j2. */
  j2: number;
  /** Position error at the first and last output pixel edge (output pixels, signed). */
  e0: number;
  e1: number;
}

/**
 * Sub-pixel crop + zoom with whole-pixel tools, one axis. A line of L canvas samples goes
 * scale → m1, crop c at j1, scale → m2, crop o at j2, so output coordinate u (edge coordinates,
 * 0..o) lands on canvas coordinate ((u + j2)·r2 + j1)·r1 with r1 = L/m1, r2 = c/m2 (swscale's exact
 * fixed-point ratios). Two free sizes make the slope r1·r2 a ratio of products of integers, which
 * approximates any zoom closely, and the two crop offsets reach positions between whole pixels; so the
 * wanted crop [x0, x0 + w] is hit to a few hundredths of a pixel, every frame, with swscale doing
 * all the resampling (a few ms per frame instead of ~35 ms for `perspective`).
 * Stage 1 never upsamples (m1 ≤ L) and stage 2 never upsamples (m2 ≤ c); every value is a multiple of
 * `step` (2 keeps 4:2:0 chroma aligned with luma). Returns every candidate within `maxErr` output
 * pixels (or the single best one if none is), for the caller to pick the temporally smoothest.
 */
export function axisCandidates(L: number, o: number, c: number, x0: number, w: number, step = 2, maxErr = 0.05): AxisSteps[] {
  const k = w / o;
  const out: AxisSteps[] = [];
  let best: AxisSteps | undefined;
  let bestErr = Infinity;
  for (let m1 = c; m1 <= L; m1 += step) {
    const r1 = swsRatio(L, m1);
    const ideal = (c * r1) / k;
    const m2lo = step * Math.floor(ideal / step);
    for (let m2 = m2lo; m2 <= m2lo + step; m2 += step) {
      if (m2 < o || m2 > c) continue;
      const r2 = swsRatio(c, m2);
      const end = (r1 * r2 - k) * o;
      if (Math.abs(end) / k > Math.max(2 * maxErr, bestErr * 2)) continue;
      // j2 = (x0/r1 - j1)/r2 must land in [0, m2 - o]: only those j1 are worth trying.
      const lo = Math.max(0, step * Math.floor((x0 / r1 - (m2 - o + step) * r2) / step));
      const hi = Math.min(m1 - c, x0 / r1 + step * r2);
      for (let j1 = lo; j1 <= hi; j1 += step) {
        const j2ideal = (x0 / r1 - j1) / r2;
        const j2lo = step * Math.floor(j2ideal / step);
        for (let j2 = j2lo; j2 <= j2lo + step; j2 += step) {
          if (j2 < 0 || j2 > m2 - o) continue;
          const off = (j2 * r2 + j1) * r1 - x0;
          const cand = { m1, j1, m2, j2, e0: off / k, e1: (off + end) / k };
          const err = Math.max(Math.abs(cand.e0), Math.abs(cand.e1));
          if (err <= maxErr) out.push(cand);
          if (err < bestErr) {
            bestErr = err;
            best = cand;
          }
        }
      }
    }
  }
  if (!best) throw new RangeError(`no resample path for ${L}→${o} via ${c} (w=${w})`);
  return out.length ? out : [best];
}

/**
 * Pick one candidate per frame so that the residual error changes smoothly: its second difference
 * (frame to frame) is what the eye, and the smoothness metric, see as shake, while a residual that
 * drifts by a few hundredths of a pixel is invisible. Exact dynamic programme over (previous, current)
 * candidate pairs minimising Σ|Δ²e|² + λ·Σ|e|², with each frame's candidates capped to the `cap` best.
 */
export function smoothestPath(perFrame: AxisSteps[][], cap = 16, lambda = 0.05): AxisSteps[] {
  const errOf = (c: AxisSteps) => Math.max(Math.abs(c.e0), Math.abs(c.e1));
  const C = perFrame.map((cands) => [...cands].sort((a, b) => errOf(a) - errOf(b)).slice(0, cap));
  const N = C.length;
  if (N <= 2) return C.map((c) => c[0]!);
  const own = (c: AxisSteps) => lambda * (c.e0 * c.e0 + c.e1 * c.e1);
  const jerk = (a: AxisSteps, b: AxisSteps, c: AxisSteps) => {
    const d0 = c.e0 - 2 * b.e0 + a.e0;
    const d1 = c.e1 - 2 * b.e1 + a.e1;
    return d0 * d0 + d1 * d1;
  };
  // cost[n][i][j]: best cost of frames 0..n ending with candidate i at n-1 and j at n.
  let cost: number[][] = C[0]!.map((a) => C[1]!.map((b) => own(a) + own(b)));
  const back: number[][][] = [];
  for (let n = 2; n < N; n++) {
    const prev = C[n - 2]!;
    const mid = C[n - 1]!;
    const cur = C[n]!;
    const next: number[][] = mid.map(() => cur.map(() => Infinity));
    const arg: number[][] = mid.map(() => cur.map(() => 0));
    for (let j = 0; j < mid.length; j++) {
      for (let k = 0; k < cur.length; k++) {
        const base = own(cur[k]!);
        for (let i = 0; i < prev.length; i++) {
          const v = cost[i]![j]! + jerk(prev[i]!, mid[j]!, cur[k]!) + base;
          if (v < next[j]![k]!) {
            next[j]![k] = v;
            arg[j]![k] = i;
          }
        }
      }
    }
    back.push(arg);
    cost = next;
  }
  let bj = 0;
  let bk = 0;
  for (let j = 0; j < cost.length; j++) for (let k = 0; k < cost[j]!.length; k++) if (cost[j]![k]! < cost[bj]![bk]!) [bj, bk] = [j, k];
  const idx = new Array<number>(N);
  idx[N - 1] = bk;
  idx[N - 2] = bj;
  for (let n = N - 1; n >= 2; n--) idx[n - 2] = back[n - 2]![idx[n - 1]!]![idx[n]!]!;
  return idx.map((i, n) => C[n]![i]!);
}

/** Easing 0..1 at frame n of `frames` (same curve as `easeExpr`). */
export function easeAt(n: number, frames: number, direction: 'away' | 'back'): number {
  const u = Math.min(n / Math.max(1, frames - 1), 1);
  return direction === 'away' ? 1 - Math.cos((Math.PI / 2) * u) : 1 - Math.cos((Math.PI / 2) * (1 - u));
}

/**
 * A per-frame value as an ffmpeg expression of the frame counter `n`: a balanced tree of
 * `if(lt(n,k),a,b)` over runs of equal values (log-depth, so long clips stay within the expression
 * parser's nesting limit and evaluation is a handful of comparisons per frame).
 */
export function perFrameExpr(values: readonly number[]): string {
  const runs: Array<{ start: number; value: number }> = [];
  values.forEach((value, n) => {
    if (runs.length === 0 || runs[runs.length - 1]!.value !== value) runs.push({ start: n, value });
  });
  const tree = (lo: number, hi: number): string => {
    if (hi - lo === 1) return String(runs[lo]!.value);
    const mid = (lo + hi) >> 1;
    return `if(lt(n,${runs[mid]!.start}),${tree(lo, mid)},${tree(mid, hi)})`;
  };
  return runs.length ? tree(0, runs.length) : '0';
}

/** Spare canvas (output pixels, each side) around the canvas so the resample path has room at neutral framing. */
export const PAD_FRACTION = 0.075;
/** Intermediate crop size (between the two swscale passes) as a multiple of the output size. */
export const CROP_FRACTION = 1.18;

export interface KenBurnsChain {
  /** Filters for the still, once, before it is looped (pad with smeared edges). */
  prepare: string;
  /** Filters per frame, after the loop (two swscale passes, two crops). */
  perFrame: string;
  /** Worst residual position error against the exact move (output pixels). */
  maxErr: number;
}

/**
 * Ken Burns on a still yuv420p canvas (cw×ch) into `frames` frames of width×height, sub-pixel exact,
 * using only swscale and whole-pixel crops per frame (see `axisCandidates`). Returns undefined if the
 * geometry leaves no resample path (e.g. a canvas smaller than the output), for the caller to fall back.
 */
export function kenBurnsChain(opts: {
  move: Move;
  canvas: { width: number; height: number };
  output: { width: number; height: number };
  frames: number;
  direction: 'away' | 'back';
  interpolation?: 'linear' | 'cubic';
  maxErr?: number;
}): KenBurnsChain | undefined {
  const { move, canvas, output, frames, direction } = opts;
  const ev = (n: number) => 2 * Math.round(n / 2);
  const pad = ev(output.width * PAD_FRACTION) || 2;
  const L = canvas.width + 2 * pad;
  const H = canvas.height + 2 * pad;
  if (canvas.width % 2 || canvas.height % 2 || output.width % 2 || output.height % 2) return undefined;
  const cw = Math.max(output.width, Math.min(ev(output.width * CROP_FRACTION), canvas.width));
  const ch = Math.max(output.height, Math.min(ev(output.height * CROP_FRACTION), canvas.height));
  const flags = opts.interpolation === 'linear' ? 'bilinear' : 'bicubic';
  const maxErr = opts.maxErr ?? 0.08;
  const cx: AxisSteps[][] = [];
  const cy: AxisSteps[][] = [];
  try {
    for (let n = 0; n < frames; n++) {
      const c = cropAt(move, easeAt(n, frames, direction), canvas.width, canvas.height);
      cx.push(axisCandidates(L, output.width, cw, c.x0 + pad, c.x1 - c.x0, 2, maxErr));
      cy.push(axisCandidates(H, output.height, ch, c.y0 + pad, c.y1 - c.y0, 2, maxErr));
    }
  } catch {
    return undefined;
  }
  const xs = smoothestPath(cx);
  const ys = smoothestPath(cy);
  const worst = Math.max(...[...xs, ...ys].map((a) => Math.max(Math.abs(a.e0), Math.abs(a.e1))));
  if (!(worst <= 0.25)) return undefined; // would visibly shake: let the caller fall back to perspective
  const col = (a: AxisSteps[], key: 'm1' | 'j1' | 'm2' | 'j2') => perFrameExpr(a.map((v) => v[key]));
  // threads=1: the sizes change every frame, and a threaded swscale context costs more to rebuild than to run.
  const perFrame =
    `scale=w='${col(xs, 'm1')}':h='${col(ys, 'm1')}':eval=frame:flags=${flags}:threads=1,` +
    `crop=${cw}:${ch}:x='${col(xs, 'j1')}':y='${col(ys, 'j1')}',` +
    `scale=w='${col(xs, 'm2')}':h='${col(ys, 'm2')}':eval=frame:flags=${flags}:threads=1,` +
    `crop=${output.width}:${output.height}:x='${col(xs, 'j2')}':y='${col(ys, 'j2')}',setsar=1`;
  const prepare = `pad=${L}:${H}:${pad}:${pad},fillborders=left=${pad}:right=${pad}:top=${pad}:bottom=${pad}:mode=smear`;
  return { prepare, perFrame, maxErr: worst };
}
