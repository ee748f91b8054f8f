// `./mt watch [--project ID] [--name NAME] [--from-start]`: follows the event stream as it happens, one
// line per event (time, job type, job id, stage, percent, detail). Its own durable consumer (NAME,
// default watch-<hostname>) remembers where it stopped: run it again with the same name and it goes on
// from there. Talks to NATS (NATS_URL, MT_NAMESPACE) like the services; Ctrl-C stops it.
import os from 'node:os';
import { parseArgs } from 'node:util';
// The subscriber and settings alone (not all of @mt/platform, whose S3 and telemetry SDKs take seconds to load).
import { config } from '../packages/platform/src/config.js';
import { formatEvent, watchEvents } from '../packages/platform/src/subscriber.js';

const USAGE = 'usage: ./mt watch [--project ID] [--name NAME] [--from-start]';
const { values } = parseArgs({
  options: {
    project: { type: 'string' },
    name: { type: 'string' },
    'from-start': { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const name = values.name ?? `watch-${os.hostname().replace(/[^A-Za-z0-9_-]/g, '_')}`;
console.error(`watch: consumer ${name} on ${config.natsUrl} (namespace ${config.namespace})${values.project ? `, project ${values.project}` : ''}`);
try {
  const w = await watchEvents({
    name,
    natsUrl: config.natsUrl,
    namespace: config.namespace,
    projectId: values.project,
    from: values['from-start'] ? 'all' : 'new',
    onEvent: (e) => void console.log(formatEvent(e)),
    onNotice: (t) => console.error(`watch: ${t}`),
  });
  const stop = async () => {
    await w.stop();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
} catch (e) {
  console.error(`watch: ${(e as Error).message}`);
  process.exit(1);
}
