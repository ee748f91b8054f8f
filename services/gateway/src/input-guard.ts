// Refuses, at the edge, text that Postgres cannot store: a NUL character (`text` and `jsonb` cannot
// hold U+0000) or a lone UTF-16 surrogate (not valid Unicode; `jsonb` refuses its escape). Without
// this such input reaches the driver and fails as a 500. A NUL in a path id can name nothing, so it
// is 404 not_found; in a query value or JSON body it is 422 validation_failed naming the field.
//
// Mount it on the API after the body limit (it reads JSON bodies, which the limit keeps small):
//   app.use('/api/v1/*', inputGuard());

import { API_ERRORS, type ApiErrorCode } from '@mt/contracts';
import type { Context, MiddlewareHandler } from 'hono';

/** Why a string cannot be stored, or null when it can. */
function unstorable(s: string): string | null {
  if (s.includes('\0')) return 'must not contain a NUL character (\\u0000)';
  if (!s.isWellFormed()) return 'must be valid Unicode text (it has a lone surrogate)';
  return null;
}

/** The first unstorable string (key or value) in a parsed JSON value, with its dotted field path. */
export function findUnstorable(value: unknown, path: string[] = []): { field: string; message: string } | null {
  if (typeof value === 'string') {
    const why = unstorable(value);
    return why ? { field: path.join('.'), message: why } : null;
  }
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) {
      const found = findUnstorable(v, [...path, String(i)]);
      if (found) return found;
    }
    return null;
  }
  if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      const keyWhy = unstorable(k);
      if (keyWhy) return { field: [...path, k].join('.'), message: `field name ${keyWhy}` };
      const found = findUnstorable(v, [...path, k]);
      if (found) return found;
    }
  }
  return null;
}

function refuse(c: Context, code: ApiErrorCode, message: string, details: Record<string, unknown>) {
  return c.json({ error: { code, message, details } }, API_ERRORS[code] as 404 | 422);
}

function decodedPath(rawUrl: string): string {
  const raw = rawUrl.replace(/^[a-z]+:\/\/[^/]*/i, '').split('?')[0] ?? '';
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw; // a malformed escape (%ff) is left to the routes: it names nothing, so 404
  }
}

const isJson = (type: string | undefined) => /^application\/([\w.+-]+\+)?json\b/i.test(type ?? '');

export function inputGuard(): MiddlewareHandler {
  return async (c, next) => {
    const p = decodedPath(c.req.url);
    if (unstorable(p)) return refuse(c, 'not_found', 'Nothing is found at a path with a NUL or an invalid character in it.', { path: c.req.path });

    for (const [name, values] of Object.entries(c.req.queries())) {
      const why = unstorable(name) ?? values.map(unstorable).find((w) => w !== null) ?? null;
      if (why) return refuse(c, 'validation_failed', `${name}: ${why}`, { field: name, fields: [{ field: name, message: why }] });
    }

    if (c.req.method !== 'GET' && c.req.method !== 'HEAD' && isJson(c.req.header('content-type'))) {
      // Hono caches the text, so the route's JSON validator reads the same body again.
      const text = await c.req.text();
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        return next(); // not JSON: the route's validator answers 400 invalid_json
      }
      const bad = findUnstorable(parsed);
      if (bad) {
        const field = bad.field || 'body';
        return refuse(c, 'validation_failed', `${field}: ${bad.message}`, { field, fields: [{ field, message: bad.message }] });
      }
    }
    return next();
  };
}
