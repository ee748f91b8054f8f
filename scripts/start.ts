// `pnpm start`: every service as its own process, like a small process manager. Logs are prefixed by
// service; a process that dies is started again (with a growing pause); Ctrl-C stops everything
// gracefully (workers return in-flight messages for redelivery). Services run as compiled JavaScript,
// as in production (scripts/service-command.ts says why); they are compiled first (incremental).
//   pnpm start [--replicas transition=3,render=2] [--no-s3]      (or MT_REPLICAS=transition=3)
//   MT_START=tsx pnpm start     the TypeScript sources through tsx, no compile step
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { buildServices, SERVICE_NAMES, type ServiceName, type StartMode, serviceCommand } from './service-command.js';

const SERVICES = ['s3', ...SERVICE_NAMES];
const mode: StartMode = process.env.MT_START === 'tsx' ? 'tsx' : 'compiled';
/** The local S3 server is a development stand-in: it always runs from its TypeScript source. */
const commandOf = (service: string) =>
  service === 's3' ? [process.execPath, '--import', 'tsx', 'infra/s3-server.ts'] : serviceCommand(service as ServiceName, mode);

const { values } = parseArgs({ options: { replicas: { type: 'string' }, 'no-s3': { type: 'boolean' }, only: { type: 'string' } }, allowPositionals: true });
const replicas: Record<string, number> = {};
for (const part of (values.replicas ?? process.env.MT_REPLICAS ?? '').split(',').filter(Boolean)) {
  const [name, n] = part.split('=');
  if (!name || !SERVICES.includes(name) || !Number.isInteger(Number(n)) || Number(n) < 1) {
    console.error(`--replicas: "${part}" is not service=N (services: ${SERVICES.join(', ')})`);
    process.exit(2);
  }
  replicas[name] = Number(n);
}
const runS3 = !values['no-s3'] && (process.env.MT_RUN_S3 ?? 'true') === 'true';
const only = values.only?.split(',');

if (mode === 'compiled') {
  try {
    buildServices();
  } catch {
    console.error('The services do not compile (tsc, above): fix that, or start the sources with MT_START=tsx ./mt start.');
    process.exit(1);
  }
}

let stopping = false;
const children = new Set<ChildProcess>();
const color = (i: number) => `\x1b[${31 + (i % 6)}m`;
const tty = process.stdout.isTTY;

function run(service: string, index: number, restarts = 0): void {
  const tag = replicas[service] && replicas[service] > 1 ? `${service}#${index}` : service;
  const prefix = tty ? `${color(SERVICES.indexOf(service))}[${tag}]\x1b[0m ` : `[${tag}] `;
  const [command, ...args] = commandOf(service);
  const child = spawn(command!, args, {
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

for (const service of SERVICES) {
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
