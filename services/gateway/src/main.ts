import { serve } from '@hono/node-server';
import {
  type Bus,
  config,
  connectBus,
  createLogger,
  ensureTopology,
  onShutdown,
  retryUntil,
  Storage,
  startTelemetry,
  startWorker,
  stopTelemetry,
  useProcessTempDir,
  type Worker,
} from '@mt/platform';
import { createGateway } from './app.js';
import { resolveAuthSecret } from './auth/better-auth.js';
import { accountsFromEnv } from './auth/setup.js';
import { Coordinator } from './coordinator.js';
import { ensureDatabase, ping } from './db/database.js';
import { createRepositories } from './db/index.js';
import { createOrm, migrate } from './db/orm.js';
import { registerConsumerLag } from './metrics.js';
import { Projector } from './projector.js';
import { Reaper } from './reaper.js';
import { Relay } from './relay.js';
import { ensureThumbnail, storeThumbnail } from './thumbnails.js';
import { WebhookDeliverer } from './webhooks/deliverer.js';
import { webhooksOnJobFinished } from './webhooks/job-events.js';
import { WebhookSecrets } from './webhooks/secrets.js';

startTelemetry('gateway');
await useProcessTempDir('gateway');
const log = createLogger('gateway');
process.on('unhandledRejection', (e) => log.error({ err: e }, 'unhandled rejection'));

await retryUntil('postgres', log, () => ensureDatabase(config.databaseUrl));
const orm = await retryUntil('postgres', log, () => createOrm());
// Migrations are all-or-nothing in one transaction: a Postgres restart meanwhile is retried, not fatal.
await retryUntil('migrations', log, () => migrate(orm));
const storage = new Storage();
void retryUntil('object store', log, () => storage.ensureBucket(), 1_000).catch((e: unknown) => log.error({ err: e }, 'object store unreachable'));

const repos = createRepositories(orm);
const accounts = await accountsFromEnv(log);
// The same secret accounts use (made once in development): webhook secrets are encrypted with a key derived from it.
const webhookSecrets = new WebhookSecrets(await resolveAuthSecret(process.env, config.dataDir, log));
// Deliveries need only Postgres: they go out while NATS is away too.
// MT_WEBHOOK_LEASE_MS / MT_WEBHOOK_TIMEOUT_MS shorten the lease and an attempt's wait (the restart test).
const webhooks = new WebhookDeliverer(repos.webhooks, webhookSecrets, log, {
  ...(Number(process.env.MT_WEBHOOK_LEASE_MS) > 0 ? { leaseMs: Number(process.env.MT_WEBHOOK_LEASE_MS) } : {}),
  ...(Number(process.env.MT_WEBHOOK_TIMEOUT_MS) > 0 ? { timeoutMs: Number(process.env.MT_WEBHOOK_TIMEOUT_MS) } : {}),
});
webhooks.start();
/** The pipeline runtime, once the bus is there: relay, projector, coordinator, reaper. */
let runtime: { bus: Bus; relay: Relay; projector: Projector; coordinatorWorker: Worker; timer: NodeJS.Timeout } | null = null;
// /metrics: JetStream consumer lag per stage, once the bus is there.
registerConsumerLag(() => runtime?.bus ?? null);
const kick = () => runtime?.relay.kick();

const withTimeout = <T>(p: Promise<T>, ms: number) => Promise.race([p, new Promise<never>((_, rej) => setTimeout(() => rej(new Error('timeout')), ms))]);

const app = createGateway({
  repos,
  storage,
  log,
  bus: () => runtime?.bus ?? null,
  committed: kick,
  accounts: accounts.accounts,
  authenticate: accounts.accounts.authenticate,
  // Signed media URLs of share links: keyed from the auth secret, so every gateway accepts them and a restart keeps them.
  links: { secret: await resolveAuthSecret(process.env, config.dataDir, log) },
  webhookSecrets,
  storeThumbnail: (local, projectId, assetId) => storeThumbnail(storage, projectId, assetId, local),
  ensureThumbnail: (projectId, assetId, uploadKey) => ensureThumbnail(storage, projectId, assetId, uploadKey),
  ready: async () => {
    const down: Record<string, string> = {};
    await withTimeout(ping(orm), 1_500).catch((e: Error) => (down.postgres = e.message));
    if (!runtime) down.nats = 'not connected yet';
    else await withTimeout(runtime.bus.nc.flush(), 1_500).catch((e: Error) => (down.nats = e.message));
    await withTimeout(storage.ping(), 1_500).catch((e: Error) => (down.storage = e.message));
    return down;
  },
});

const server = serve({ fetch: app.fetch, port: config.port, hostname: config.host }, (info) =>
  log.info({ port: info.port }, `gateway listening on http://127.0.0.1:${info.port}`),
);

// The bus comes up in the background: the API answers (and /readyz says 503) while NATS is away.
void (async () => {
  const bus = await connectBus('gateway', log);
  await retryUntil('jetstream topology', log, () => ensureTopology(bus));
  const relay = new Relay(repos.outbox, bus, log, config.outboxIntervalMs);
  const coordinator = new Coordinator(repos, log, () => relay.kick());
  const projector = new Projector(repos, bus, log, () => relay.kick());
  projector.onApplied(coordinator.onApplied);
  projector.onApplied(webhooksOnJobFinished);
  const coordinatorWorker = await startWorker({ service: 'coordinator', bus, log, handlers: { pipeline: coordinator.prepare }, storage });
  relay.start();
  await projector.start();
  const reaper = new Reaper(repos, log, () => relay.kick());
  const timer = setInterval(() => {
    void coordinator.reconcile().catch(() => {});
    void reaper.sweep().catch((e: unknown) => log.warn({ err: (e as Error).message }, 'reaper sweep failed'));
  }, config.reaperIntervalMs);
  runtime = { bus, relay, projector, coordinatorWorker, timer };
  log.info('gateway connected to the bus');
})().catch((e: unknown) => log.error({ err: e }, 'bus start failed'));

onShutdown(log, async () => {
  server.close();
  await webhooks.stop();
  if (runtime) {
    clearInterval(runtime.timer);
    runtime.relay.stop();
    runtime.projector.stop();
    await runtime.coordinatorWorker.stop();
    await runtime.bus.nc.drain().catch(() => {});
  }
  await accounts.close();
  await orm.close();
  await stopTelemetry();
});
