import { setTimeout as sleep } from 'node:timers/promises';
import type { JobType } from '@mt/contracts';
import { type Bus, connectBus, ensureTopology } from './bus.js';
import { createLogger, type Logger } from './logger.js';
import { Storage } from './storage.js';
import { startTelemetry, stopTelemetry } from './telemetry.js';
import { useProcessTempDir } from './tempdir.js';
import { type Handlers, startWorker, type Worker } from './worker.js';

/** Retries a start-up step until it works, logging why it waits (a dependency still coming up). */
export async function retryUntil<T>(what: string, log: Logger, fn: () => Promise<T>, tries = 60): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (e) {
      if (i >= tries) throw e;
      log.warn({ err: (e as Error).message, attempt: i }, `${what} not ready, retrying`);
      await sleep(Math.min(5_000, 250 * i));
    }
  }
}

/** Exits cleanly on SIGINT/SIGTERM, running `stop` once; a second signal exits at once. */
export function onShutdown(log: Logger, stop: () => Promise<void>): void {
  let stopping = false;
  const handler = (sig: string) => {
    if (stopping) process.exit(130);
    stopping = true;
    log.info({ signal: sig }, 'shutting down');
    stop()
      .catch((e: unknown) => log.error({ err: e }, 'error during shutdown'))
      .finally(() => process.exit(0));
  };
  process.on('SIGINT', () => handler('SIGINT'));
  process.on('SIGTERM', () => handler('SIGTERM'));
}

/** Entry point of a worker service: telemetry, bus, topology, bucket, worker loop, shutdown. */
export async function runWorkerService(
  service: string,
  handlers: Handlers,
  opts: { concurrency?: Partial<Record<JobType, number>> } = {},
): Promise<{ bus: Bus; worker: Worker; log: Logger }> {
  startTelemetry(service);
  await useProcessTempDir(service);
  const log = createLogger(service);
  process.on('unhandledRejection', (e) => log.error({ err: e }, 'unhandled rejection'));
  const bus = await connectBus(service, log);
  await retryUntil('jetstream topology', log, () => ensureTopology(bus));
  const storage = new Storage();
  await retryUntil('object store', log, () => storage.ensureBucket());
  const worker = await startWorker({ service, bus, log, handlers, storage, concurrency: opts.concurrency });
  onShutdown(log, async () => {
    await worker.stop();
    await bus.nc.drain().catch(() => {});
    await stopTelemetry();
  });
  return { bus, worker, log };
}
