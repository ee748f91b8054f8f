/** Test helpers (not exported from index). */

import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32, deflateSync } from 'node:zlib';

export const CORPUS = process.env.MT_CORPUS ?? '/work/shared/corpus';
export const photo = (p: string) => join(CORPUS, 'photos', p);
export const MUSIC = join(CORPUS, 'audio', 'bach_goldberg_aria_da_capo_ishizaka_cc0.ogg');

export async function tempDir(prefix = 'mt-media-test-'): Promise<{ dir: string; file: (n: string) => string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, file: (n) => join(dir, n), cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** ffmpeg processes that are children of this process. */
export function childFfmpegPids(): number[] {
  try {
    const out = execFileSync('ps', ['-o', 'pid=,comm=', '--ppid', String(process.pid)], { encoding: 'utf8' });
    return out
      .split('\n')
      .map((l) => l.trim().split(/\s+/))
      .filter((f) => f[1] === 'ffmpeg')
      .map((f) => Number(f[0]));
  } catch {
    return [];
  }
}

function pngChunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const typed = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(typed));
  return Buffer.concat([len, typed, crc]);
}

/** A tiny PNG whose header claims w×h (a decompression bomb shape). */
export function bombPng(w: number, h: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', deflateSync(Buffer.alloc(4096))),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}
