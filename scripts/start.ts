// `pnpm start`: every service as its own process, like a small process manager. Logs are prefixed by
// service; a process that dies is started again (with a growing pause); Ctrl-C stops everything
// gracefully (workers return in-flight messages for redelivery).
//   pnpm start [--replicas transition=3,render=2] [--no-s3]      (or MT_REPLICAS=transition=3)
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';

const SERVICES: Record<string, string> = {
  s3: 'infra/s3-server.ts',
  gateway: 'services/gateway/src/main.ts',
  canvas: 'services/canvas/src/main.ts',
  transition: 'services/transition/src/main.ts',
  render: 'services/render/src/main.ts',
};

const { values } = parseArgs({ options: { replicas: { type: 'string' }, 'no-s3': { type: 'boolean' }, only: { type: 'string' } }, allowPositionals: true });
const replicas: Record<string, number> = {};
for (const part of (values.replicas ?? process.env.MT_REPLICAS ?? '').split(',').filter(Boolean)) {
  const [name, n] = part.split('=');
  if (!name || !SERVICES[name] || !Number.isInteger(Number(n)) || Number(n) < 1) {
    console.error(`--replicas: "${part}" is not service=N (services: ${Object.keys(SERVICES).join(', ')})`);
    process.exit(2);
  }
  replicas[name] = Number(n);
}
const runS3 = !values['no-s3'] && (process.env.MT_RUN_S3 ?? 'true') === 'true';
const only = values.only?.split(',');

let stopping = false;
const children = new Set<ChildProcess>();
const color = (i: number) => `\x1b[${31 + (i % 6)}m`;
const tty = process.stdout.isTTY;

function run(service: string, index: number, restarts = 0): void {
  const tag = replicas[service] && replicas[service] > 1 ? `${service}#${index}` : service;
  const prefix = tty ? `${color(Object.keys(SERVICES).indexOf(service))}[${tag}]\x1b[0m ` : `[${tag}] `;
  const child = spawn(process.execPath, ['--import', 'tsx', SERVICES[service]!], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, MT_REPLICA: String(index) },
  });
  children.add(child);
  for (const s of [child.stdout!, child.stderr!]) createInterface({ input: s }).on('line', (l) => process.stdout.write(`${prefix}${l}\n`));
  const started = Date.now();
  child.on('exit', (code, signal) => {
    children.delete(child);
    if (stopping) return;
    const n = Date.now() - started > 60_000 ? 0 : restarts + 1;
    const pause = Math.min(30_000, 500 * 2 ** Math.min(n, 6));
    process.stdout.write(`${prefix}exited (${signal ?? code}); restarting in ${pause} ms\n`);
    setTimeout(() => !stopping && run(service, index, n), pause);
  });
}

for (const service of Object.keys(SERVICES)) {
  if (service === 's3' && !runS3) continue;
  if (only && !only.includes(service)) continue;
  for (let i = 1; i <= (replicas[service] ?? 1); i++) run(service, i);
}

function stop(): void {
  if (stopping) {
    for (const c of children) c.kill('SIGKILL');
    process.exit(130);
  }
  stopping = true;
  process.stdout.write('stopping every service (Ctrl-C again to force)\n');
  for (const c of children) c.kill('SIGTERM');
  const wait = setInterval(() => {
    if (children.size === 0) {
      clearInterval(wait);
      process.exit(0);
    }
  }, 100);
  setTimeout(() => {
    for (const c of children) c.kill('SIGKILL');
  }, 15_000).unref();
}
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
