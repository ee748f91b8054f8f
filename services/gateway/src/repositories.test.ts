// The shape the gateway keeps: SQL only in its repositories (one module per table, in db/), and
// app.ts only mounting. A grep, so that a shortcut in a route or a listener fails the build.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = path.dirname(fileURLToPath(import.meta.url));
const SQL = /\b(select\s+[\w*(]|insert\s+into|delete\s+from|update\s+[a-z_]+\s+set|create\s+(table|index|database)|alter\s+table|\.execute\()/i;

async function sources(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await sources(p)));
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

describe('the gateway keeps its shape', () => {
  it('writes SQL only in db/ (the repositories, migrations and database helpers)', async () => {
    const offenders: string[] = [];
    for (const file of await sources(SRC)) {
      const rel = path.relative(SRC, file);
      if (rel.startsWith(`db${path.sep}`)) continue;
      for (const [i, line] of (await readFile(file, 'utf8')).split('\n').entries()) if (SQL.test(line)) offenders.push(`${rel}:${i + 1}: ${line.trim()}`);
    }
    expect(offenders).toEqual([]);
  });

  it('app.ts only builds and mounts: no route is defined there', async () => {
    const app = await readFile(path.join(SRC, 'app.ts'), 'utf8');
    expect(app).not.toMatch(/\.(get|post|put|delete|patch|openapi)\(\s*['"`]\/api/);
    expect(app).not.toMatch(/createRoute\(/);
  });
});
