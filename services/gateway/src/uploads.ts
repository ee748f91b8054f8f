import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import busboy from 'busboy';
import { objectKeys } from '@mt/contracts';
import { inspectUpload, UnsupportedMediaError } from '@mt/media';
import { config, makeJobDir, removeDir, type Storage } from '@mt/platform';
import { ApiError } from './http-errors.js';
import type { AssetRecord, ProjectStore } from './projects.js';

interface ReceivedFile {
  filename: string;
  path: string;
  size: number;
  sha256: string;
}

/** Display-only filename: any script kept, control characters and path parts dropped. */
export function displayName(raw: string | undefined): string {
  const base = (raw ?? '').split(/[\\/]/).pop() ?? '';
  // eslint-disable-next-line no-control-regex
  const clean = base.replace(/[\u0000-\u001f\u007f]/g, '').normalize('NFC').trim().slice(0, 255);
  return clean || 'unnamed';
}

/**
 * Streams every `files` part of a multipart request to its own temp file (never whole in memory),
 * hashing on the way. The stored name is random; the family's filename is kept for display only.
 */
async function receive(req: IncomingMessage, dir: string): Promise<ReceivedFile[]> {
  const ct = req.headers['content-type'] ?? '';
  if (!/^multipart\/form-data/i.test(ct))
    throw new ApiError('unsupported_media_type', 'Send the files as multipart/form-data, in parts named "files".');
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > config.maxRequestBytes)
    throw new ApiError('payload_too_large', `The upload is too large (limit ${Math.round(config.maxRequestBytes / 1048576)} MB per request).`);

  return new Promise<ReceivedFile[]>((resolve, reject) => {
    const files: ReceivedFile[] = [];
    const writes: Promise<void>[] = [];
    let failed: Error | null = null;
    const fail = (e: Error) => {
      if (!failed) {
        failed = e;
        req.unpipe(bb);
        req.resume(); // drain the rest so the client gets our answer
        reject(e);
      }
    };
    let bb: busboy.Busboy;
    try {
      bb = busboy({ headers: req.headers, defParamCharset: 'utf8', limits: { fileSize: config.maxUploadBytes, files: 500, fields: 20, parts: 520 } });
    } catch (e) {
      reject(new ApiError('bad_request', `The multipart body could not be read: ${(e as Error).message}`));
      return;
    }
    bb.on('file', (field, stream, info) => {
      if (field !== 'files' || failed) {
        stream.resume();
        return;
      }
      const filename = displayName(info.filename);
      const file = path.join(dir, `${files.length}-${randomUUID()}`);
      const hash = createHash('sha256');
      let size = 0;
      const rec: ReceivedFile = { filename, path: file, size: 0, sha256: '' };
      files.push(rec);
      stream.on('limit', () =>
        fail(new ApiError('payload_too_large', `"${filename}" is larger than the ${Math.round(config.maxUploadBytes / 1048576)} MB limit for one file.`, { filename })),
      );
      const meter = new Transform({
        transform(chunk: Buffer, _enc, cb) {
          size += chunk.length;
          hash.update(chunk);
          cb(null, chunk);
        },
      });
      writes.push(
        pipeline(stream, meter, createWriteStream(file)).then(() => {
          rec.size = size;
          rec.sha256 = hash.digest('hex');
        }),
      );
    });
    bb.on('filesLimit', () => fail(new ApiError('payload_too_large', 'Too many files in one request (at most 500).')));
    bb.on('error', (e: Error) => fail(new ApiError('bad_request', `The multipart body could not be read: ${e.message}`)));
    bb.on('close', () => {
      Promise.all(writes)
        .then(() => {
          if (failed) return;
          if (files.length === 0) reject(new ApiError('validation_failed', 'files: no file was sent (use parts named "files").', { field: 'files' }));
          else resolve(files);
        })
        .catch((e: unknown) => fail(e as Error));
    });
    req.on('aborted', () => fail(new ApiError('bad_request', 'The upload was interrupted.')));
    req.pipe(bb);
  });
}

/**
 * Takes a multipart upload for a project: every file is received, typed by its bytes and fully
 * decoded first; only when all are good are they stored (objects, then rows in one transaction).
 * One bad file refuses the whole request and nothing of it is kept.
 */
export async function acceptUpload(req: IncomingMessage, projectId: string, projects: ProjectStore, storage: Storage): Promise<AssetRecord[]> {
  await projects.get(projectId);
  const dir = await makeJobDir('upload', projectId);
  const stored: string[] = [];
  try {
    const files = await receive(req, dir);
    const inspected = [];
    for (const f of files) {
      if (f.size === 0) throw new ApiError('validation_failed', `"${f.filename}" is empty.`, { field: 'files', filename: f.filename });
      try {
        inspected.push({ f, info: await inspectUpload(f.path, { maxPixels: config.maxPhotoPixels, maxAudioSeconds: config.maxAudioSeconds }) });
      } catch (e) {
        if (e instanceof UnsupportedMediaError)
          throw new ApiError(e.httpStatus === 415 ? 'unsupported_media_type' : 'validation_failed', `"${f.filename}": ${e.reason}`, {
            field: 'files',
            filename: f.filename,
            reason: e.reason,
          });
        throw e;
      }
    }
    const photosNow = (await projects.photos(projectId)).length;
    const newPhotos = inspected.filter((i) => i.info.kind === 'photo').length;
    if (photosNow + newPhotos > config.maxPhotosPerProject)
      throw new ApiError('validation_failed', `A memorial can hold at most ${config.maxPhotosPerProject} photos.`, { field: 'files' });

    const rows = inspected.map(({ f, info }) => ({ id: randomUUID(), f, info }));
    for (const r of rows) {
      const key = objectKeys.upload(projectId, r.id);
      await storage.putFile(key, r.f.path, r.info.contentType);
      stored.push(key);
    }
    return await projects.em().transactional(async (em) => {
      await projects.assertIdle(projectId, em);
      await em.execute(`select id from projects where id = ? for update`, [projectId]);
      const max = await em.execute<{ m: number | null }[]>(`select max(position) as m from assets where project_id = ? and kind = 'photo'`, [projectId]);
      let pos = Number(max[0]?.m ?? 0);
      const out: AssetRecord[] = [];
      for (const r of rows) {
        const position = r.info.kind === 'photo' ? ++pos : null;
        const inserted = await em.execute<AssetRecord[]>(
          `insert into assets (id, project_id, kind, filename, content_type, size_bytes, sha256, width, height, duration_seconds, position, object_key)
           values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) returning *`,
          [r.id, projectId, r.info.kind, r.f.filename, r.info.contentType, r.f.size, r.f.sha256, r.info.width ?? null, r.info.height ?? null, r.info.durationSeconds ?? null, position, objectKeys.upload(projectId, r.id)],
        );
        out.push(inserted[0]!);
      }
      await em.execute(`update projects set updated_at = now() where id = ?`, [projectId]);
      return out;
    });
  } catch (e) {
    await Promise.all(stored.map((k) => storage.delete(k).catch(() => {})));
    throw e;
  } finally {
    await removeDir(dir);
  }
}
