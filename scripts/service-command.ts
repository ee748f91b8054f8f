// How a service process is started. Production runs compiled JavaScript: `tsc -b` emits each package's
// dist/, and `--conditions=compiled` makes `@mt/*` imports resolve to that dist/ instead of src/
// (package.json `exports`). Measured at rest (README): the gateway 161 MB compiled against 228 MB under
// the tsx loader, each worker ~122 MB against ~171 MB; Node's own type stripping
// (--experimental-transform-types, needed for parameter properties) saved almost nothing (207/169 MB).
// Tests keep running the TypeScript sources through tsx.
//
// The gateway's V8 heap is bounded: under 100k mixed requests (bench/soak.bench.ts) its RSS climbed from
// ~126 MB to ~375 MB per 20k requests with V8's defaults although a forced full GC brought it back to
// ~140 MB (live heap ~45-50 MB): no leak, V8 just let garbage pile up in a growing old space. With
// these two flags the same run stays flat at ~220 MB.
const GATEWAY_HEAP_FLAGS = ['--max-old-space-size=192', '--max-semi-space-size=32'];

import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export type StartMode = 'compiled' | 'tsx';
export const SERVICE_NAMES = ['gateway', 'canvas', 'transition', 'render'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The command line (node first) that starts one service, relative to the repository root. */
export function serviceCommand(service: ServiceName, mode: StartMode = 'compiled'): string[] {
  const heap = service === 'gateway' ? GATEWAY_HEAP_FLAGS : [];
  if (mode === 'tsx') return [process.execPath, ...heap, '--import', 'tsx', `services/${service}/src/main.ts`];
  return [process.execPath, ...heap, '--conditions=compiled', `services/${service}/dist/main.js`];
}

/** Compiles every service and the packages it uses into their dist/ (incremental: fast when nothing changed). */
export function buildServices(): void {
  const tsc = path.join(ROOT, 'node_modules/typescript/bin/tsc');
  const configs = SERVICE_NAMES.map((s) => `services/${s}/tsconfig.build.json`);
  execFileSync(process.execPath, [tsc, '-b', ...configs], { cwd: ROOT, stdio: 'inherit' });
}
