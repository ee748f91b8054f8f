import { createReadStream, createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { config } from './config.js';

/**
 * The file store could not serve a call: the AWS SDK marks what it throws after its own retries with
 * `$metadata`; no HTTP status (the server did not answer) or a 5xx means the store is down, not that
 * the request was wrong.
 */
export function isStorageUnavailable(e: unknown): boolean {
  const meta = (e as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata;
  return meta !== undefined && (meta.httpStatusCode === undefined || meta.httpStatusCode >= 500);
}

export interface ObjectHead {
  size: number;
  contentType: string | undefined;
  etag: string | undefined;
}

const isNotFound = (e: unknown) => e instanceof S3ServiceException && (e.$metadata.httpStatusCode === 404 || e.name === 'NotFound' || e.name === 'NoSuchKey');

/**
 * The object store: the only module that talks S3. Works against s3rver (the local default), MinIO
 * and AWS S3; the endpoint, region, credentials and path style come from the environment.
 */
export class Storage {
  readonly client: S3Client;
  constructor(
    readonly bucket = config.s3.bucket,
    s3 = config.s3,
  ) {
    this.client = new S3Client({
      endpoint: s3.endpoint || undefined,
      region: s3.region,
      credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
      forcePathStyle: s3.forcePathStyle,
      maxAttempts: s3.maxAttempts,
      // Without these, non-AWS servers stored streamed uploads corrupted (NOTES.md).
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  }

  async ensureBucket(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
    } catch (e) {
      if (!isNotFound(e) && !(e instanceof S3ServiceException && e.$metadata.httpStatusCode === 403)) throw e;
      await this.client.send(new CreateBucketCommand({ Bucket: this.bucket })).catch((err: unknown) => {
        if (!(err instanceof S3ServiceException && /BucketAlready/.test(err.name))) throw err;
      });
    }
  }

  async ping(signal?: AbortSignal): Promise<void> {
    await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }), { abortSignal: signal });
  }

  /**
   * Streams a local file up (multipart for large files), never holding it whole in memory, then
   * writes a small `<key>.done` marker: an artifact counts as made (see `exists`) only when its
   * upload finished, even on a store where an interrupted upload can leave a partial object.
   */
  async putFile(key: string, file: string, contentType: string, signal?: AbortSignal): Promise<void> {
    const size = (await stat(file)).size;
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.bucket, Key: key, Body: createReadStream(file), ContentType: contentType, ContentLength: size },
      abortController: signal ? abortControllerFrom(signal) : undefined,
    });
    await upload.done();
    await this.putBytes(`${key}.done`, JSON.stringify({ size }), 'application/json');
  }

  /** Whether an artifact was stored completely by `putFile`. */
  async exists(key: string): Promise<boolean> {
    return (await this.head(`${key}.done`)) !== null;
  }

  async putBytes(key: string, body: Buffer | string, contentType: string): Promise<void> {
    await new Upload({ client: this.client, params: { Bucket: this.bucket, Key: key, Body: body, ContentType: contentType } }).done();
  }

  async getFile(key: string, file: string, signal?: AbortSignal): Promise<void> {
    const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }), { abortSignal: signal });
    await pipeline(out.Body as Readable, createWriteStream(file), { signal });
  }

  async getStream(key: string, range?: string): Promise<{ body: Readable; size: number; contentRange?: string; contentType?: string }> {
    const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key, Range: range }));
    return { body: out.Body as Readable, size: out.ContentLength ?? 0, contentRange: out.ContentRange, contentType: out.ContentType };
  }

  async head(key: string): Promise<ObjectHead | null> {
    try {
      const h = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return { size: h.ContentLength ?? 0, contentType: h.ContentType, etag: h.ETag };
    } catch (e) {
      if (isNotFound(e)) return null;
      throw e;
    }
  }

  async delete(key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: `${key}.done` }));
  }

  /** The keys under a prefix (every page of the listing), in the store's order. */
  async list(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const out = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }));
      for (const o of out.Contents ?? []) if (o.Key) keys.push(o.Key);
      token = out.IsTruncated ? out.NextContinuationToken : undefined;
    } while (token);
    return keys;
  }

  /**
   * Deletes every object under a prefix (a whole memorial: `projects/<id>/`); the count deleted. One
   * DeleteObject per key, one after another: s3rver answered concurrent deletes in one folder (and the
   * batch DeleteObjects) with InternalError, racing on removing the emptied folder.
   */
  async deletePrefix(prefix: string): Promise<number> {
    if (!prefix.endsWith('/')) throw new Error(`deletePrefix needs a folder-like prefix ending in "/", got "${prefix}"`);
    let deleted = 0;
    // Listed again after each round (deleting while paging could skip keys on some servers), a bounded
    // number of times: something still writing under the prefix must not keep this going forever.
    for (let round = 0; round < 5; round++) {
      const keys = await this.list(prefix);
      if (!keys.length) return deleted;
      for (const Key of keys) await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key }));
      deleted += keys.length;
    }
    const left = await this.list(prefix);
    if (left.length) throw new Error(`${left.length} objects under ${prefix} were still there after deleting them five times`);
    return deleted;
  }
}

function abortControllerFrom(signal: AbortSignal): AbortController {
  const ac = new AbortController();
  if (signal.aborted) ac.abort(signal.reason);
  else signal.addEventListener('abort', () => ac.abort(signal.reason), { once: true });
  return ac;
}
