import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { EntityManager } from '@mikro-orm/postgresql';
import { CaptionText, objectKeys } from '@mt/contracts';
import { inspectUpload, UnsupportedMediaError, type UploadInfo } from '@mt/media';
import { config, makeJobDir, removeDir, type Storage } from '@mt/platform';
import busboy from 'busboy';
import { type AssetRow, type NewAsset, type Repositories, transaction } from './db/index.js';
import { ApiError, projectBusy } from './http-errors.js';

interface ReceivedFile {
  filename: string;
  path: string;
  size: number;
  sha256: string;
}

/** Display-only filename: any script kept, control characters and path parts dropped. */
export function displayName(raw: string | undefined): string {
  const base = (raw ?? '').split(/[\\/]/).pop() ?? '';
  const clean = base
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are stripped from file names on purpose
    .replace(/[\u0000-\u001f\u007f]/g, '')
    .normalize('NFC')
    .trim()
    .slice(0, 255);
  return clean || 'unnamed';
}

/** What a multipart request carried: its files (on disk) and its short text fields (the last of each name). */
interface Received {
  files: ReceivedFile[];
  fields: Record<string, string>;
}

/**
 * Streams every `files` part of a multipart request to its own temp file (never whole in memory),
 * hashing on the way. The stored name is random; the family's filename is kept for display only.
 */
async function receive(req: IncomingMessage, dir: string): Promise<Received> {
  const ct = req.headers['content-type'] ?? '';
  if (!/^multipart\/form-data/i.test(ct)) throw new ApiError('unsupported_media_type', 'Send the files as multipart/form-data, in parts named "files".');
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > config.maxRequestBytes)
    throw new ApiError('payload_too_large', `The upload is too large (limit ${Math.round(config.maxRequestBytes / 1048576)} MB per request).`);

  return new Promise<Received>((resolve, reject) => {
    const files: ReceivedFile[] = [];
    const fields: Record<string, string> = {};
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
      bb = busboy({
        headers: req.headers,
        defParamCharset: 'utf8',
        limits: { fileSize: config.maxUploadBytes, files: 500, fields: 20, parts: 520, fieldSize: 4096 },
      });
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
        fail(
          new ApiError('payload_too_large', `"${filename}" is larger than the ${Math.round(config.maxUploadBytes / 1048576)} MB limit for one file.`, {
            filename,
          }),
        ),
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
    bb.on('field', (name, value) => {
      fields[name] = value;
    });
    bb.on('filesLimit', () => fail(new ApiError('payload_too_large', 'Too many files in one request (at most 500).')));
    bb.on('error', (e: Error) => fail(new ApiError('bad_request', `The multipart body could not be read: ${e.message}`)));
    bb.on('close', () => {
      Promise.all(writes)
        .then(() => {
          if (failed) return;
          if (files.length === 0) reject(new ApiError('validation_failed', 'files: no file was sent (use parts named "files").', { field: 'files' }));
          else resolve({ files, fields });
        })
        .catch((e: unknown) => fail(e as Error));
    });
    req.on('aborted', () => fail(new ApiError('bad_request', 'The upload was interrupted.')));
    req.pipe(bb);
  });
}

/** The optional `caption` text field (issue 13): the caption given to every photo of the upload; empty is none; 422 when it cannot be one. */
export function uploadCaption(raw: string | undefined): string | null {
  if (raw === undefined) return null;
  const r = CaptionText.safeParse(raw);
  if (!r.success) throw new ApiError('validation_failed', `caption: ${r.error.issues[0]?.message ?? 'not a caption'}`, { field: 'caption' });
  return r.data || null;
}

/** Makes a photo's thumbnail from its local file and stores it; returns its object key. */
export type ThumbnailMaker = (localPhoto: string, projectId: string, assetId: string) => Promise<string>;

/** An upload through a contribute link: who sent it (a required text field) and what the link allows. */
export interface Contribution {
  linkId: string;
  /** Moderated links' photos arrive pending: no video uses them until a member approves. */
  moderated: boolean;
  /** How many photos one link may bring in all. */
  cap: number;
  /** Checks the `contributor_name` field: the trimmed name, or throws 422. */
  contributorName: (raw: string | undefined) => string;
  /** Runs in the transaction that stores the photos (the `asset.contributed` webhook). */
  stored?: (em: EntityManager, rows: AssetRow[]) => Promise<unknown>;
}

/**
 * Takes a multipart upload for a project: every file is received, typed by its bytes and fully
 * decoded first; only when all are good are they stored (objects and thumbnails, then rows in one
 * transaction). One bad file refuses the whole request and nothing of it is kept. Through a contribute
 * link (`from`), only photos are taken, up to the link's cap, with the contributor's name.
 */
export async function acceptUpload(
  req: IncomingMessage,
  projectId: string,
  repos: Repositories,
  storage: Storage,
  makeThumbnail: ThumbnailMaker,
  from?: Contribution,
): Promise<AssetRow[]> {
  const dir = await makeJobDir('upload', projectId);
  const stored: string[] = [];
  try {
    const { files, fields } = await receive(req, dir);
    const contributorName = from ? from.contributorName(fields.contributor_name) : null;
    const caption = uploadCaption(fields.caption);
    const inspected: Array<{ f: ReceivedFile; info: UploadInfo }> = [];
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
    const photosNow = (await repos.assets.allPhotos(projectId)).length;
    const newPhotos = inspected.filter((i) => i.info.kind === 'photo').length;
    if (photosNow + newPhotos > config.maxPhotosPerProject)
      throw new ApiError('validation_failed', `A memorial can hold at most ${config.maxPhotosPerProject} photos.`, { field: 'files' });
    if (from) await checkContribution(repos, from, inspected);

    const rows: NewAsset[] = [];
    for (const { f, info } of inspected) {
      const id = randomUUID();
      const key = objectKeys.upload(projectId, id);
      await storage.putFile(key, f.path, info.contentType);
      stored.push(key);
      let thumbnailKey: string | null = null;
      if (info.kind === 'photo') {
        thumbnailKey = await makeThumbnail(f.path, projectId, id);
        stored.push(thumbnailKey);
      }
      rows.push({
        id,
        project_id: projectId,
        kind: info.kind,
        filename: f.filename,
        content_type: info.contentType,
        size_bytes: f.size,
        sha256: f.sha256,
        width: info.width ?? null,
        height: info.height ?? null,
        duration_seconds: info.durationSeconds ?? null,
        object_key: key,
        thumbnail_key: thumbnailKey,
        ...(caption && info.kind === 'photo' ? { caption } : {}),
        ...(from ? { contributor_name: contributorName, review: from.moderated ? ('pending' as const) : ('approved' as const), link_id: from.linkId } : {}),
      });
    }
    return await transaction(repos, async (em) => {
      await repos.projects.lock(em, projectId);
      const active = await repos.jobs.activeJobId(projectId, em);
      if (active) throw projectBusy(active);
      // Again under the memorial's lock: two uploads through one link at once cannot pass the cap together.
      if (from) await checkContribution(repos, from, inspected);
      const out = await repos.assets.insert(em, rows);
      await from?.stored?.(em, out);
      await repos.projects.touch(em, projectId);
      return out;
    });
  } catch (e) {
    await Promise.all(stored.map((k) => storage.delete(k).catch(() => {})));
    throw e;
  } finally {
    await removeDir(dir);
  }
}

/** A contribute link brings photos only (the music is the family's choice), and no more than its cap. */
async function checkContribution(repos: Repositories, from: Contribution, inspected: Array<{ f: ReceivedFile; info: { kind: string } }>): Promise<void> {
  const notPhoto = inspected.find((i) => i.info.kind !== 'photo');
  if (notPhoto)
    throw new ApiError('validation_failed', `"${notPhoto.f.filename}": only photos can be added with this link.`, {
      field: 'files',
      filename: notPhoto.f.filename,
    });
  const already = (await repos.assets.byLink(from.linkId)).length;
  if (already + inspected.length > from.cap)
    throw new ApiError('validation_failed', `This link can bring at most ${from.cap} photos; ${already} have been added with it already.`, {
      field: 'files',
      cap: from.cap,
      uploaded: already,
    });
}
