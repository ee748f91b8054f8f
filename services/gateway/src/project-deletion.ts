import type { Logger, Storage } from '@mt/platform';
import { type Repositories, transaction } from './db/index.js';
import { projectBusy } from './http-errors.js';

/** Where every stored file of a memorial lives (uploads, thumbnails, canvases, clips, videos, posters, soundtracks). */
export const projectPrefix = (projectId: string) => `projects/${projectId}/`;

/**
 * Removes a memorial with everything of it: its files first, then its rows (members, assets, jobs,
 * runtimes, events and their outbox messages), all while its row is locked, so no upload or job can
 * start in between (their inserts wait on the lock and then find no memorial). Refused with 409 while
 * any of its jobs is queued or running: a worker could still be writing files. If the file store
 * fails, nothing is committed and the owner can try again.
 */
export async function deleteProject(repos: Repositories, storage: Storage, log: Logger, projectId: string): Promise<void> {
  const files = await transaction(repos, async (em) => {
    await repos.projects.lock(em, projectId);
    const unfinished = await repos.jobs.anyUnfinished(em, projectId);
    if (unfinished) throw projectBusy(unfinished, 'This memorial is being made right now. Cancel it, wait for it to stop, then delete it.');
    const deleted = await storage.deletePrefix(projectPrefix(projectId));
    await repos.outbox.deleteForProject(em, projectId);
    await repos.projects.delete(em, projectId);
    return deleted;
  });
  log.info({ project_id: projectId, files }, 'memorial deleted');
}
