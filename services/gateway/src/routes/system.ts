import { Hono } from 'hono';
import { registry } from '../metrics.js';

/** Outside /api/v1: liveness, readiness (Postgres, NATS, storage) and Prometheus metrics. */
export function systemRoutes(ready: () => Promise<Record<string, string>>) {
  const app = new Hono();
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', async (c) => {
    const down = await ready();
    if (Object.keys(down).length === 0) return c.json({ status: 'ready' });
    return c.json({ error: { code: 'dependency_unavailable', message: `Not ready: ${Object.keys(down).join(', ')} unreachable.`, details: down } }, 503);
  });
  app.get('/metrics', async (c) => c.text(await registry.metrics(), 200, { 'content-type': registry.contentType }));
  return app;
}
