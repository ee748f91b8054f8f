/**
 * The camera looks at the people: which Ken Burns move a canvas with faces gets. Pure.
 *
 * A move's far end (e = 1 in `cropAt`) is the tightest crop of its clip: every frame's crop lies
 * between the whole canvas (e = 0) and it, nested (x0 grows and x1 shrinks with e), so a face inside
 * the far end is inside every frame. The far end keeps every face (with a margin) wholly inside,
 * is centred as near the faces as the spare room allows (the largest face when it dominates, else
 * the group's centre), and zooms as much as the random move would have, less when the faces
 * need more room (down to no zoom at all).
 */
import type { Rect } from './canvas.js';
import { fitPhoto } from './canvas.js';
import type { FaceBox } from './faces.js';
import { cropAt, type Move } from './motion.js';

/** A face on the canvas (canvas pixel coordinates). */
export type CanvasFace = FaceBox;

/** Room kept around each face, as a fraction of its larger side, per side (hair, chin, ears). */
export const FACE_MARGIN = 0.2;
/** The largest face leads the move when its area is at least this many times the next one's. */
const DOMINANT = 3;

/**
 * Faces found on the photo (upright photo pixels) placed on its canvas: the same `fitPhoto` geometry
 * makeCanvas uses to fit the photo, scaled and offset, clipped to the canvas.
 */
export function facesOnCanvas(
  faces: readonly FaceBox[],
  photo: { width: number; height: number },
  canvas: { width: number; height: number },
  rect: Rect = fitPhoto(photo, canvas),
): CanvasFace[] {
  const sx = rect.width / photo.width;
  const sy = rect.height / photo.height;
  const r = (n: number) => Math.round(n * 10) / 10;
  return faces
    .map((f) => {
      const x0 = Math.max(0, rect.left + f.x * sx);
      const y0 = Math.max(0, rect.top + f.y * sy);
      const x1 = Math.min(canvas.width, rect.left + (f.x + f.w) * sx);
      const y1 = Math.min(canvas.height, rect.top + (f.y + f.h) * sy);
      return { x: r(x0), y: r(y0), w: r(x1 - x0), h: r(y1 - y0), confidence: f.confidence };
    })
    .filter((f) => f.w > 0 && f.h > 0);
}

/** A face grown by the margin, clipped to the canvas: what must stay in frame. */
export function keptBox(f: CanvasFace, cw: number, ch: number): { x0: number; y0: number; x1: number; y1: number } {
  const m = FACE_MARGIN * Math.max(f.w, f.h);
  return { x0: Math.max(0, f.x - m), y0: Math.max(0, f.y - m), x1: Math.min(cw, f.x + f.w + m), y1: Math.min(ch, f.y + f.h + m) };
}

/** Where the camera heads: the largest face when it dominates the others, else the centre of the group. */
export function faceTarget(faces: readonly CanvasFace[]): { x: number; y: number } {
  const bySize = [...faces].sort((a, b) => b.w * b.h - a.w * a.h);
  const first = bySize[0];
  if (!first) throw new RangeError('faceTarget needs a face');
  const second = bySize[1];
  if (!second || first.w * first.h >= DOMINANT * second.w * second.h) return { x: first.x + first.w / 2, y: first.y + first.h / 2 };
  return groupCentre(faces);
}

/** The centre of the box around every face. */
export function groupCentre(faces: readonly CanvasFace[]): { x: number; y: number } {
  const x0 = Math.min(...faces.map((f) => f.x));
  const y0 = Math.min(...faces.map((f) => f.y));
  const x1 = Math.max(...faces.map((f) => f.x + f.w));
  const y1 = Math.max(...faces.map((f) => f.y + f.h));
  return { x: (x0 + x1) / 2, y: (y0 + y1) / 2 };
}

/** Every face's kept box lies inside the crop (to a thousandth of a pixel). */
export function keepsFaces(move: Move, e: number, faces: readonly CanvasFace[], cw: number, ch: number, withMargin = true): boolean {
  const c = cropAt(move, e, cw, ch);
  const eps = 1e-3;
  return faces.every((f) => {
    const b = withMargin ? keptBox(f, cw, ch) : { x0: f.x, y0: f.y, x1: f.x + f.w, y1: f.y + f.h };
    return b.x0 >= c.x0 - eps && b.y0 >= c.y0 - eps && b.x1 <= c.x1 + eps && b.y1 <= c.y1 + eps;
  });
}

const floor3 = (n: number) => Math.floor(n * 1000 + 1e-9) / 1000;

/** The pan (-1..1) that puts the crop's centre at `c` on an axis of `len` with crop size `size`. */
function panFor(c: number, len: number, size: number): number {
  const room = (len - size) / 2;
  if (room <= 1e-9) return 0;
  return Math.max(-1, Math.min(1, (c - len / 2) / room));
}

/**
 * The move for a canvas of cw×ch with these faces: `random` (today's randomMove, from the seed) when
 * there is no face, else a move toward the faces that keeps them all in frame. `maxZoom` is the
 * canvas headroom's limit (planClassic's), never exceeded.
 */
export function chooseFaceMove(
  random: Move,
  faces: readonly CanvasFace[] | undefined,
  canvas: { width: number; height: number },
  maxZoom: number,
): { move: Move; guided: boolean } {
  if (!faces || faces.length === 0) return { move: random, guided: false };
  const cw = canvas.width;
  const ch = canvas.height;
  const kept = faces.map((f) => keptBox(f, cw, ch));
  const fx0 = Math.min(...kept.map((b) => b.x0));
  const fy0 = Math.min(...kept.map((b) => b.y0));
  const fx1 = Math.max(...kept.map((b) => b.x1));
  const fy1 = Math.max(...kept.map((b) => b.y1));
  // The crop (cw/z × ch/z) must be at least as large as the box around every kept face.
  const fits = Math.min(cw / Math.max(1e-9, fx1 - fx0), ch / Math.max(1e-9, fy1 - fy0)) - 1;
  let zoom = floor3(Math.max(0, Math.min(random.zoom, maxZoom, fits)));

  const place = (z: number, target: { x: number; y: number }): Move => {
    const w = cw / (1 + z);
    const h = ch / (1 + z);
    // Centres that keep every face in: [fx1 - w/2, fx0 + w/2] (non-empty because the crop is big enough).
    const cx = Math.max(fx1 - w / 2, Math.min(fx0 + w / 2, target.x));
    const cy = Math.max(fy1 - h / 2, Math.min(fy0 + h / 2, target.y));
    const round = (p: number) => Math.round(p * 1000) / 1000;
    return { zoom: z, panX: round(panFor(cx, cw, w)), panY: round(panFor(cy, ch, h)) };
  };
  const nearer = (m: Move, t: { x: number; y: number }) => {
    const c = cropAt(m, 1, cw, ch);
    const d = (x: number, y: number) => Math.hypot(x - t.x, y - t.y);
    return d((c.x0 + c.x1) / 2, (c.y0 + c.y1) / 2) <= d(cw / 2, ch / 2);
  };
  for (;;) {
    const lead = faceTarget(faces);
    let move = place(zoom, lead);
    // Heading for the largest face must still end nearer the group than the frame centre is.
    if (!nearer(move, groupCentre(faces))) move = place(zoom, groupCentre(faces));
    // Rounding the pan to thousandths can move the crop by a fraction of a pixel: the margin absorbs
    // it, and if it did not, a slightly smaller zoom does.
    if (keepsFaces(move, 1, faces, cw, ch) || zoom === 0) return { move, guided: true };
    zoom = floor3(Math.max(0, zoom - 0.001));
  }
}

/** Faces on the two canvases of a clip (canvas coordinates); a side without faces (or unknown) moves as the seed says. */
export interface ClipFaces {
  canvas: { width: number; height: number };
  a?: readonly CanvasFace[] | undefined;
  b?: readonly CanvasFace[] | undefined;
}

/** A plan's seeded moves, each replaced by its face move where that canvas has faces; says which were. */
export function withFaceMoves<P extends { a: Move; b: Move }>(plan: P, faces: ClipFaces, maxZoom: number): P & { faceGuided: { a: boolean; b: boolean } } {
  const a = chooseFaceMove(plan.a, faces.a, faces.canvas, maxZoom);
  const b = chooseFaceMove(plan.b, faces.b, faces.canvas, maxZoom);
  return { ...plan, a: a.move, b: b.move, faceGuided: { a: a.guided, b: b.guided } };
}
