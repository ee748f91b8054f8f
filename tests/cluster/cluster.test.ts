// The short cluster run inside `./mt test`: three capped hosts and a data host, one pipeline of three
// photos, and the host whose NATS node leads the command stream lost mid-pipeline (link cut, processes
// killed), then back. The full run with the scale-out table is `./mt test:cluster`. Needs root and
// `ip netns`; skipped otherwise, saying why.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster } from './cluster.js';
import { unsupported } from './host-net.js';
import { failureProblems, failureTable } from './report.js';
import { failurePlacement, hostLoss } from './scenarios.js';

const why = await unsupported();
if (why) console.log(`[cluster] skipped: the cluster test ${why} (run ./mt test as root for it)`);

describe.skipIf(why !== null)('a cluster of test hosts', () => {
  let cluster: Cluster | undefined;
  const say = (l: string) => process.stdout.write(`[cluster] ${l}\n`);

  beforeAll(async () => {
    // 1.2 CPU in all, with an ordinary weight: nothing is timed here, and other test files run alongside.
    cluster = await Cluster.start({ say, workerCpus: 0.3, dataCpus: 0.3 });
    await cluster.startServices(failurePlacement(cluster));
  }, 300_000);

  afterAll(async () => {
    await cluster?.stop();
  }, 120_000);

  it('uses the stream and consumer definitions of infra/nats, replicated on three nodes', async () => {
    expect(await cluster!.checkDefinitions()).toEqual([]);
  });

  it('finishes a pipeline when the host leading the command stream is lost, and the host rejoins', async () => {
    const row = await hostLoss(cluster!, { pipelines: 1, photos: 3, timeoutMs: 240_000 });
    say(`\n${failureTable([row])}`);
    expect(failureProblems(row)).toEqual([]);
    expect(row).toMatchObject({ pipelines: 1, succeeded: 1, lost: 0, stuck: 0, duplicates: 0, leftover: 0 });
  }, 420_000);

  it('leaves no namespace, cgroup, link or process behind', async () => {
    const left = await cluster!.stop();
    cluster = undefined;
    expect(left).toEqual({ namespaces: 0, cgroups: false, link: false, pids: 0 });
  }, 120_000);
});
