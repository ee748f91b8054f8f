import { createHash } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Context, Hono } from 'hono';

// The families' page: plain static files (HTML, ES modules, CSS) from services/gateway/web, no build
// step. Only files that exist directly in that folder are served, by an exact name match against a
// listing taken at start-up: a request can never name a path outside it.
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

function listing(): Set<string> {
  try {
    return new Set(readdirSync(WEB_DIR).filter((f) => SAFE_NAME.test(f) && TYPES[path.extname(f)] && statSync(path.join(WEB_DIR, f)).isFile()));
  } catch {
    return new Set();
  }
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function mountWeb(app: Hono<any>): void {
  const files = listing();

  // The files are small and few; an ETag from their bytes lets browsers revalidate cheaply. The page
  // itself is always revalidated (no-cache), so a new deploy is picked up on the next load.
  const send = async (c: Context, name: string, cacheControl: string) => {
    let body: Buffer;
    try {
      body = await readFile(path.join(WEB_DIR, name));
    } catch {
      return c.notFound();
    }
    const etag = `"${createHash('sha1').update(body).digest('base64url').slice(0, 22)}"`;
    const headers: Record<string, string> = {
      'content-type': TYPES[path.extname(name)]!,
      'cache-control': cacheControl,
      etag,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'same-origin',
    };
    if (name.endsWith('.html')) {
      headers['content-security-policy'] = CSP;
      headers['x-frame-options'] = 'DENY';
    }
    const inm = c.req.header('if-none-match');
    if (inm && inm.split(',').some((t) => t.trim() === etag)) return c.body(null, 304, headers);
    return c.body(new Uint8Array(body), 200, headers);
  };

  app.get('/', (c) => send(c, 'index.html', 'no-cache'));
  app.get('/web/*', (c) => {
    let name: string;
    try {
      name = decodeURIComponent(c.req.path.slice('/web/'.length));
    } catch {
      return c.notFound();
    }
    // Flat folder: no separators, no dot-dot, and only names seen in the listing.
    if (name.includes('/') || name.includes('\\') || name.includes('..') || !SAFE_NAME.test(name) || !files.has(name)) return c.notFound();
    return send(c, name, 'no-cache');
  });
}
