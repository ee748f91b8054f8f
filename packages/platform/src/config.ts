import os from 'node:os';
import path from 'node:path';

const env = process.env;
const int = (name: string, fallback: number): number => {
  const v = env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`${name} must be a number, got "${v}"`);
  return n;
};

const transitionConcurrency = int('MT_TRANSITION_CONCURRENCY', 2);

/** Every setting in one place, read from the environment once; the README lists them all. */
export const config = {
  databaseUrl: env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/memorialtube',
  natsUrl: env.NATS_URL ?? 'nats://127.0.0.1:4222',
  namespace: env.MT_NAMESPACE ?? 'mt',
  port: int('PORT', 8080),
  host: env.HOST ?? '0.0.0.0',
  s3: {
    endpoint: env.S3_ENDPOINT ?? 'http://127.0.0.1:4569',
    region: env.S3_REGION ?? 'us-east-1',
    bucket: env.S3_BUCKET ?? 'memorialtube',
    accessKeyId: env.S3_ACCESS_KEY_ID ?? 'S3RVER',
    secretAccessKey: env.S3_SECRET_ACCESS_KEY ?? 'S3RVER',
    forcePathStyle: (env.S3_FORCE_PATH_STYLE ?? 'true') === 'true',
    maxAttempts: int('S3_MAX_ATTEMPTS', 5),
  },
  dataDir: path.resolve(env.MT_DATA_DIR ?? 'data'),
  tmpDir: path.resolve(env.MT_TMP_DIR ?? path.join(os.tmpdir(), 'memorialtube')),
  logLevel: env.LOG_LEVEL ?? 'info',
  ackWaitMs: int('MT_ACK_WAIT_MS', 30_000),
  /**
   * Postgres ends a gateway's session that sits this long inside a transaction. A gateway whose machine
   * vanishes mid-transaction sends no reset, so without it Postgres keeps that session and its row locks
   * for hours (until TCP keepalive), and every other gateway waits on them. Every transaction here is a
   * few statements long.
   */
  dbIdleInTransactionMs: int('MT_DB_IDLE_IN_TRANSACTION_MS', 30_000),
  /** Copies of every stream (and its consumers) on a JetStream cluster: 3 across three NATS nodes, 1 on one server. */
  streamReplicas: int('MT_STREAM_REPLICAS', 1),
  maxDeliver: int('MT_MAX_DELIVER', 3),
  retryBaseMs: int('MT_RETRY_BASE_MS', 1_000),
  maxUploadBytes: int('MT_MAX_UPLOAD_BYTES', 200 * 1024 * 1024),
  maxRequestBytes: int('MT_MAX_REQUEST_BYTES', 2 * 1024 * 1024 * 1024),
  maxPhotoPixels: int('MT_MAX_PHOTO_PIXELS', 150_000_000),
  maxAudioSeconds: int('MT_MAX_AUDIO_SECONDS', 60 * 60),
  maxPhotosPerProject: int('MT_MAX_PHOTOS', 300),
  outboxIntervalMs: int('MT_OUTBOX_INTERVAL_MS', 1_000),
  reaperIntervalMs: int('MT_REAPER_INTERVAL_MS', 15_000),
  staleRunningMs: int('MT_STALE_RUNNING_MS', 10 * 60_000),
  /**
   * Transitions one transition process makes at once. ffmpeg runs a clip's filters on one thread
   * while x264 uses the rest, so two clips side by side keep two cores busy.
   */
  transitionConcurrency,
  /**
   * x264 threads per clip a transition process encodes. Clips run side by side (above), so the cores
   * are shared between clips rather than between the frames of one: two 720p clips at once on 2 cores
   * took 9 % less CPU and 8 % less time with one thread each than with x264's own choice (3 each).
   */
  encodeThreads: int('MT_X264_THREADS', Math.max(1, Math.floor(os.availableParallelism() / transitionConcurrency))),
};
export type Config = typeof config;
