/**
 * Sub-pixel camera motion ("Ken Burns") as ffmpeg filter text. Pure.
 *
 * The `perspective` filter maps four source points to the frame corners with 1/256-pixel precision
 * and per-frame expressions, so a slow zoom/pan glides instead of stepping whole pixels the way
 * `zoompan` does. It runs on the canvas (output × headroom, already yuv420p) and the result is scaled
 * down to the output size: no 4× upscale needed.
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
 * Easing expression (0..1) over `frames` frames on the perspective filter's input frame counter `in`.
 * 'away': 0 at the first frame (neutral), velocity 0 there, accelerating away.
 * 'back': 1 at the first frame, reaching 0 exactly on the last frame with velocity 0 (seamless join).
 */
export function easeExpr(frames: number, direction: 'away' | 'back'): string {
  const last = Math.max(1, frames - 1);
  const u = `min(in/${last},1)`;
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
export function perspectiveFilter(move: Move, cw: number, ch: number, frames: number, direction: 'away' | 'back', interpolation: 'linear' | 'cubic' = 'cubic'): string {
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
