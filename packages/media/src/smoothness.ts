/**
 * Motion smoothness metric (used by tests and benchmarks): render a synthetic canvas of four soft
 * dots, track each dot's sub-pixel centroid in every frame, and report the p90 over frames and dots
 * of |p[n+1] - 2p[n] + p[n-1]| — the frame-to-frame change in camera motion, in px/frame².
 * zoompan's whole-pixel crop rounding shows up here as ~0.5–1 px/frame²; smooth motion is < 0.1.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { runFfmpeg } from './ffmpeg.js';

/** Dot centres as fractions of the canvas (one per quadrant). */
export const DOTS = [
  [0.3, 0.3],
  [0.7, 0.32],
  [0.32, 0.7],
  [0.68, 0.68],
] as const;

/** A test canvas: dark grey with four soft white dots. */
export async function makeDotCanvas(output: string, width: number, height: number): Promise<void> {
  const r = Math.round(height / 60);
  const circles = DOTS.map(([fx, fy]) => `<circle cx="${fx * width}" cy="${fy * height}" r="${r}" fill="white"/>`).join('');
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><rect width="100%" height="100%" fill="#202020"/>${circles}</svg>`;
  await sharp(Buffer.from(svg))
    .blur(r / 2)
    .png()
    .toFile(output);
}

/** Decode frames [start, end) of a video to greyscale and track the four dots. */
export async function trackDots(
  video: string,
  width: number,
  height: number,
  start: number,
  end: number,
  signal?: AbortSignal,
): Promise<Array<Array<[number, number]>>> {
  const dir = await mkdtemp(join(tmpdir(), 'mt-smooth-'));
  try {
    const raw = join(dir, 'frames.gray');
    await runFfmpeg(
      ['-i', video, '-vf', `select='between(n,${start},${end - 1})',extractplanes=y`, '-fps_mode', 'passthrough', '-f', 'rawvideo', '-pix_fmt', 'gray', raw],
      { signal },
    );
    const data = await readFile(raw);
    const frameSize = width * height;
    const frames = Math.floor(data.length / frameSize);
    const tracks: Array<Array<[number, number]>> = DOTS.map(() => []);
    for (let f = 0; f < frames; f++) {
      const base = f * frameSize;
      for (let d = 0; d < 4; d++) {
        const qx = d % 2;
        const qy = d >> 1;
        const x0 = qx * (width >> 1);
        const y0 = qy * (height >> 1);
        let sw = 0;
        let sx = 0;
        let sy = 0;
        for (let y = y0; y < y0 + (height >> 1); y++) {
          const row = base + y * width;
          for (let x = x0; x < x0 + (width >> 1); x++) {
            const v = data[row + x]! - 60; // ignore the background (~32 in limited range)
            if (v > 0) {
              sw += v;
              sx += v * x;
              sy += v * y;
            }
          }
        }
        tracks[d]!.push(sw > 0 ? [sx / sw, sy / sw] : [NaN, NaN]);
      }
    }
    return tracks;
  } finally {
    await rm(dir, { recursive: true, force: true }).catch(() => {});
  }
}

/** p-quantile of |second difference| of tracked positions (px/frame²). */
export function jerkQuantile(tracks: Array<Array<[number, number]>>, q = 0.9): number {
  const values: number[] = [];
  for (const t of tracks) {
    for (let i = 1; i + 1 < t.length; i++) {
      const [ax, ay] = t[i - 1]!;
      const [bx, by] = t[i]!;
      const [cx, cy] = t[i + 1]!;
      values.push(Math.hypot(cx - 2 * bx + ax, cy - 2 * by + ay));
    }
  }
  const finite = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (finite.length === 0) return NaN;
  return finite[Math.min(finite.length - 1, Math.floor(q * finite.length))]!;
}
