import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Context, Env, Hono } from 'hono';

// The families' page: plain static files (HTML, ES modules, CSS) from services/gateway/web and its
// subfolders, plus a few ES modules of the view library (Preact + htm) from node_modules, no build
// step. Only files found at start-up are served, by an exact name match against that list: a request
// can never name a path outside it.
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

// Same origin only; images and media from our API or the family's own local files (blob: thumbnails
// while a photo is uploading).
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
const SAFE_FOLDER = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;

/**
 * The view library's ES modules, served as /vendor/<name>: package, export subpath. The browser has no
 * import map (the CSP allows no inline script), so the bare specifiers inside them are rewritten to
 * these fixed paths when they are read.
 */
const VENDOR: Record<string, { pkg: string; subpath: string; specifier: string }> = {
  'preact.js': { pkg: 'preact', subpath: '.', specifier: 'preact' },
  'hooks.js': { pkg: 'preact', subpath: './hooks', specifier: 'preact/hooks' },
  'htm.js': { pkg: 'htm', subpath: '.', specifier: 'htm' },
  'htm-preact.js': { pkg: 'htm', subpath: './preact', specifier: 'htm/preact' },
  // A share link's QR code, drawn in the page (the link's key never leaves the browser to be drawn).
  'qrcode.js': { pkg: 'qrcode-generator', subpath: '.', specifier: 'qrcode-generator' },
};

interface WebFile {
  body: Uint8Array<ArrayBuffer>;
  etag: string;
  type: string;
}

function webFile(body: Buffer | string, type: string): WebFile {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  return { body: new Uint8Array(bytes), etag: `"${createHash('sha1').update(bytes).digest('base64url').slice(0, 22)}"`, type };
}

/**
 * The folder's servable files, read once at start-up (they are small and few, and change only with a
 * deploy, which restarts the gateway), keyed by their path below the folder ("memorial/video.js").
 * Names that are not plain (dots first, odd characters) are skipped, and so is everything below them.
 */
function readWebFiles(dir = WEB_DIR, prefix = '', files = new Map<string, WebFile>()): Map<string, WebFile> {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return files;
  }
  for (const name of names) {
    const file = path.join(dir, name);
    const stat = statSync(file);
    if (stat.isDirectory() && SAFE_FOLDER.test(name)) readWebFiles(file, `${prefix}${name}/`, files);
    const type = TYPES[path.extname(name)];
    if (!SAFE_NAME.test(name) || !type || !stat.isFile()) continue;
    files.set(`${prefix}${name}`, webFile(readFileSync(file), type));
  }
  return files;
}

/** The ES module file a package exports at `subpath` (its "import" or "default" condition). */
function esmEntry(pkg: string, subpath: string): string {
  // Any entry of the package finds its folder; its package.json then names the ES module file.
  let dir = path.dirname(createRequire(import.meta.url).resolve(pkg));
  for (;;) {
    const manifest = path.join(dir, 'package.json');
    if (existsSync(manifest)) {
      const json = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string; exports?: Record<string, unknown> };
      if (json.name === pkg) {
        // A package with one entry may give its conditions straight under "exports" (no "." key).
        const entries = json.exports && !Object.keys(json.exports).some((k) => k.startsWith('.')) ? { '.': json.exports } : json.exports;
        const target = entries?.[subpath] as string | { import?: string; default?: string } | undefined;
        const file = typeof target === 'string' ? target : (target?.import ?? target?.default);
        if (!file) throw new Error(`web: ${pkg} exports no ES module at ${subpath}`);
        return path.join(dir, file);
      }
    }
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`web: the package folder of ${pkg} was not found`);
    dir = up;
  }
}

/** Bare import specifiers ("preact") → the fixed paths they are served at; anything else is refused. */
export function rewriteImports(source: string, paths: Record<string, string>): string {
  return source
    .replace(/(\bfrom\s*|\bimport\s*\(?\s*)(["'])([^"'./][^"']*)\2/g, (_, lead: string, q: string, spec: string) => {
      const to = paths[spec];
      if (!to) throw new Error(`web: a vendor module imports ${spec}, which is not served`);
      return `${lead}${q}${to}${q}`;
    })
    .replace(/\n?\/\/# sourceMappingURL=\S+\s*$/, '\n'); // the maps are not served
}

function readVendorFiles(): Map<string, WebFile> {
  const paths = Object.fromEntries(Object.entries(VENDOR).map(([name, v]) => [v.specifier, `/vendor/${name}`]));
  const files = new Map<string, WebFile>();
  for (const [name, v] of Object.entries(VENDOR)) {
    const source = readFileSync(esmEntry(v.pkg, v.subpath), 'utf8');
    files.set(name, webFile(rewriteImports(source, paths), TYPES['.js']!));
  }
  return files;
}

export function mountWeb<E extends Env>(app: Hono<E>): void {
  const files = readWebFiles();
  const vendor = readVendorFiles();

  // Every file is revalidated (no-cache) against its ETag, so a new deploy is picked up on the next load.
  const send = (c: Context, from: Map<string, WebFile>, name: string) => {
    const f = from.get(name);
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
    if (inm?.split(',').some((t) => t.trim() === f.etag)) return c.body(null, 304, headers);
    return c.body(f.body, 200, headers);
  };
  /** The name after `prefix`, decoded; only an exact key of the start-up listing is ever served. */
  const nameIn = (c: Context, prefix: string): string | null => {
    try {
      return decodeURIComponent(c.req.path.slice(prefix.length));
    } catch {
      return null;
    }
  };

  app.get('/', (c) => send(c, files, 'index.html'));
  app.get('/web/*', (c) => {
    const name = nameIn(c, '/web/');
    return name === null ? c.notFound() : send(c, files, name);
  });
  app.get('/vendor/*', (c) => {
    const name = nameIn(c, '/vendor/');
    return name === null ? c.notFound() : send(c, vendor, name);
  });
}
