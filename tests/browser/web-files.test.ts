// The family page's files as the gateway serves them, without a stack: the ES module graph from
// /web/app.js closes (every import is served, none is a bare name a browser cannot resolve without an
// import map), the view library comes from node_modules under /vendor/, and no request reaches a file
// that was not listed at start-up.
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { mountWeb, rewriteImports } from '../../services/gateway/src/web.js';

// Hono is the gateway's dependency, not the root's: load the copy the gateway itself uses.
const gatewayRequire = createRequire(new URL('../../services/gateway/package.json', import.meta.url));
const { Hono } = (await import(gatewayRequire.resolve('hono'))) as { Hono: new () => Parameters<typeof mountWeb>[0] };
const app = new Hono();
mountWeb(app);
const get = (p: string, headers: Record<string, string> = {}) => app.request(p, { headers });

/** Every module specifier a file imports (static, re-export and dynamic). */
const importsOf = (src: string) => [...src.matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*)(["'])([^"']+)\1/g)].map((m) => m[2]!);

describe('the family page files', () => {
  it('serve a module graph that closes, from /web/app.js through the vendor files', async () => {
    const seen = new Set<string>();
    const todo = ['/web/app.js'];
    while (todo.length) {
      const url = todo.pop()!;
      if (seen.has(url)) continue;
      seen.add(url);
      const r = await get(url);
      expect(r.status, url).toBe(200);
      expect(r.headers.get('content-type'), url).toMatch(/^text\/javascript/);
      for (const spec of importsOf(await r.text())) {
        expect(spec, `${url} imports a bare name`).toMatch(/^(\.{1,2}\/|\/)/);
        todo.push(new URL(spec, `http://x${url}`).pathname);
      }
    }
    expect([...seen]).toEqual(
      expect.arrayContaining([
        '/web/memorial/view.js',
        '/web/views/list.js',
        '/web/views/sign-in.js',
        '/web/views/verify-link.js',
        '/web/views/account-bar.js',
        '/web/lib/session.js',
        '/vendor/preact.js',
        '/vendor/hooks.js',
        '/vendor/htm.js',
        '/vendor/htm-preact.js',
      ]),
    );
    // One copy of Preact: hooks and htm's binding import the same file as the page does.
    for (const f of ['/vendor/hooks.js', '/vendor/htm-preact.js']) expect(importsOf(await (await get(f)).text()), f).toContain('/vendor/preact.js');
  });

  it('revalidate every file by its ETag', async () => {
    for (const f of ['/web/memorial/photos.js', '/vendor/preact.js']) {
      const etag = (await get(f)).headers.get('etag')!;
      expect((await get(f, { 'if-none-match': etag })).status, f).toBe(304);
    }
  });

  it('answer 404 for any name not listed at start-up, in subfolders too', async () => {
    for (const bad of [
      '/web/memorial%2F..%2Fapp.js',
      '/web/memorial/..%2F..%2Fsrc%2Fweb.ts',
      '/web/memorial/',
      '/web/memorial',
      '/web/lib/.x.js',
      '/vendor/preact.mjs',
      '/vendor/..%2Fweb%2Fapp.js',
      '/vendor/%2e%2e/package.json',
      '/vendor/',
      '/web/%E0%A4%A',
    ])
      expect((await get(bad)).status, bad).toBe(404);
  });

  it('refuse at start-up a vendor module that imports a package it does not serve', () => {
    expect(rewriteImports('import{h}from"preact";export{h}', { preact: '/vendor/preact.js' })).toBe('import{h}from"/vendor/preact.js";export{h}');
    expect(() => rewriteImports('import x from"left-pad"', { preact: '/vendor/preact.js' })).toThrow(/left-pad/);
  });
});
