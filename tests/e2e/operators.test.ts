// What an operator reads and what scales the services: consumer lag per stage on the gateway's
// /metrics moves as commands wait, are taken, come back and are done; and the KEDA objects in
// infra/k8s watch exactly the consumers the services use (busNames(), infra/nats).
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { busNames, SERVICE_COMMANDS } from '@mt/contracts';
import { type JsMsg, jetstream } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { ok, type TestClient } from '../lib/api.js';
import { ROOT, Stack } from '../lib/stack.js';
import { waitFor } from '../lib/wait.js';

describe('consumer lag on /metrics', () => {
  const stack = new Stack();
  let api: TestClient;
  let nc: NatsConnection;

  beforeAll(async () => {
    await stack.start({ services: ['gateway'] }); // no canvas service: test jobs wait
    api = stack.client();
    nc = await connect({ servers: stack.e.natsUrl });
  });
  afterAll(async () => {
    await nc?.close();
    await stack.stop();
  });

  /** The three lag figures of one consumer, as the scrape shows them. */
  async function lag(consumer: string): Promise<{ pending: number; ackPending: number; redelivered: number } | undefined> {
    const text = await (await fetch(`${stack.e.url}/metrics`)).text();
    const value = (metric: string) => {
      const m = text.match(new RegExp(`^${metric}\\{consumer="${consumer}",stage="([a-z_]+)"\\} (\\d+)$`, 'm'));
      return m ? Number(m[2]) : undefined;
    };
    const pending = value('mt_consumer_pending_messages');
    const ackPending = value('mt_consumer_ack_pending');
    const redelivered = value('mt_consumer_redelivered');
    if (pending === undefined || ackPending === undefined || redelivered === undefined) return undefined;
    return { pending, ackPending, redelivered };
  }
  const until = (consumer: string, want: { pending: number; ackPending: number; redelivered: number }, what: string) =>
    waitFor(
      async () => {
        const l = await lag(consumer);
        return l && l.pending === want.pending && l.ackPending === want.ackPending && l.redelivered === want.redelivered ? l : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 250, what: `${consumer} lag ${JSON.stringify(want)} (${what})` },
    );

  it('counts commands waiting, taken, redelivered, and done', async () => {
    const names = busNames(stack.e.namespace);
    const consumer = names.consumer('cmd_test');
    const text = await (await fetch(`${stack.e.url}/metrics`)).text();
    // Every command type's consumer and the projector, each with its stage.
    for (const type of Object.values(SERVICE_COMMANDS).flat())
      expect(text).toContain(`mt_consumer_pending_messages{consumer="${names.consumer(`cmd_${type}`)}",stage="${type}"}`);
    expect(text).toContain(`mt_consumer_pending_messages{consumer="${names.projectorConsumer}",stage="projector"}`);
    await until(consumer, { pending: 0, ackPending: 0, redelivered: 0 }, 'nothing queued yet');

    const queue = async () => ok(await api.POST('/api/v1/jobs/test', { body: { steps: 1, step_ms: 0 } }));
    const jobs = [await queue()];
    await until(consumer, { pending: 1, ackPending: 0, redelivered: 0 }, 'a test job queued, no canvas service');

    // A worker takes it and has not finished it; then it gives it back and it is delivered again. It is
    // the only command queued, so the second fetch can only be its redelivery (a nak is not confirmed:
    // with others queued, the fetch could overtake it and get the next one).
    const c = await jetstream(nc).consumers.get(names.commandStream, consumer);
    const take = async (): Promise<JsMsg> => {
      for await (const m of await c.fetch({ max_messages: 1, expires: 5_000 })) return m;
      throw new Error('no command to take');
    };
    const first = await take();
    await until(consumer, { pending: 0, ackPending: 1, redelivered: 0 }, 'taken');
    first.nak();
    const again = await take();
    expect(again.info.deliveryCount).toBe(2);
    expect(again.info.streamSequence).toBe(first.info.streamSequence);
    await until(consumer, { pending: 0, ackPending: 1, redelivered: 1 }, 'taken a second time');
    jobs.push(await queue(), await queue());
    await until(consumer, { pending: 2, ackPending: 1, redelivered: 1 }, 'two more queued while one is taken');
    again.nak();

    // The canvas service (which runs test jobs) drains them.
    stack.spawn('canvas');
    for (const j of jobs) expect((await api.waitJob(j.id, 60_000)).status).toBe('succeeded');
    await until(consumer, { pending: 0, ackPending: 0, redelivered: 0 }, 'all done');
  }, 120_000);
});

describe('infra/k8s/keda.yaml', () => {
  it('scales canvas, transition and render on the lag of their own consumers', async () => {
    const names = busNames('mt');
    const k8s = path.join(ROOT, 'infra/k8s');
    const docs = [];
    for (const f of (await readdir(k8s)).filter((f) => f.endsWith('.yaml')))
      for (const d of parseAllDocuments(await readFile(path.join(k8s, f), 'utf8'))) {
        expect(d.errors, f).toEqual([]);
        docs.push(d.toJS());
      }
    const deployments = new Set(docs.filter((d) => d?.kind === 'Deployment').map((d) => d.metadata.name));
    const kustomization = docs.find((d) => d?.kind === 'Kustomization');
    expect(kustomization.resources).toContain('keda.yaml');
    const scaled = docs.filter((d) => d?.kind === 'ScaledObject');
    expect(scaled.map((s) => s.spec.scaleTargetRef.name).sort()).toEqual(['canvas', 'render', 'transition']);

    const infraNats = path.join(ROOT, 'infra/nats');
    const stream = JSON.parse(await readFile(path.join(infraNats, `${names.commandStream}.stream.json`), 'utf8'));
    expect(stream.subjects).toEqual([names.commandWildcard]);
    for (const s of scaled) {
      const service = s.spec.scaleTargetRef.name as 'canvas' | 'transition' | 'render';
      expect(deployments.has(service), `a Deployment named ${service}`).toBe(true);
      expect(s.spec.minReplicaCount).toBeLessThanOrEqual(s.spec.maxReplicaCount);
      expect(s.spec.maxReplicaCount).toBeGreaterThan(1);
      const [trigger] = s.spec.triggers;
      expect(trigger.type).toBe('prometheus');
      expect(Number(trigger.metadata.threshold)).toBeGreaterThan(0);
      const query: string = trigger.metadata.query;
      expect(query).toContain('mt_consumer_pending_messages');
      expect(query).toContain('mt_consumer_ack_pending');
      // Every consumer regex in the query names exactly the service's command consumers…
      const want = SERVICE_COMMANDS[service].map((t) => names.consumer(`cmd_${t}`)).sort();
      const selectors = [...query.matchAll(/consumer=~"([^"]+)"/g)].map((m) => m[1]!.split('|').sort());
      expect(selectors.length).toBeGreaterThan(0);
      for (const sel of selectors) expect(sel, service).toEqual(want);
      // …and each is a durable consumer of the command stream in infra/nats, filtered on its type's subject.
      for (const type of SERVICE_COMMANDS[service]) {
        const cfg = JSON.parse(await readFile(path.join(infraNats, `${names.commandStream}.${names.consumer(`cmd_${type}`)}.consumer.json`), 'utf8'));
        expect(cfg).toMatchObject({ durable_name: names.consumer(`cmd_${type}`), filter_subject: names.command(type) });
      }
    }
  });
});
