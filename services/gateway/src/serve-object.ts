import type { Readable } from 'node:stream';
import type { Storage } from '@mt/platform';
import type { Context } from 'hono';
import { stream } from 'hono/streaming';
import { ApiError } from './http-errors.js';

const ONE_RANGE = /^bytes=(\d*)-(\d*)$/;

/** Streams a stored object; one byte range gets 206 (or 416 past the end) so a browser can seek. */
export async function serveObject(c: Context, storage: Storage, key: string, type: string, headers: Record<string, string> = {}) {
  const h = await storage.head(key);
  if (!h) throw new ApiError('not_found', 'The file is missing. Run the memorial again.');
  const range = c.req.header('range');
  const m = range ? ONE_RANGE.exec(range) : null;
  if (range && !m) throw new ApiError('bad_request', 'Only one byte range (bytes=a-b) is supported.');
  if (m && m[1] !== '' && Number(m[1]) >= h.size) {
    c.header('content-range', `bytes */${h.size}`);
    return c.body(null, 416);
  }
  const obj = await storage.getStream(key, range);
  c.header('content-type', type);
  c.header('accept-ranges', 'bytes');
  c.header('content-length', String(obj.size));
  for (const [k, v] of Object.entries(headers)) c.header(k, v);
  if (obj.contentRange) {
    c.header('content-range', obj.contentRange);
    c.status(206);
  }
  return stream(c, async (s) => {
    for await (const chunk of obj.body as Readable) await s.write(chunk as Uint8Array);
  });
}
