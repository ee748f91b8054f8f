import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
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

/** Removes job folders left by dead processes of any service; returns how many it removed. */
export async function sweepStaleJobDirs(): Promise<number> {
  let removed = 0;
  const entries = await readdir(config.tmpDir).catch(() => [] as string[]);
  for (const name of entries) {
    const pid = Number(/^[a-z_]+-(\d+)-/.exec(name)?.[1]);
    if (pid && pid !== process.pid && !alive(pid)) {
      await removeDir(path.join(config.tmpDir, name));
      removed++;
    }
  }
  return removed;
}
