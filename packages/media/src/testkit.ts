/** Test helpers (not exported from index). */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';

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
