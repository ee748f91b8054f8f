/**
 * The classic transitions as per-sample weights of picture A, so the warp kernel can mix the two moving
 * canvases itself (`mixPlane`) and ffmpeg only encodes: ffmpeg's filter graph for the same (split,
 * trim, per-plane xfade, merge, concat over two raw inputs) cost ~0.7 CPU-s a clip beside x264's 2.
 * The masks are ffmpeg's xfade formulas (libavfilter/vf_xfade.c), applied per plane at the plane's own
 * size as `windowedXfade` applies them, with xfade's progress running from 1 (all A) towards 0 over
 * the transition's frames. Weights are 0..256 (A's share in 1/256).
 */
import type { ClassicTransitionName } from './classic.js';
import { type Size, yuvPlanes } from './warp.js';

/** Fills a plane's weights of A for a transition progress (1 → 0). */
export type PlaneWeights = (progress: number, into: Uint16Array) => void;

const smoothstep = (x: number) => {
  const t = Math.min(Math.max(x, 0), 1);
  return t * t * (3 - 2 * t);
};

/** Weight steps of the smooth masks' lookup table: a mask value is found to 1/STEPS. */
const STEPS = 1024;

/**
 * A mask of the form w = f(base(x, y) + shift(progress)): the base is computed once per plane and held
 * to 1/STEPS, so a frame costs one table lookup per sample.
 */
function shiftedMask(base: Float32Array, weightOf: (value: number) => number, shift: (progress: number) => number): PlaneWeights {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < base.length; i++) {
    const v = base[i]!;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const table = new Uint16Array(Math.round((hi - lo) * STEPS) + 1);
  // 16-bit where the table allows (every mask here: radial's spans 2π·STEPS): half the memory read per frame
  const index = table.length <= 65536 ? new Uint16Array(base.length) : new Int32Array(base.length);
  for (let i = 0; i < base.length; i++) index[i] = Math.round((base[i]! - lo) * STEPS);
  return (progress, into) => {
    const s = shift(progress);
    for (let i = 0; i < table.length; i++) table[i] = Math.round(256 * weightOf(lo + i / STEPS + s));
    for (let i = 0; i < index.length; i++) into[i] = table[index[i]!]!;
  };
}

/** Per-column mask (smoothleft/right): one row of weights copied down the plane. */
function columnMask(plane: Size, weightAt: (x: number, progress: number) => number): PlaneWeights {
  const row = new Uint16Array(plane.width);
  return (progress, into) => {
    for (let x = 0; x < plane.width; x++) row[x] = Math.round(256 * weightAt(x, progress));
    for (let y = 0; y < plane.height; y++) into.set(row, y * plane.width);
  };
}

/** A value per sample of a plane, row by row. */
function perSample(plane: Size, f: (x: number, y: number) => number): Float32Array {
  const out = new Float32Array(plane.width * plane.height);
  let i = 0;
  for (let y = 0; y < plane.height; y++) for (let x = 0; x < plane.width; x++) out[i++] = f(x, y);
  return out;
}

/** xfade's dissolve noise, fract(sin(x·12.9898 + y·78.233)·43758.545), held as 0..255. */
function noiseLevels(plane: Size): Uint8Array {
  const out = new Uint8Array(plane.width * plane.height);
  let i = 0;
  for (let y = 0; y < plane.height; y++) {
    for (let x = 0; x < plane.width; x++) {
      const r = Math.sin(x * 12.9898 + y * 78.233) * 43758.545;
      out[i++] = Math.floor((r - Math.floor(r)) * 256);
    }
  }
  return out;
}

/**
 * The weights of A for one plane of `transition`: `luma` is the full-size plane, `plane` the one to
 * fill (the luma plane itself or a chroma plane, which has its own mask at its own size, as
 * `windowedXfade` runs xfade plane by plane). Dissolve picks whole luma samples by noise and gives a
 * chroma sample the share of A among its 2×2 luma samples, as ffmpeg's 4:4:4 dissolve does once
 * brought back to 4:2:0.
 */
export function planeWeights(transition: ClassicTransitionName, plane: Size, luma: Size): PlaneWeights {
  const { width: w, height: h } = plane;
  // xfade's centre is in whole pixels (width / 2 in C's integer division)
  const cx = Math.floor(w / 2);
  const cy = Math.floor(h / 2);
  switch (transition) {
    case 'fade':
      return (progress, into) => into.fill(Math.round(256 * progress));
    case 'smoothleft':
      return columnMask(plane, (x, p) => 1 - smoothstep(1 + x / w - p * 2));
    case 'smoothright':
      return columnMask(plane, (x, p) => 1 - smoothstep(1 + (w - 1 - x) / w - p * 2));
    case 'circleopen': {
      const z = Math.sqrt(cx * cx + cy * cy);
      const base = perSample(plane, (x, y) => Math.sqrt((x - cx) * (x - cx) + (y - cy) * (y - cy)) / z);
      return shiftedMask(base, smoothstep, (p) => (p - 0.5) * 3);
    }
    case 'radial':
      return shiftedMask(
        perSample(plane, (x, y) => Math.atan2(x - cx, y - cy)),
        (v) => 1 - smoothstep(v),
        (p) => -(p - 0.5) * (Math.PI * 2.5),
      );
    case 'dissolve':
      return w === luma.width && h === luma.height ? dissolveLuma(noiseLevels(luma)) : dissolveChroma(plane, luma);
  }
}

/**
 * A transition's weights of A for a yuv420p picture of `luma` size: the luma plane's, and the one set
 * both chroma planes share (they have one size). Dissolve's noise is worked out once for both.
 */
export function transitionWeights(transition: ClassicTransitionName, luma: Size): { luma: PlaneWeights; chroma: PlaneWeights } {
  const chroma = yuvPlanes(luma)[1]!;
  if (transition !== 'dissolve') return { luma: planeWeights(transition, luma, luma), chroma: planeWeights(transition, chroma, luma) };
  const levels = noiseLevels(luma);
  return { luma: dissolveLuma(levels), chroma: dissolveChroma(chroma, luma, levels) };
}

/** Dissolve on luma: A where noise ≥ 1 − progress (xfade: noise·2 + progress·2 − 1.5 ≥ 0.5). */
function dissolveLuma(levels: Uint8Array): PlaneWeights {
  return (progress, into) => {
    const threshold = Math.ceil((1 - progress) * 256);
    for (let i = 0; i < levels.length; i++) into[i] = levels[i]! >= threshold ? 256 : 0;
  };
}

/** Dissolve on a chroma plane: A's share of the chroma sample's 2×2 luma samples (a missing edge sample repeats its neighbour). */
function dissolveChroma(plane: Size, luma: Size, levels = noiseLevels(luma)): PlaneWeights {
  const n = plane.width * plane.height;
  const block = [new Uint8Array(n), new Uint8Array(n), new Uint8Array(n), new Uint8Array(n)] as const;
  for (let y = 0, i = 0; y < plane.height; y++) {
    const rows = [2 * y, Math.min(2 * y + 1, luma.height - 1)];
    for (let x = 0; x < plane.width; x++, i++) {
      const cols = [2 * x, Math.min(2 * x + 1, luma.width - 1)];
      block[0][i] = levels[rows[0]! * luma.width + cols[0]!]!;
      block[1][i] = levels[rows[0]! * luma.width + cols[1]!]!;
      block[2][i] = levels[rows[1]! * luma.width + cols[0]!]!;
      block[3][i] = levels[rows[1]! * luma.width + cols[1]!]!;
    }
  }
  const [b0, b1, b2, b3] = block;
  return (progress, into) => {
    const t = Math.ceil((1 - progress) * 256);
    for (let i = 0; i < n; i++) into[i] = 64 * (+(b0[i]! >= t) + +(b1[i]! >= t) + +(b2[i]! >= t) + +(b3[i]! >= t));
  };
}

/** xfade's progress on frame `n` (0-based) of a transition of `frames` frames: 1 − n/frames. */
export const xfadeProgress = (n: number, frames: number) => 1 - n / frames;
