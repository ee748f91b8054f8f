import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { config } from './config.js';

/**
 * Temp-file policy: every job works in its own folder `<MT_TMP_DIR>/<service>-<pid>-<job>-XXXXXX`,
 * removed in `finally` when the job ends in any way (success, failure, cancel, shutdown). Folders of
 * a process that died (kill -9) are swept by the next start of the same service.
 */
export async function makeJobDir(service: string, jobId: string): Promise<string> {
  await mkdir(config.tmpDir, { recursive: true });
  return mkdtemp(path.join(config.tmpDir, `${service}-${process.pid}-${jobId}-`));
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true, maxRetries: 3 }).catch(() => {});
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/**
 * Processes still working in a folder: a worker killed with SIGKILL leaves its ffmpeg running as an
 * orphan (children do not die with their parent), writing into the dead worker's folder.
 */
async function processesUsing(dir: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc').catch(() => [] as string[])) {
    const pid = Number(entry);
    if (!pid || pid === process.pid) continue;
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes(dir)) pids.push(pid);
  }
  return pids;
}

/**
 * Removes job folders left by dead processes of any service, first killing orphans (ffmpeg) still
 * working in them; returns how many folders it removed. Runs at start and then every minute.
 */
export async function sweepStaleJobDirs(): Promise<number> {
  let removed = 0;
  const entries = await readdir(config.tmpDir).catch(() => [] as string[]);
  for (const name of entries) {
    const pid = Number(/^[a-z_]+-(\d+)-/.exec(name)?.[1]);
    if (pid && pid !== process.pid && !alive(pid)) {
      const dir = path.join(config.tmpDir, name);
      for (const orphan of await processesUsing(dir)) {
        try {
          process.kill(orphan, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
      await removeDir(dir);
      removed++;
    }
  }
  return removed;
}
