import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';

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
