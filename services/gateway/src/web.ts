import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Context, Hono } from 'hono';

// The families' page: plain static files (HTML, ES modules, CSS) from services/gateway/web, no build
// step. Only files that exist directly in that folder are served, by an exact name match against what
// was read at start-up: a request can never name a path outside it.
export const WEB_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../web');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.webmanifest': 'application/manifest+json',
};

// Same origin only; images and media from our API or the family's own local files (blob: thumbnails).
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' blob: data:",
  "media-src 'self' blob:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]*(\.[A-Za-z0-9]+)+$/;

interface WebFile {
  body: Uint8Array<ArrayBuffer>;
  etag: string;
  type: string;
}

/**
 * The folder's servable files, read once at start-up (they are small and few, and change only with a
 * deploy, which restarts the gateway): bytes, an ETag from them, and the content type.
 */
function readWebFiles(): Map<string, WebFile> {
  const files = new Map<string, WebFile>();
  let names: string[];
  try {
    names = readdirSync(WEB_DIR);
  } catch {
    return files;
  }
  for (const name of names) {
    const type = TYPES[path.extname(name)];
    const file = path.join(WEB_DIR, name);
    if (!SAFE_NAME.test(name) || !type || !statSync(file).isFile()) continue;
    const body = readFileSync(file);
    files.set(name, { body: new Uint8Array(body), etag: `"${createHash('sha1').update(body).digest('base64url').slice(0, 22)}"`, type });
  }
  return files;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function mountWeb(app: Hono<any>): void {
  const files = readWebFiles();

  // Every file is revalidated (no-cache) against its ETag, so a new deploy is picked up on the next load.
  const send = (c: Context, name: string) => {
    const f = files.get(name);
    if (!f) return c.notFound();
    const headers: Record<string, string> = {
      'content-type': f.type,
      'cache-control': 'no-cache',
      etag: f.etag,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'same-origin',
    };
    if (name.endsWith('.html')) {
      headers['content-security-policy'] = CSP;
      headers['x-frame-options'] = 'DENY';
    }
    const inm = c.req.header('if-none-match');
    if (inm && inm.split(',').some((t) => t.trim() === f.etag)) return c.body(null, 304, headers);
    return c.body(f.body, 200, headers);
  };

  app.get('/', (c) => send(c, 'index.html'));
  app.get('/web/*', (c) => {
    let name: string;
    try {
      name = decodeURIComponent(c.req.path.slice('/web/'.length));
    } catch {
      return c.notFound();
    }
    // Only exact names from the flat listing: no path a request makes up can reach anything else.
    return send(c, name);
  });
}
