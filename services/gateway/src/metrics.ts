import { type BusNames, JobType } from '@mt/contracts';
import type { Bus } from '@mt/platform';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: 'mt_gateway_' });

export const metrics = {
  httpDuration: new Histogram({
    name: 'mt_http_request_duration_seconds',
    help: 'HTTP request latency by method, route and status',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  }),
  jobsCreated: new Counter({ name: 'mt_jobs_created_total', help: 'Jobs created by type', labelNames: ['type'], registers: [registry] }),
  jobsFinished: new Counter({
    name: 'mt_jobs_finished_total',
    help: 'Jobs finished by type and outcome',
    labelNames: ['type', 'outcome'],
    registers: [registry],
  }),
  workerJobs: new Counter({
    name: 'mt_worker_jobs_total',
    help: 'Jobs finished by each worker process (host:pid): how replicas share the work',
    labelNames: ['service', 'worker', 'outcome'],
    registers: [registry],
  }),
  stageDuration: new Histogram({
    name: 'mt_stage_duration_seconds',
    help: 'Time spent in each stage',
    labelNames: ['type', 'stage'],
    buckets: [0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600],
    registers: [registry],
  }),
  // Generative transitions that fell back to the classic provider, by reason (issue #5).
  transitionFallbacks: new Counter({
    name: 'mt_transition_fallbacks_total',
    help: 'Transition and last-clip jobs whose clip the classic provider made instead of the generative one, by reason',
    labelNames: ['reason'],
    registers: [registry],
  }),
};

/** The durable consumers whose lag /metrics shows: one per command type (its `stage`), and the projector. */
export function laggingConsumers(names: BusNames): { stream: string; consumer: string; stage: string }[] {
  return [
    ...JobType.options.map((type) => ({ stream: names.commandStream, consumer: names.consumer(`cmd_${type}`), stage: type })),
    { stream: names.eventStream, consumer: names.projectorConsumer, stage: 'projector' },
  ];
}

/**
 * Consumer lag per stage, read from JetStream consumer info when /metrics is scraped (at most once per
 * `cacheMs`): what waits (`num_pending`), what is being worked on (`num_ack_pending`) and what came
 * again (`num_redelivered`). KEDA scales each service on these (infra/k8s/keda.yaml).
 */
export function registerConsumerLag(bus: () => Bus | null, reg: Registry = registry, cacheMs = 1_500) {
  type Row = { consumer: string; stage: string; pending: number; ackPending: number; redelivered: number };
  let cached: { at: number; rows: Promise<Row[]> } | null = null;
  const read = async (): Promise<Row[]> => {
    const b = bus();
    if (!b) return [];
    const rows = await Promise.all(
      laggingConsumers(b.names).map(async (c) => {
        const info = await b.jsm.consumers.info(c.stream, c.consumer).catch(() => null);
        return info
          ? { consumer: c.consumer, stage: c.stage, pending: info.num_pending, ackPending: info.num_ack_pending, redelivered: info.num_redelivered }
          : null;
      }),
    );
    return rows.filter((r): r is Row => r !== null);
  };
  const rows = () => {
    if (!cached || Date.now() - cached.at > cacheMs) cached = { at: Date.now(), rows: read().catch(() => []) };
    return cached.rows;
  };
  const gauge = (name: string, help: string, pick: (r: Row) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['consumer', 'stage'],
      registers: [reg],
      async collect() {
        this.reset();
        for (const r of await rows()) this.set({ consumer: r.consumer, stage: r.stage }, pick(r));
      },
    });
  return [
    gauge('mt_consumer_pending_messages', 'Messages waiting for a durable consumer (JetStream num_pending), by consumer and stage', (r) => r.pending),
    gauge('mt_consumer_ack_pending', 'Messages delivered and not yet acknowledged (being worked on; JetStream num_ack_pending)', (r) => r.ackPending),
    gauge('mt_consumer_redelivered', 'Messages delivered more than once and not yet acknowledged (JetStream num_redelivered)', (r) => r.redelivered),
  ];
}
