// Thumbnails against a real S3 server (s3rver) and real photos: stored at upload, or made once from
// the stored original for a photo uploaded before thumbnails existed.
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { objectKeys } from '@mt/contracts';
import { config, Storage } from '@mt/platform';
import S3rver from 's3rver';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError } from './http-errors.js';
import { ensureThumbnail, storeThumbnail } from './thumbnails.js';

const CORPUS = process.env.MT_CORPUS ?? '/work/shared/corpus';
const projectId = 'p-thumbs';

/** The real store, counting the objects it is asked to write (a thumbnail made twice is written twice). */
class CountingStorage extends Storage {
  readonly puts = new Map<string, number>();
  override async putFile(key: string, file: string, contentType: string, signal?: AbortSignal): Promise<void> {
    this.puts.set(key, (this.puts.get(key) ?? 0) + 1);
    await super.putFile(key, file, contentType, signal);
  }
}

let work: string;
let s3: S3rver;
let storage: CountingStorage;
beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'mt-thumbnails-test-'));
  s3 = new S3rver({ address: '127.0.0.1', port: 0, directory: path.join(work, 's3'), silent: true });
  const { port } = await s3.run();
  storage = new CountingStorage('thumbnails-test', { ...config.s3, endpoint: `http://127.0.0.1:${port}` });
  await storage.ensureBucket();
});
afterAll(async () => {
  await s3?.close();
  await rm(work, { recursive: true, force: true });
});

/** The stored thumbnail, as sharp reads it. */
async function storedThumbnail(key: string) {
  const file = path.join(work, `${path.basename(key)}-${Date.now()}`);
  await storage.getFile(key, file);
  return { head: await storage.head(key), meta: await sharp(file).metadata() };
}

/** This process's temp folders for thumbnails (left behind = a leak). */
const leftoverDirs = async () => (await readdir(config.tmpDir).catch(() => [] as string[])).filter((n) => n.startsWith(`thumbnail-${process.pid}-`));

describe('thumbnails', () => {
  it('at upload: made from the local photo and stored beside it as WebP', async () => {
    const key = await storeThumbnail(storage, projectId, 'up1', path.join(CORPUS, 'photos', 'people_pd/louis_armstrong_gottlieb.jpg'));
    expect(key).toBe(`projects/${projectId}/thumbnails/up1-v1.webp`);
    const { head, meta } = await storedThumbnail(key);
    expect(head?.contentType).toBe('image/webp');
    expect([meta.format, meta.width, meta.height]).toEqual(['webp', 233, 320]); // 886×1217 scaled to 320 high
    expect(await leftoverDirs()).toEqual([]);
  });

  it('for an older photo: made once from the stored original, upright, however many ask at once', async () => {
    // An original stored sideways with EXIF orientation 6, as phones do, and no thumbnail yet.
    const sideways = path.join(work, 'sideways.jpg');
    await sharp(path.join(CORPUS, 'photos', 'kodak/kodim01.png'))
      .jpeg()
      .withMetadata({ orientation: 6 })
      .toFile(sideways);
    const uploadKey = objectKeys.upload(projectId, 'old1');
    await storage.putFile(uploadKey, sideways, 'image/jpeg');

    const keys = await Promise.all(Array.from({ length: 6 }, () => ensureThumbnail(storage, projectId, 'old1', uploadKey)));
    const key = `projects/${projectId}/thumbnails/old1-v1.webp`;
    expect(new Set(keys)).toEqual(new Set([key]));
    expect(storage.puts.get(key)).toBe(1);
    const { meta } = await storedThumbnail(key);
    expect([meta.width, meta.height]).toEqual([213, 320]); // 768×512 turned upright

    expect(await ensureThumbnail(storage, projectId, 'old1', uploadKey)).toBe(key);
    expect(storage.puts.get(key)).toBe(1); // found stored, not made again
    expect(await leftoverDirs()).toEqual([]);
  });

  it('a photo whose original is gone answers 404, and a later call tries again', async () => {
    const uploadKey = objectKeys.upload(projectId, 'gone');
    const err = await ensureThumbnail(storage, projectId, 'gone', uploadKey).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ code: 'not_found' });
    await storage.putFile(uploadKey, path.join(CORPUS, 'photos', 'kodak/kodim23.png'), 'image/png');
    expect(await ensureThumbnail(storage, projectId, 'gone', uploadKey)).toBe(`projects/${projectId}/thumbnails/gone-v1.webp`);
  });
});
