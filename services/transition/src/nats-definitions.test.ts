// infra/nats/*.json (`nats stream add --config <STREAM>.stream.json`, `nats consumer add <STREAM> --config
// <STREAM>.<CONSUMER>.consumer.json`; KEDA watches MT_COMMANDS / MT_CMD_TRANSITION) must
// say what @mt/platform's ensureTopology creates at start-up. A fake JetStream manager records it.
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { busNames } from '@mt/contracts';
import { type Bus, ensureTopology } from '@mt/platform';
import { describe, expect, it } from 'vitest';

const NATS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../infra/nats');

async function recorded(): Promise<Map<string, unknown>> {
  const files = new Map<string, unknown>();
  const jsm = {
    streams: { add: async (cfg: { name: string }) => void files.set(`${cfg.name}.stream.json`, cfg), update: async () => {} },
    consumers: {
      add: async (stream: string, cfg: { durable_name: string }) => void files.set(`${stream}.${cfg.durable_name}.consumer.json`, cfg),
      update: async () => {},
    },
  };
  await ensureTopology({ jsm, names: busNames('mt') } as unknown as Bus);
  return files;
}

describe('infra/nats', () => {
  it('matches the streams and consumers the services create (namespace mt)', async () => {
    const want = await recorded();
    if (process.env.MT_WRITE_NATS_DEFS === '1') for (const [name, cfg] of want) await writeFile(path.join(NATS_DIR, name), `${JSON.stringify(cfg, null, 2)}\n`);
    const have = (await readdir(NATS_DIR)).filter((f) => f.endsWith('.json')).sort();
    expect(have).toEqual([...want.keys()].sort());
    for (const [name, cfg] of want) expect(JSON.parse(await readFile(path.join(NATS_DIR, name), 'utf8')), name).toEqual(JSON.parse(JSON.stringify(cfg)));
    expect(want.get('MT_COMMANDS.MT_CMD_TRANSITION.consumer.json')).toMatchObject({ durable_name: 'MT_CMD_TRANSITION', filter_subject: 'mt.cmd.transition' });
  });
});
