/**
 * Face detection on the CPU: BlazeFace through `@vladmandic/human` on the WebAssembly backend of
 * TensorFlow.js. The model (`models/blazeface.json` + `.bin`, ~0.6 MB) and the wasm binaries are read
 * from the installed packages' own files: a load router for `file://` URLs reads them from disk, and
 * the wasm path is the local `@tensorflow/tfjs-backend-wasm/dist/` folder, so nothing is fetched over
 * the network. The model is loaded once per process; detections run one at a time (the wasm backend is
 * single-threaded and human keeps per-call state), ~30–60 ms per photo.
 */

import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import sharp, { type OutputInfo } from 'sharp';
import { decodableImagePath } from './canvas.js';
import { MediaValidationError, throwIfAborted } from './errors.js';

/** Version of the detection method (model, input size, thresholds): stored faces carry it. */
export const FACES_VERSION = 1;
/**
 * A face counts (is returned, stored and kept in frame) from this confidence up. On the corpus,
 * BlazeFace's false positives (textures, a rocket's plume, a monument's trees) score 0.3–0.45 and real
 * frontal faces 0.55–0.95; a face in profile may score lower and is then not found.
 */
export const MIN_FACE_CONFIDENCE = 0.5;
/** The photo is decoded to at most this many pixels on its long side (the detector sees 256×256 anyway). */
const DETECT_LONG_SIDE = 1024;
/** Most faces looked for in one photo. */
const MAX_FACES = 64;

/** A face in image pixel coordinates (the photo upright, after EXIF orientation). */
export interface FaceBox {
  x: number;
  y: number;
  w: number;
  h: number;
  /** The detector's score, 0..1. */
  confidence: number;
}

export interface FaceDetection {
  faces: FaceBox[];
  /** The upright photo's size, the frame of the boxes. */
  width: number;
  height: number;
  /** Time spent: decode + detection (the first call also loads the model). */
  ms: number;
}

/** The part of human's API used here (its own types pull in all of tfjs). */
interface Tensor {
  dispose(): void;
}
interface HumanLike {
  tf: {
    tensor4d(values: Int32Array, shape: [number, number, number, number], dtype: 'int32'): Tensor;
    io: {
      registerLoadRouter(router: (url: string | string[]) => unknown): void;
      http(url: string, opts: { fetchFunc: (url: string) => Promise<Response> }): unknown;
    };
    getBackend(): string;
  };
  load(): Promise<void>;
  detect(input: Tensor): Promise<{ face: Array<{ box: [number, number, number, number]; boxScore: number; score: number }>; error?: string | null }>;
}

const require = createRequire(import.meta.url);

/** Folders of the installed model files and wasm binaries. */
export function faceModelPaths(): { models: string; wasm: string; module: string } {
  const main = require.resolve('@vladmandic/human'); // …/human/dist/human.node.js
  const dist = path.dirname(main);
  return {
    module: path.join(dist, 'human.node-wasm.js'),
    models: path.join(dist, '..', 'models'),
    wasm: path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm')),
  };
}

/** Reads a `file://` URL from disk as a fetch Response (the only "fetch" the model loader gets). */
async function fileFetch(url: string): Promise<Response> {
  if (!url.startsWith('file://')) throw new Error(`face model: refusing to fetch ${url} (only installed files are read)`);
  return new Response(await readFile(fileURLToPath(url)));
}

let loading: Promise<HumanLike> | undefined;

async function loadDetector(): Promise<HumanLike> {
  const paths = faceModelPaths();
  const { Human } = require(paths.module) as { Human: new (config: object) => HumanLike };
  const human = new Human({
    backend: 'wasm',
    wasmPath: `${paths.wasm}${path.sep}`,
    modelBasePath: `${pathToFileURL(paths.models).href}/`,
    debug: false,
    warmup: 'none',
    cacheModels: false,
    cacheSensitivity: 0,
    filter: { enabled: false },
    gesture: { enabled: false },
    face: {
      enabled: true,
      // scale 1: the face box itself (human's default 1.4 enlarges it for its mesh model).
      detector: { rotation: false, maxDetected: MAX_FACES, minConfidence: MIN_FACE_CONFIDENCE, iouThreshold: 0.3, scale: 1, skipFrames: 0, skipTime: 0 },
      mesh: { enabled: false },
      attention: { enabled: false },
      iris: { enabled: false },
      emotion: { enabled: false },
      description: { enabled: false },
      antispoof: { enabled: false },
      liveness: { enabled: false },
    },
    body: { enabled: false },
    hand: { enabled: false },
    object: { enabled: false },
    segmentation: { enabled: false },
  });
  // The wasm module (emscripten) adds process handlers that rethrow any uncaught exception or unhandled
  // rejection, which would turn a service's logged-and-survived rejection into a crash: take them off.
  const events = ['uncaughtException', 'unhandledRejection'] as const;
  const listeners = (e: (typeof events)[number]) => process.listeners(e as 'uncaughtException') as Array<(...args: unknown[]) => void>;
  const before = events.map((e) => new Set(listeners(e)));
  const dropAdded = () => {
    for (const [i, e] of events.entries()) for (const l of listeners(e)) if (!before[i]!.has(l)) process.removeListener(e, l);
  };
  human.tf.io.registerLoadRouter((url) => {
    const u = Array.isArray(url) ? url[0] : url;
    return typeof u === 'string' && u.startsWith('file://') ? human.tf.io.http(u, { fetchFunc: fileFetch }) : null;
  });
  try {
    await human.load();
  } finally {
    dropAdded();
  }
  if (human.tf.getBackend() !== 'wasm') throw new Error(`face model: the wasm backend did not start (got ${human.tf.getBackend()})`);
  return human;
}

/** The process's detector, loaded on first use (a failed load is tried again next time). */
function detector(): Promise<HumanLike> {
  loading ??= loadDetector().catch((e: unknown) => {
    loading = undefined;
    throw e;
  });
  return loading;
}

let queue: Promise<unknown> = Promise.resolve();
/** One detection at a time in this process. */
function serial<T>(fn: () => Promise<T>): Promise<T> {
  const run = queue.then(fn, fn);
  queue = run.catch(() => {});
  return run;
}

/**
 * Faces in a photo (any format makeCanvas takes, HEIC included), in the upright photo's pixel
 * coordinates, most confident first. Throws MediaValidationError for an unreadable photo and the
 * loader's error when the model cannot start; callers treat any failure as "no face information".
 */
export async function detectFaces(imagePath: string, opts: { signal?: AbortSignal | undefined } = {}): Promise<FaceDetection> {
  const { signal } = opts;
  const started = performance.now();
  throwIfAborted(signal);
  const decodable = await decodableImagePath(imagePath, { signal });
  let raw: { data: Buffer; info: OutputInfo };
  let source: { width: number; height: number };
  try {
    const meta = await sharp(decodable.path, { failOn: 'error' }).metadata();
    if (!meta.width || !meta.height) throw new MediaValidationError(`cannot read the size of ${imagePath}`);
    source = (meta.orientation ?? 1) >= 5 ? { width: meta.height, height: meta.width } : { width: meta.width, height: meta.height };
    raw = await sharp(decodable.path, { failOn: 'error', sequentialRead: true })
      .rotate()
      .flatten({ background: '#000000' })
      .toColourspace('srgb')
      .resize(DETECT_LONG_SIDE, DETECT_LONG_SIDE, { fit: 'inside', withoutEnlargement: true })
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
  } catch (e) {
    if (e instanceof MediaValidationError) throw e;
    throw new MediaValidationError(`not a readable image: ${imagePath}`, { cause: e });
  } finally {
    await decodable.cleanup();
  }
  throwIfAborted(signal);
  const human = await detector();
  const { width, height } = raw.info;
  const found = await serial(async () => {
    throwIfAborted(signal);
    // An Int32Array of the tensor's own type: given the Buffer, tfjs converts it value by value (~30 ms a photo).
    const input = human.tf.tensor4d(new Int32Array(raw.data), [1, height, width, 3], 'int32');
    try {
      return await human.detect(input);
    } finally {
      input.dispose();
    }
  });
  if (found.error) throw new Error(`face detection failed: ${found.error}`);
  const sx = source.width / width;
  const sy = source.height / height;
  const faces = found.face
    .map((f) => {
      // Clip to the photo (a face at the edge may be boxed partly outside it).
      const x0 = Math.max(0, f.box[0] * sx);
      const y0 = Math.max(0, f.box[1] * sy);
      const x1 = Math.min(source.width, (f.box[0] + f.box[2]) * sx);
      const y1 = Math.min(source.height, (f.box[1] + f.box[3]) * sy);
      const r = (n: number) => Math.round(n * 10) / 10;
      return { x: r(x0), y: r(y0), w: r(x1 - x0), h: r(y1 - y0), confidence: Math.round((f.boxScore ?? f.score) * 1000) / 1000 };
    })
    .filter((f) => f.w > 0 && f.h > 0 && f.confidence >= MIN_FACE_CONFIDENCE)
    .sort((a, b) => b.confidence - a.confidence);
  return { faces, width: source.width, height: source.height, ms: Math.round(performance.now() - started) };
}
