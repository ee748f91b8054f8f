import { serve } from '@hono/node-server';
import pg from 'pg';
import {
  config,
  connectBus,
  createLogger,
  ensureTopology,
  onShutdown,
  retryUntil,
  startTelemetry,
  startWorker,
  stopTelemetry,
  Storage,
  useProcessTempDir,
  type Bus,
  type Worker,
} from '@mt/platform';
import { createApp } from './app.js';
import { Coordinator } from './coordinator.js';
import { createOrm, migrate } from './db/orm.js';
import { JobStore } from './jobs.js';
import { Outbox } from './outbox.js';
import { ProjectStore } from './projects.js';
import { Projector } from './projector.js';
import { Reaper } from './reaper.js';

startTelemetry('gateway');
await useProcessTempDir('gateway');
const log = createLogger('gateway');
process.on('unhandledRejection', (e) => log.error({ err: e }, 'unhandled rejection'));

/** Creates the database named in DATABASE_URL when the server has none by that name yet. */
async function ensureDatabase(url: string): Promise<void> {
  const u = new URL(url);
  const name = decodeURIComponent(u.pathname.slice(1));
  u.pathname = '/postgres';
  const c = new pg.Client({ connectionString: u.toString() });
  await c.connect();
  try {
    const r = await c.query('select 1 from pg_database where datname = $1', [name]);
    if (r.rowCount === 0) await c.query(`create database "${name.replace(/"/g, '""')}"`).catch((e: { code?: string }) => { if (e.code !== '42P04') throw e; });
  } finally {
    await c.end();
  }
}

await retryUntil('postgres', log, () => ensureDatabase(config.databaseUrl));
const orm = await retryUntil('postgres', log, () => createOrm());
// Migrations are all-or-nothing in one transaction: a Postgres restart meanwhile is retried, not fatal.
await retryUntil('migrations', log, () => migrate(orm));
const storage = new Storage();
void retryUntil('object store', log, () => storage.ensureBucket(), 1_000).catch((e: unknown) => log.error({ err: e }, 'object store unreachable'));

const jobs = new JobStore(orm, log);
const projects = new ProjectStore(orm);
let bus: Bus | null = null;
let outbox: Outbox | null = null;
let projector: Projector | null = null;
let coordinatorWorker: Worker | null = null;
const timers: NodeJS.Timeout[] = [];

const withTimeout = <T>(p: Promise<T>, ms: number) => Promise.race([p, new Promise<never>((_, rej) => setTimeout(() => rej(new Error('timeout')), ms))]);

const { app } = createApp({
  jobs,
  projects,
  storage,
  log,
  bus: () => bus,
  outbox: () => outbox,
  ready: async () => {
    const down: Record<string, string> = {};
    await withTimeout(orm.em.fork().execute('select 1'), 1_500).catch((e: Error) => (down.postgres = e.message));
    if (!bus) down.nats = 'not connected yet';
    else await withTimeout(bus.nc.flush(), 1_500).catch((e: Error) => (down.nats = e.message));
    await withTimeout(storage.ping(), 1_500).catch((e: Error) => (down.storage = e.message));
    return down;
  },
});

const server = serve({ fetch: app.fetch, port: config.port, hostname: config.host }, (info) =>
  log.info({ port: info.port }, `gateway listening on http://127.0.0.1:${info.port}`),
);

// The bus comes up in the background: the API answers (and /readyz says 503) while NATS is away.
void (async () => {
  const b = await connectBus('gateway', log);
  await retryUntil('jetstream topology', log, () => ensureTopology(b));
  outbox = new Outbox(orm, b, log);
  projector = new Projector(orm, b, jobs, log);
  const coordinator = new Coordinator(orm, jobs, projects, b, outbox, log);
  projector.onApplied(coordinator.onApplied);
  coordinatorWorker = await startWorker({ service: 'coordinator', bus: b, log, handlers: { pipeline: coordinator.prepare }, storage });
  outbox.start();
  await projector.start();
  const reaper = new Reaper(orm, b, log);
  timers.push(
    setInterval(() => {
      void coordinator.reconcile().catch(() => {});
      void reaper.sweep().catch((e: unknown) => log.warn({ err: (e as Error).message }, 'reaper sweep failed'));
    }, config.reaperIntervalMs),
  );
  bus = b;
  log.info('gateway connected to the bus');
})().catch((e: unknown) => log.error({ err: e }, 'bus start failed'));

onShutdown(log, async () => {
  server.close();
  for (const t of timers) clearInterval(t);
  outbox?.stop();
  projector?.stop();
  await coordinatorWorker?.stop();
  await bus?.nc.drain().catch(() => {});
  await orm.close();
  await stopTelemetry();
});
