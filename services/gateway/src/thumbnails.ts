/**
 * Photo thumbnails (v1.2 `thumbnail_url`): made once at upload from the local file, or, for a photo
 * uploaded before thumbnails existed, from the stored original on first request.
 */
import path from 'node:path';
import { objectKeys } from '@mt/contracts';
import { makeThumbnail, THUMBNAIL_VERSION } from '@mt/media';
import { makeJobDir, removeDir, type Storage } from '@mt/platform';
import { notFound } from './http-errors.js';

/** Where a photo's thumbnail is stored, by the current thumbnail method. */
export const thumbnailKey = (projectId: string, assetId: string): string => objectKeys.thumbnail(projectId, assetId, THUMBNAIL_VERSION);

/** Makes a photo's thumbnail from a local file and stores it; returns its key. Temp files go with the call. */
export async function storeThumbnail(storage: Storage, projectId: string, assetId: string, localPhotoPath: string, signal?: AbortSignal): Promise<string> {
  const dir = await makeJobDir('thumbnail', 'store');
  try {
    const key = thumbnailKey(projectId, assetId);
    const made = await makeThumbnail({ input: localPhotoPath, output: path.join(dir, 'thumbnail.webp'), signal });
    await storage.putFile(key, made.path, made.contentType, signal);
    return key;
  } finally {
    await removeDir(dir);
  }
}

/** Thumbnails being made from stored originals in this process, by bucket and key. */
const making = new Map<string, Promise<string>>();

/**
 * The key of a photo's thumbnail, made from the stored original when it is missing (photos uploaded
 * before thumbnails). A page of 100 such photos asks for all of them at once, so concurrent calls
 * for the same photo share one making. A missing original is a 404.
 */
export async function ensureThumbnail(storage: Storage, projectId: string, assetId: string, uploadKey: string): Promise<string> {
  const key = thumbnailKey(projectId, assetId);
  if (await storage.exists(key)) return key;
  const id = `${storage.bucket}/${key}`;
  let pending = making.get(id);
  if (!pending) {
    pending = makeFromStored(storage, projectId, assetId, uploadKey).finally(() => making.delete(id));
    making.set(id, pending);
  }
  return pending;
}

async function makeFromStored(storage: Storage, projectId: string, assetId: string, uploadKey: string): Promise<string> {
  if (!(await storage.exists(uploadKey))) throw notFound('Photo file of asset', assetId);
  const dir = await makeJobDir('thumbnail', 'original');
  try {
    const original = path.join(dir, 'original');
    await storage.getFile(uploadKey, original);
    return await storeThumbnail(storage, projectId, assetId, original);
  } finally {
    await removeDir(dir);
  }
}
