import type { EntityManager } from '@mikro-orm/postgresql';
import type { Logger, Storage } from '@mt/platform';
import { type AssetRow, type Repositories, transaction } from './db/index.js';
import { ApiError, projectBusy } from './http-errors.js';

// Changes to a memorial's photos: never while a job is making it (its inputs must not change under it).

async function assertIdle(repos: Repositories, em: EntityManager, projectId: string): Promise<void> {
  await repos.projects.lock(em, projectId);
  const active = await repos.jobs.activeJobId(projectId, em);
  if (active) throw projectBusy(active);
}

/** Sets the photo order; the ids must be every photo of the project, once each. */
export async function reorderPhotos(repos: Repositories, projectId: string, ids: string[]): Promise<AssetRow[]> {
  await transaction(repos, async (em) => {
    await assertIdle(repos, em, projectId);
    const have = new Set(await repos.assets.lockPhotoIds(em, projectId));
    const given = new Set(ids);
    if (given.size !== ids.length) throw new ApiError('validation_failed', 'asset_ids: an id appears more than once', { field: 'asset_ids' });
    const unknown = ids.filter((i) => !have.has(i));
    const missing = [...have].filter((i) => !given.has(i));
    if (unknown.length || missing.length)
      throw new ApiError('validation_failed', 'asset_ids: list every photo of this memorial exactly once', { field: 'asset_ids', unknown, missing });
    await repos.assets.setOrder(em, ids);
    await repos.projects.touch(em, projectId);
  });
  return repos.assets.allPhotos(projectId);
}

/** Removes an asset's row, then its files (a file left behind by a failed delete is only logged). */
export async function deleteAsset(repos: Repositories, storage: Storage, log: Logger, asset: AssetRow): Promise<void> {
  await transaction(repos, async (em) => {
    await assertIdle(repos, em, asset.project_id);
    await repos.assets.delete(em, asset);
    await repos.projects.touch(em, asset.project_id);
  });
  for (const key of [asset.object_key, asset.thumbnail_key].filter((k): k is string => Boolean(k)))
    await storage.delete(key).catch((e: unknown) => log.warn({ err: e, key }, 'could not delete object'));
}

/**
 * Sets or clears a photo's caption (issue 13; empty or null clears). Allowed while a video is being
 * made: a running job keeps the captions of its plan; the next run or remake shows the new one.
 */
export async function setCaption(repos: Repositories, asset: AssetRow, caption: string | null): Promise<AssetRow> {
  if (asset.kind !== 'photo') throw new ApiError('validation_failed', 'caption: only photos have captions.', { field: 'caption' });
  const row = await transaction(repos, async (em) => {
    const r = await repos.assets.setCaption(em, asset.project_id, asset.id, caption?.trim() || null);
    await repos.projects.touch(em, asset.project_id);
    return r;
  });
  if (!row) throw new ApiError('not_found', 'No such photo.', { asset_id: asset.id });
  return row;
}
