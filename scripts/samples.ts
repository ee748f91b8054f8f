// Sample inputs the repository makes itself, so the demo needs no photos of its own: soft landscape
// pictures drawn as SVG (sharp renders them to JPEG) and a quiet chord made with ffmpeg.
import { execFile } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';

const SCENES = [
  { sky: ['#f6d365', '#fda085'], hill: '#6b4f3f', sun: '#fff4d6', w: 1600, h: 1067 },
  { sky: ['#a1c4fd', '#c2e9fb'], hill: '#3f6b55', sun: '#ffffff', w: 1200, h: 1600 },
  { sky: ['#fbc2eb', '#a6c1ee'], hill: '#54456b', sun: '#fff0f6', w: 2000, h: 1333 },
  { sky: ['#d4fc79', '#96e6a1'], hill: '#2f5d3a', sun: '#fffbe6', w: 1400, h: 1400 },
  { sky: ['#ffecd2', '#fcb69f'], hill: '#7a4b3a', sun: '#fff8ee', w: 1800, h: 1200 },
];

function sceneSvg(s: (typeof SCENES)[number], i: number): string {
  const { w, h } = s;
  const hills = [0.62, 0.7, 0.8]
    .map((y, k) => {
      const amp = h * (0.05 + 0.02 * k);
      const base = h * y;
      return `<path d="M0 ${base} C ${w * 0.25} ${base - amp} ${w * 0.5} ${base + amp} ${w * 0.75} ${base - amp * 0.6} S ${w} ${base} ${w} ${base} V ${h} H 0 Z" fill="${s.hill}" opacity="${0.45 + k * 0.25}"/>`;
    })
    .join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}">
    <defs><linearGradient id="g" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="${s.sky[0]}"/><stop offset="1" stop-color="${s.sky[1]}"/></linearGradient>
    <radialGradient id="s"><stop offset="0" stop-color="${s.sun}"/><stop offset="1" stop-color="${s.sun}" stop-opacity="0"/></radialGradient></defs>
    <rect width="100%" height="100%" fill="url(#g)"/>
    <circle cx="${w * (0.25 + 0.12 * i)}" cy="${h * 0.35}" r="${Math.min(w, h) * 0.22}" fill="url(#s)"/>
    <circle cx="${w * (0.25 + 0.12 * i)}" cy="${h * 0.35}" r="${Math.min(w, h) * 0.07}" fill="${s.sun}"/>
    ${hills}
  </svg>`;
}

export async function makeSamples(dir: string): Promise<{ photos: string; music: string }> {
  const photos = path.join(dir, 'photos');
  await mkdir(photos, { recursive: true });
  for (const [i, s] of SCENES.entries())
    await sharp(Buffer.from(sceneSvg(s, i)))
      .jpeg({ quality: 90 })
      .toFile(path.join(photos, `${String(i + 1).padStart(2, '0')}.jpg`));
  const music = path.join(dir, 'chord.m4a');
  // A soft A-major chord with a slow swell: four sine voices, gently tremoloed.
  const voices = [220, 277.18, 329.63, 440];
  const args = ['-hide_banner', '-loglevel', 'error', '-y'];
  for (const f of voices) args.push('-f', 'lavfi', '-i', `sine=frequency=${f}:duration=40:sample_rate=48000`);
  // biome-ignore format: ffmpeg arguments grouped by option
  args.push(
    '-filter_complex', `amix=inputs=${voices.length}:normalize=1,tremolo=f=0.25:d=0.3,volume=0.5,aformat=channel_layouts=stereo`,
    '-c:a', 'aac', '-b:a', '128k', music,
  );
  await promisify(execFile)('ffmpeg', args);
  return { photos, music };
}
