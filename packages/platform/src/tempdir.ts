import { rmSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { config } from './config.js';

/**
 * Temp-file policy: every job works in its own folder `<MT_TMP_DIR>/<service>-<pid>-<job>-XXXXXX`,
 * removed in `finally` when the job ends in any way (success, failure, cancel, shutdown). Folders of
 * a process that died (kill -9) are swept by any service's next sweep (at start and every minute).
 */
export async function makeJobDir(service: string, jobId: string): Promise<string> {
  await mkdir(config.tmpDir, { recursive: true });
  return mkdtemp(path.join(config.tmpDir, `${service}-${process.pid}-${jobId}-`));
}

/**
 * Points this process's temp folder (os.tmpdir() in media code, TMPDIR of ffmpeg and other children)
 * at a folder of its own under MT_TMP_DIR, named like a job folder: removed when the process exits,
 * swept like a job folder when it was killed, so nothing is ever left in the system's /tmp.
 */
export async function useProcessTempDir(service: string): Promise<string> {
  const dir = await makeJobDir(service, 'process');
  process.env.TMPDIR = dir;
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true, maxRetries: 3 }).catch(() => {});
}

/** Whether process `pid` exists (EPERM: it does, owned by someone else). */
export const processAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** Command lines of the other processes on this machine, by pid. */
async function commandLines(): Promise<Map<number, string>> {
  const lines = new Map<number, string>();
  for (const entry of await readdir('/proc').catch(() => [] as string[])) {
    const pid = Number(entry);
    if (!pid || pid === process.pid) continue;
    lines.set(pid, await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => ''));
  }
  return lines;
}

/**
 * Removes job folders left by dead processes of any service, first killing orphans still working in
 * them (a worker killed with SIGKILL leaves its ffmpeg running, writing into the dead worker's
 * folder); returns how many folders it removed. Runs at start and then every minute.
 */
export async function sweepStaleJobDirs(): Promise<number> {
  const stale = (await readdir(config.tmpDir).catch(() => [] as string[]))
    .filter((name) => {
      const pid = Number(/^[a-z_]+-(\d+)-/.exec(name)?.[1]);
      return pid && pid !== process.pid && !processAlive(pid);
    })
    .map((name) => path.join(config.tmpDir, name));
  if (stale.length === 0) return 0;
  const processes = await commandLines();
  for (const dir of stale) {
    for (const [pid, cmdline] of processes) {
      if (!cmdline.includes(dir)) continue;
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    await removeDir(dir);
  }
  return stale.length;
}
