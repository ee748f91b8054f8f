import { rm } from 'node:fs/promises';
import path from 'node:path';
import { text } from 'node:stream/consumers';
import { S3ServiceException } from '@aws-sdk/client-s3';
import { type AssetRef, OutputResolution, objectKeys, RESOLUTION_SIZE } from '@mt/contracts';
import {
  CANVAS_VERSION,
  type CanvasFace,
  canvasSize,
  detectFaces,
  FACES_VERSION,
  type FaceBox,
  type FaceDetection,
  FfmpegError,
  facesOnCanvas,
  isAbortError,
  MediaValidationError,
  makeCanvas,
  makeSoundtrack,
  SOUNDTRACK_VERSION,
  UnsupportedMediaError,
  validateCanvas,
} from '@mt/media';
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
  resolution: OutputResolution;
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

/** Where the faces on a canvas are stored: beside it, versioned by the canvas and the detection method. */
export const canvasFacesKey = (req: CanvasRequest): string =>
  objectKeys.canvasFaces(req.projectId, req.photo.asset_id, req.resolution, CANVAS_VERSION, FACES_VERSION);

/** What is stored beside a canvas: the faces on it (canvas pixels) and on the upright photo (photo pixels). */
export interface StoredFaces {
  version: number;
  canvas: { width: number; height: number };
  photo: { width: number; height: number };
  faces: CanvasFace[];
  photo_faces: FaceBox[];
  /** Decode + detection time. */
  ms: number;
}

/** Faces found on a photo, or null with the reason when detection failed (its moves are then the seeded ones). */
export interface FacesOutcome {
  faces: number | null;
  faces_error?: string;
}

/**
 * Detects the faces on the photo `upload` and stores them beside its canvas (placed by the geometry
 * makeCanvas uses: fitPhoto on canvasSize). Never fails the caller: a failure (other than an abort)
 * is returned as `faces: null` and the reason.
 */
async function storeFaces(storage: Storage, req: CanvasRequest, upload: string, signal: AbortSignal | undefined): Promise<FacesOutcome> {
  try {
    const found = (await facesFoundAtAnotherSize(storage, req)) ?? (await detectFaces(upload, { signal }));
    const size = RESOLUTION_SIZE[req.resolution];
    const canvas = canvasSize(size.width, size.height);
    const photo = { width: found.width, height: found.height };
    const body: StoredFaces = {
      version: FACES_VERSION,
      canvas,
      photo,
      faces: facesOnCanvas(found.faces, photo, canvas),
      photo_faces: found.faces,
      ms: found.ms,
    };
    await storage.putBytes(canvasFacesKey(req), JSON.stringify(body), 'application/json');
    return { faces: body.faces.length };
  } catch (e) {
    if (isAbortError(e) || signal?.aborted) throw e;
    return { faces: null, faces_error: `face detection failed: ${(e as Error)?.message ?? String(e)}` };
  }
}

/**
 * The photo's faces as stored beside its canvas at another output size (photo pixels do not depend on
 * it): a draft after a full run, or the other way round, does not detect them again.
 */
async function facesFoundAtAnotherSize(storage: Storage, req: CanvasRequest): Promise<FaceDetection | undefined> {
  for (const resolution of OutputResolution.options) {
    if (resolution === req.resolution) continue;
    const stored = await loadCanvasFaces(storage, { ...req, resolution });
    if (stored) return { faces: stored.photo_faces, ...stored.photo, ms: 0 };
  }
  return undefined;
}

/** The faces stored beside a canvas, or undefined when there are none stored (or they cannot be read). */
export async function loadCanvasFaces(storage: Storage, req: CanvasRequest): Promise<StoredFaces | undefined> {
  try {
    const key = canvasFacesKey(req);
    if (!(await storage.head(key))) return undefined; // a single PUT (putBytes): no completion marker
    const body = JSON.parse(await text((await storage.getStream(key)).body)) as StoredFaces;
    return body.version === FACES_VERSION && Array.isArray(body.faces) ? body : undefined;
  } catch {
    return undefined;
  }
}

/** Faces of a canvas made before: read from beside it, or detected now from the upload when missing. */
async function facesOfStoredCanvas(storage: Storage, req: CanvasRequest, opts: CanvasOptions): Promise<FacesOutcome> {
  const stored = await loadCanvasFaces(storage, req);
  if (stored) return { faces: stored.faces.length };
  let upload: string | undefined;
  try {
    upload = await fetchObject(storage, req.photo.key, opts.dir, `faces-upload-${req.photo.asset_id}`, opts.signal);
    return await storeFaces(storage, req, upload, opts.signal);
  } catch (e) {
    if (isAbortError(e) || opts.signal?.aborted) throw e;
    return { faces: null, faces_error: `face detection failed: ${(e as Error)?.message ?? String(e)}` };
  } finally {
    if (upload) await rm(upload, { force: true });
  }
}

/**
 * THE way a canvas is made, for the canvas job and for the clip jobs alike (so the two cannot drift):
 * the upload is downloaded, made into a canvas by makeCanvas, checked by validateCanvas, its faces
 * detected and stored beside it (a detection failure is returned, never thrown), and the canvas stored
 * at its versioned key. Leaves the canvas in `dir` and returns its path; the upload is removed.
 */
async function makeStoredCanvas(storage: Storage, req: CanvasRequest, key: string, opts: CanvasOptions): Promise<{ file: string } & FacesOutcome> {
  const { dir, signal, what = 'Preparing a photo' } = opts;
  const { asset_id } = req.photo;
  const file = path.join(dir, `canvas-${asset_id}.png`);
  const size = RESOLUTION_SIZE[req.resolution];
  let faces: FacesOutcome;
  try {
    const upload = await fetchObject(storage, req.photo.key, dir, `upload-${asset_id}`, signal);
    try {
      const made = await makeCanvas({ input: upload, output: file, ...size, signal });
      await validateCanvas(file, { ...size, photo: made.photo, photoTone: made.photoTone });
      // Before the canvas: once the canvas is stored, its faces are there too (or known to have failed).
      faces = await storeFaces(storage, req, upload, signal);
    } finally {
      await rm(upload, { force: true });
    }
    await storage.putFile(key, file, 'image/png', signal);
  } catch (e) {
    // fetchObject's failure does not know which photo it was: say it.
    if (e instanceof JobFailure && e.code === 'input_missing') throw new JobFailure(e.code, `${what}: ${e.message}`, e.transient, { cause: e });
    throw asJobFailure(e, what);
  }
  return { file, ...faces };
}

/**
 * Makes and stores the canvas of a photo unless it is stored already (canvases are keyed by asset,
 * resolution and method version, so each is made once); nothing is kept on disk.
 */
export async function storeCanvas(storage: Storage, req: CanvasRequest, opts: CanvasOptions): Promise<{ key: string; made: boolean } & FacesOutcome> {
  const key = canvasKey(req);
  const stored = await storage.exists(key).catch((e: unknown) => {
    throw asJobFailure(e, opts.what ?? 'Preparing a photo');
  });
  if (stored) return { key, made: false, ...(await facesOfStoredCanvas(storage, req, opts)) };
  const { file, ...faces } = await makeStoredCanvas(storage, req, key, opts);
  await rm(file, { force: true });
  return { key, made: true, ...faces };
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
  const { file: made } = await makeStoredCanvas(storage, req, key, opts);
  return { file: made, key, made: true };
}

export interface SoundtrackOptions {
  projectId: string;
  /** The music asset, or null for silence. */
  music: AssetRef | null;
  frames: number;
  fps: number;
}

/** The stored soundtrack's key: by music, length and method, so any job that needs the same one finds it. */
export const soundtrackKey = (o: SoundtrackOptions): string =>
  objectKeys.soundtrack(o.projectId, o.music?.asset_id ?? null, o.frames, o.fps, SOUNDTRACK_VERSION);

/**
 * The soundtrack of a video as a local file `soundtrack.m4a` in `opts.dir`: downloaded when stored,
 * otherwise made (makeSoundtrack) and stored. The canvas job makes it early, the render uses it.
 */
export async function ensureSoundtrack(
  storage: Storage,
  o: SoundtrackOptions,
  opts: { dir: string; signal?: AbortSignal | undefined; onProgress?: (f: number) => void },
): Promise<{ file: string; key: string; reused: boolean }> {
  const key = soundtrackKey(o);
  const file = path.join(opts.dir, 'soundtrack.m4a');
  if (await storage.exists(key)) {
    await storage.getFile(key, file, opts.signal);
    return { file, key, reused: true };
  }
  const music = o.music ? await fetchObject(storage, o.music.key, opts.dir, 'music', opts.signal) : undefined;
  await makeSoundtrack({ music, seconds: o.frames / o.fps, output: file, signal: opts.signal, onProgress: opts.onProgress });
  await storage.putFile(key, file, 'audio/mp4', opts.signal);
  return { file, key, reused: false };
}
