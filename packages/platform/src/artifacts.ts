import path from 'node:path';
import { S3ServiceException } from '@aws-sdk/client-s3';
import { objectKeys, RESOLUTION_SIZE, type AssetRef, type Resolution } from '@mt/contracts';
import { FfmpegError, isAbortError, makeCanvas, MediaValidationError, UnsupportedMediaError, validateCanvas } from '@mt/media';
import { JobFailure } from './errors.js';
import { isStorageUnavailable, type Storage } from './storage.js';

/** Maps what media and storage code throws onto job failures: bad input fails at once, the rest retries. */
export function asJobFailure(e: unknown, what: string): unknown {
  if (e instanceof JobFailure || isAbortError(e)) return e;
  if (e instanceof UnsupportedMediaError) return new JobFailure('invalid_input', `${what}: ${e.reason}`, false, { cause: e });
  if (e instanceof MediaValidationError) return new JobFailure('validation_failed', `${what}: ${e.message}`, false, { cause: e });
  if (e instanceof FfmpegError) return new JobFailure('media_failed', `${what}: the video tool failed (${e.message.split('\n')[0]})`, true, { cause: e });
  if (isStorageUnavailable(e) || e instanceof S3ServiceException || /ECONNREFUSED|socket hang up|ETIMEDOUT/.test(String((e as Error)?.message)))
    return new JobFailure('storage_unavailable', `${what}: the file store could not be reached (${(e as Error).message})`, true, { cause: e });
  return e;
}

/** Downloads an object into `dir`; a missing object is a permanent `input_missing` failure. */
export async function fetchObject(storage: Storage, key: string, dir: string, name: string, signal?: AbortSignal): Promise<string> {
  const file = path.join(dir, name);
  if (!(await storage.exists(key))) throw new JobFailure('input_missing', `A file this step needs is missing from storage (${key}).`);
  await storage.getFile(key, file, signal);
  return file;
}

/**
 * The canvas of a photo at a resolution, as a local file: downloaded when it was made before (it is
 * keyed by asset and resolution, so it is made once), otherwise made from the upload and stored.
 */
export async function ensureCanvas(
  storage: Storage,
  projectId: string,
  photo: AssetRef,
  resolution: Resolution,
  dir: string,
  signal?: AbortSignal,
): Promise<{ file: string; key: string; made: boolean }> {
  const key = objectKeys.canvas(projectId, photo.asset_id, resolution);
  const file = path.join(dir, `canvas-${photo.asset_id}.png`);
  if (await storage.exists(key)) {
    await storage.getFile(key, file, signal);
    return { file, key, made: false };
  }
  const upload = await fetchObject(storage, photo.key, dir, `upload-${photo.asset_id}`, signal);
  const size = RESOLUTION_SIZE[resolution];
  try {
    const made = await makeCanvas({ input: upload, output: file, ...size, signal });
    await validateCanvas(file, { ...size, photo: made.photo, photoTone: made.photoTone });
  } catch (e) {
    throw asJobFailure(e, 'Preparing a photo');
  }
  await storage.putFile(key, file, 'image/png', signal);
  return { file, key, made: true };
}
