// `./mt test:cluster`: a cluster of test hosts on this machine (network namespaces on a bridge, CPU
// capped by cgroups, NATS as a three-node JetStream cluster with R3 streams, Postgres and S3 on a data
// host, replicas spread over the hosts). Prints the scale-out table and the failure table; exits 1
// when a failure lost, stuck, duplicated or left something. Needs root.
//   ./mt test:cluster [--short] [--only scale,loss,partition] [--photos 6] [--pipelines 4]
//   MT_CLUSTER_CPUS (0.3 per worker host), MT_CLUSTER_DATA_CPUS (0.3): 1.2 CPU in all, so the rest of a
//   2-core machine stays free; MT_CLUSTER_ACK_WAIT_MS (6000); MT_CLUSTER_SHARES (65536: the cluster's CPU
//   weight against the machine's other work, 1024 = one busy process: high, so that on a busy machine
//   the hosts still get their caps and the scale-out figures measure the caps, not the neighbours)
import os from 'node:os';
import { parseArgs } from 'node:util';
import { Cluster } from './cluster.js';
import { unsupported } from './host-net.js';
import { failureProblems, failureTable, scaleTable } from './report.js';
import { type FailureRow, failurePlacement, hostLoss, partition, type ScaleRow, scaleOut } from './scenarios.js';

const { values } = parseArgs({
  options: {
    short: { type: 'boolean' },
    only: { type: 'string' },
    photos: { type: 'string' },
    pipelines: { type: 'string' },
  },
});
const short = values.short ?? false;
const only = new Set((values.only ?? (short ? 'loss' : 'scale,loss,partition')).split(','));
const say = (l: string) => process.stdout.write(`[cluster] ${l}\n`);

const why = await unsupported();
if (why) {
  console.error(`./mt test:cluster ${why}.`);
  process.exit(2);
}

let cluster: Cluster | undefined;
let stopping = false;
const stop = async () => {
  const left = await cluster?.stop();
  if (left)
    say(
      `torn down: ${left.namespaces} namespaces, ${left.pids} processes, cgroups ${left.cgroups ? 'LEFT' : 'gone'}, controller link ${left.link ? 'LEFT' : 'gone'}`,
    );
  return left;
};
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const)
  process.on(sig, () => {
    if (stopping) process.exit(130);
    stopping = true;
    say(`${sig}: tearing the cluster down`);
    void stop().finally(() => process.exit(130));
  });

const problems: string[] = [];
const scale: ScaleRow[] = [];
const failures: FailureRow[] = [];
const started = Date.now();
try {
  cluster = await Cluster.start({
    workerCpus: Number(process.env.MT_CLUSTER_CPUS ?? 0.3),
    dataCpus: Number(process.env.MT_CLUSTER_DATA_CPUS ?? 0.3),
    ackWaitMs: Number(process.env.MT_CLUSTER_ACK_WAIT_MS ?? 6_000),
    shares: Number(process.env.MT_CLUSTER_SHARES ?? 65_536),
    say,
  });
  const defs = await cluster.checkDefinitions();
  say(defs.length ? `streams and consumers differ from infra/nats: ${defs.join('; ')}` : 'streams and consumers are the ones in infra/nats, R3');
  problems.push(...defs);
  if (only.has('scale')) scale.push(...(await scaleOut(cluster, [1, 2, 3], Number(values.photos ?? 6))));
  if (only.has('loss') || only.has('partition')) await cluster.startServices(failurePlacement(cluster));
  const o = { pipelines: Number(values.pipelines ?? (short ? 1 : 4)), photos: short ? 3 : 4 };
  if (only.has('loss')) failures.push(await hostLoss(cluster, o));
  if (only.has('partition')) failures.push(await partition(cluster, o));
} catch (e) {
  problems.push(`the run stopped: ${(e as Error).stack ?? e}`);
} finally {
  if (!stopping) {
    stopping = true;
    const left = await stop();
    if (left && (left.namespaces || left.pids || left.cgroups || left.link)) problems.push('the teardown left something behind');
  }
}

const machine = `${os.cpus().length} × ${os.cpus()[0]?.model.trim()}, ${Math.round(os.totalmem() / 2 ** 30)} GB; load ${os.loadavg()[0]!.toFixed(1)}`;
process.stdout.write(`\nMachine: ${machine}. Run took ${((Date.now() - started) / 1000).toFixed(0)} s.\n`);
if (scale.length)
  process.stdout.write(`\nScale-out (transition stage, one pipeline, hosts capped at ${process.env.MT_CLUSTER_CPUS ?? 0.3} CPU):\n\n${scaleTable(scale)}\n`);
if (failures.length) {
  process.stdout.write(`\nFailures:\n\n${failureTable(failures)}\n`);
  for (const f of failures) for (const n of f.notes) process.stdout.write(`- ${f.scenario}: ${n}\n`);
  for (const f of failures) problems.push(...failureProblems(f));
}
for (const r of scale)
  if (r.replicas > 1 && scale[0] && scale[0].transitionS / r.transitionS < 0.8 * r.replicas)
    say(`note: ${r.replicas} replicas reached less than 0.8×${r.replicas}`);
if (problems.length) {
  process.stdout.write(`\nFAILED:\n${problems.map((p) => `- ${p}`).join('\n')}\n`);
  process.exit(1);
}
process.stdout.write('\nok\n');
process.exit(0);
