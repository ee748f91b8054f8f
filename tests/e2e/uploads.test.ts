// Uploads as a family's browser sends them: typed by bytes, fully decoded, one bad file refuses the
// whole request and leaves no row and no object behind; order and delete.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import pg from 'pg';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestClient } from '../lib/api.js';
import { CORPUS, Stack } from '../lib/stack.js';

const stack = new Stack();
let api: TestClient;
let db: pg.Client;
let s3: S3Client;
const photo = (p: string) => path.join(CORPUS, 'photos', p);
const MUSIC = path.join(CORPUS, 'audio', 'bach_goldberg_aria_da_capo_ishizaka_cc0.ogg');

beforeAll(async () => {
  // Only the gateway is needed; a small file limit to test 413 without sending 200 MB.
  const e = await stack.start({ services: ['gateway'], env: { MT_MAX_UPLOAD_BYTES: String(3 * 1024 * 1024), MT_MAX_PHOTO_PIXELS: '50000000' } });
  api = stack.client();
  db = new pg.Client({ connectionString: e.databaseUrl });
  await db.connect();
  s3 = new S3Client({ endpoint: e.s3Endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
});
afterAll(async () => {
  await db?.end();
  await stack.stop();
});

async function stored(projectId: string) {
  const rows = (await db.query('select count(*)::int as n from assets where project_id = $1', [projectId])).rows[0].n as number;
  const objs = await s3.send(new ListObjectsV2Command({ Bucket: stack.e.bucket, Prefix: `projects/${projectId}/` }));
  // completion markers (`<key>.done`) are bookkeeping, not stored files; each photo also has a thumbnail
  const files = (objs.Contents ?? []).map((o) => o.Key!).filter((k) => !k.endsWith('.done'));
  const thumbnails = files.filter((k) => k.startsWith(`projects/${projectId}/thumbnails/`)).length;
  return { rows, objects: files.length - thumbnails, thumbnails };
}

describe('uploading photos and music', () => {
  it('stores photos in upload order and music, typed by their bytes, with Korean names kept', async () => {
    const p = await api.project();
    const kodim = await readFile(photo('kodak/kodim09.png'));
    const r = await api.uploadFiles(p.id, [
      { path: photo('person_mary_lou_williams/mlw_03_1947_cbs_studio.jpg'), name: '할머니 사진.jpg', type: 'image/jpeg' },
      { data: kodim, name: 'really-a-png.jpg', type: 'image/jpeg' },
      { path: MUSIC, type: 'audio/ogg' },
    ]);
    expect(r.response.status).toBe(201);
    const [a, b, m] = r.data!.items;
    expect(a).toMatchObject({ kind: 'photo', filename: '할머니 사진.jpg', content_type: 'image/jpeg', width: 1024, height: 1062, position: 1 });
    expect(b).toMatchObject({ kind: 'photo', content_type: 'image/png', width: 512, height: 768, position: 2 });
    expect(b!.sha256).toBe(createHash('sha256').update(kodim).digest('hex'));
    expect(m).toMatchObject({ kind: 'audio', content_type: 'audio/ogg', position: null, width: null });
    expect(m!.duration_seconds).toBeGreaterThan(60);
    const list = await api.GET('/api/v1/projects/{project_id}/assets', { params: { path: { project_id: p.id } } });
    expect(list.data!.items.filter((x) => x.kind === 'photo').map((x) => x.id)).toEqual([a!.id, b!.id]);
    expect((await api.GET('/api/v1/projects/{project_id}', { params: { path: { project_id: p.id } } })).data!.photo_count).toBe(2);
    expect(await stored(p.id)).toEqual({ rows: 3, objects: 3, thumbnails: 2 });
  });

  it('never uses the filename to build a path', async () => {
    const p = await api.project();
    const r = await api.uploadFiles(p.id, [{ path: photo('kodak/kodim01.png'), name: '../../../etc/passwd.png' }]);
    expect(r.response.status).toBe(201);
    const asset = r.data!.items[0]!;
    expect(asset.filename).toBe('passwd.png');
    const key = (await db.query('select object_key from assets where id = $1', [asset.id])).rows[0].object_key;
    expect(key).toBe(`projects/${p.id}/uploads/${asset.id}`);
  });

  const truncatedJpeg = async () => (await readFile(photo('person_mary_lou_williams/mlw_01_1946_piano.jpg'))).subarray(0, 40_000);
  // A 20000×20000 PNG is only a few hundred KB compressed: a pixel bomb.
  const pixelBomb = () =>
    sharp({ create: { width: 20000, height: 20000, channels: 3, background: '#000' }, limitInputPixels: false })
      .greyscale()
      .png({ compressionLevel: 9 })
      .toBuffer();

  it.each([
    ['a text file named .jpg', async () => Buffer.from('hello, this is not a photo\n'.repeat(50)), 'notes.jpg', 415, /not a photo or audio/],
    ['a truncated JPEG', truncatedJpeg, 'cut.jpg', 422, /damaged|incomplete/],
    ['a pixel bomb', pixelBomb, 'bomb.png', 422, /too large|megapixels/],
    ['an empty file', async () => Buffer.alloc(0), 'empty.png', 422, /empty/],
    ['a file over the size limit', async () => Buffer.alloc(4 * 1024 * 1024, 7), 'huge.png', 413, /larger than/],
  ])('refuses %s with a clear reason and stores nothing of the request', async (_what, make, name, status, reason) => {
    const p = await api.project();
    const r = await api.uploadFiles(p.id, [{ path: photo('kodak/kodim05.png') }, { data: await make(), name }]);
    expect(r.response.status).toBe(status);
    expect(r.error!.error.message).toMatch(reason);
    expect(r.error!.error.message).toContain(name);
    expect(r.error!.error.details.filename).toBe(name);
    expect(await stored(p.id)).toEqual({ rows: 0, objects: 0, thumbnails: 0 });
  });

  it('refuses a body that is not multipart (415) and an unknown project (404)', async () => {
    const p = await api.project();
    const r = await api.raw('POST', `/projects/${p.id}/assets`, { files: [] }); // JSON where multipart belongs
    expect(r.status).toBe(415);
    expect(r.body.error.code).toBe('unsupported_media_type');
    const missing = await api.uploadFiles('no-such-project', [{ path: photo('kodak/kodim05.png') }]);
    expect(missing.response.status).toBe(404);
  });
});

describe('ordering and removing photos', () => {
  it('reorders with every photo id once, and refuses a partial list', async () => {
    const p = await api.project();
    const up = await api.uploadFiles(
      p.id,
      ['kodak/kodim01.png', 'kodak/kodim02.png', 'kodak/kodim03.png'].map((f) => ({ path: photo(f) })),
    );
    const ids = up.data!.items.map((a) => a.id);
    const order = (asset_ids: string[]) =>
      api.PUT('/api/v1/projects/{project_id}/assets/order', { params: { path: { project_id: p.id } }, body: { asset_ids } });
    const r = await order([ids[2]!, ids[0]!, ids[1]!]);
    expect(r.response.status).toBe(200);
    expect(r.data!.items.map((a) => [a.id, a.position])).toEqual([
      [ids[2], 1],
      [ids[0], 2],
      [ids[1], 3],
    ]);
    const partial = await order([ids[0]!, ids[1]!]);
    expect(partial.response.status).toBe(422);
    expect(partial.error!.error.details.field).toBe('asset_ids');
    const dup = await order([ids[0]!, ids[0]!, ids[1]!]);
    expect(dup.response.status).toBe(422);
  });

  it('deletes a photo, closes the gap in positions, and removes its object', async () => {
    const p = await api.project();
    const up = await api.uploadFiles(
      p.id,
      ['kodak/kodim01.png', 'kodak/kodim02.png', 'kodak/kodim03.png'].map((f) => ({ path: photo(f) })),
    );
    const ids = up.data!.items.map((a) => a.id);
    const remove = (asset_id: string) => api.DELETE('/api/v1/projects/{project_id}/assets/{asset_id}', { params: { path: { project_id: p.id, asset_id } } });
    const del = await remove(ids[0]!);
    expect(del.response.status).toBe(204);
    const list = await api.GET('/api/v1/projects/{project_id}/assets', { params: { path: { project_id: p.id } } });
    expect(list.data!.items.map((a) => [a.id, a.position])).toEqual([
      [ids[1], 1],
      [ids[2], 2],
    ]);
    expect(await stored(p.id)).toEqual({ rows: 2, objects: 2, thumbnails: 2 });
    expect((await remove(ids[0]!)).response.status).toBe(404);
  });

  it('has no video before the first render (404)', async () => {
    const p = await api.project();
    const r = await api.fetchVideo(p.id);
    expect(r.status).toBe(404);
  });
});
