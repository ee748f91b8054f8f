// The client is typed from a committed copy of the gateway's OpenAPI document. These tests fail when
// the copy (or the types generated from it) drifts from what `GET /openapi.json` serves, and when the
// document does not pass Redocly's recommended rules (redocly.yaml).
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { gatewayOpenApiDocument, OPENAPI_FILE, renderClientFiles, SCHEMA_FILE } from '../../../scripts/openapi.js';

const ROOT = path.resolve(path.dirname(OPENAPI_FILE), '../..');
const REGENERATE = 'out of date: run `pnpm exec tsx scripts/openapi.ts` and commit the result';

describe('the OpenAPI document the client is typed from', () => {
  it('is committed exactly as the gateway serves it, and the generated types match it', async () => {
    const served = await renderClientFiles(await gatewayOpenApiDocument());
    expect(await readFile(OPENAPI_FILE, 'utf8'), `packages/client/openapi.json is ${REGENERATE}`).toBe(served.openapi);
    expect(await readFile(SCHEMA_FILE, 'utf8'), `packages/client/src/schema.gen.ts is ${REGENERATE}`).toBe(served.schema);
  });

  it('passes redocly lint with the recommended rules', async () => {
    const lint = await promisify(execFile)(path.join(ROOT, 'node_modules/.bin/redocly'), ['lint', '--format', 'stylish'], {
      cwd: ROOT,
      env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
    }).then(
      () => ({ failed: false, output: '' }),
      (e: { stdout?: string; stderr?: string }) => ({ failed: true, output: `${e.stdout ?? ''}${e.stderr ?? ''}` }),
    );
    const problems = lint.output.split('\n').filter((l) => / error /.test(l) || /Validation failed/.test(l));
    expect(lint.failed, problems.slice(0, 30).join('\n')).toBe(false);
  }, 60_000);
});
