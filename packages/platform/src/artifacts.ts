import { rm } from 'node:fs/promises';
import path from 'node:path';
import { S3ServiceException } from '@aws-sdk/client-s3';
import { type AssetRef, objectKeys, RESOLUTION_SIZE, type Resolution } from '@mt/contracts';
import { CANVAS_VERSION, FfmpegError, isAbortError, MediaValidationError, makeCanvas, UnsupportedMediaError, validateCanvas } from '@mt/media';
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

/** A photo's canvas at a resolution, for a project. */
export interface CanvasRequest {
  projectId: string;
  photo: AssetRef;
  resolution: Resolution;
}

export interface CanvasOptions {
  /** The job's folder: the upload and the canvas are written here. */
  dir: string;
  signal?: AbortSignal | undefined;
  /** Names the photo in a failure a family reads ("Photo 3", "The first photo"). */
  what?: string | undefined;
}

/** Where the canvas of a photo at a resolution is stored, by the current canvas method. */
export const canvasKey = (req: CanvasRequest): string => objectKeys.canvas(req.projectId, req.photo.asset_id, req.resolution, CANVAS_VERSION);

/**
 * THE way a canvas is made, for the canvas job and for the clip jobs alike (so the two cannot drift):
 * the upload is downloaded, made into a canvas by makeCanvas, checked by validateCanvas, and stored at
 * its versioned key. Leaves the canvas in `dir` and returns its path; the upload is removed.
 */
async function makeStoredCanvas(storage: Storage, req: CanvasRequest, key: string, opts: CanvasOptions): Promise<string> {
  const { dir, signal, what = 'Preparing a photo' } = opts;
  const { asset_id } = req.photo;
  const file = path.join(dir, `canvas-${asset_id}.png`);
  const size = RESOLUTION_SIZE[req.resolution];
  try {
    const upload = await fetchObject(storage, req.photo.key, dir, `upload-${asset_id}`, signal);
    try {
      const made = await makeCanvas({ input: upload, output: file, ...size, signal });
      await validateCanvas(file, { ...size, photo: made.photo, photoTone: made.photoTone });
    } finally {
      await rm(upload, { force: true });
    }
    await storage.putFile(key, file, 'image/png', signal);
  } catch (e) {
    // fetchObject's failure does not know which photo it was: say it.
    if (e instanceof JobFailure && e.code === 'input_missing') throw new JobFailure(e.code, `${what}: ${e.message}`, e.transient, { cause: e });
    throw asJobFailure(e, what);
  }
  return file;
}

/**
 * Makes and stores the canvas of a photo unless it is stored already (canvases are keyed by asset,
 * resolution and method version, so each is made once); nothing is kept on disk.
 */
export async function storeCanvas(storage: Storage, req: CanvasRequest, opts: CanvasOptions): Promise<{ key: string; made: boolean }> {
  const key = canvasKey(req);
  const stored = await storage.exists(key).catch((e: unknown) => {
    throw asJobFailure(e, opts.what ?? 'Preparing a photo');
  });
  if (stored) return { key, made: false };
  await rm(await makeStoredCanvas(storage, req, key, opts), { force: true });
  return { key, made: true };
}

/**
 * The canvas of a photo at a resolution, as a local file in `opts.dir`: downloaded when it was made
 * before, otherwise made and stored as by the canvas job.
 */
export async function ensureCanvas(storage: Storage, req: CanvasRequest, opts: CanvasOptions): Promise<{ file: string; key: string; made: boolean }> {
  const key = canvasKey(req);
  const file = path.join(opts.dir, `canvas-${req.photo.asset_id}.png`);
  try {
    if (await storage.exists(key)) {
      await storage.getFile(key, file, opts.signal);
      return { file, key, made: false };
    }
  } catch (e) {
    throw asJobFailure(e, opts.what ?? 'Preparing a photo');
  }
  return { file: await makeStoredCanvas(storage, req, key, opts), key, made: true };
}
