// The cluster's machines: one network namespace per host, joined through veth pairs to a bridge in a
// switch namespace, plus one link from the root namespace (this script) to the switch; one CPU cgroup
// per host under a parent that caps the whole cluster. Everything made here is named PREFIX-…, and
// `teardown` removes all of it (also what a crashed earlier run left behind).
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readdir, rmdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { BRIDGE, CONTROLLER_IP, CONTROLLER_LINK, type Host, PREFIX, SWITCH_NS, type Topology } from './topology.js';

const CG_V1 = '/sys/fs/cgroup/cpu';
const CG_V2 = '/sys/fs/cgroup';
const PERIOD_US = 100_000;

/** cgroup v1 (a `cpu` hierarchy, as on these machines) or v2 (unified, `cpu.max`). */
export const cgroupVersion = (): 1 | 2 | null =>
  existsSync(path.join(CG_V1, 'cpu.cfs_quota_us')) ? 1 : existsSync(path.join(CG_V2, 'cgroup.controllers')) ? 2 : null;

const cgRoot = () => path.join(cgroupVersion() === 1 ? CG_V1 : CG_V2, PREFIX);
export const cgroupOf = (h: Host | null) => (h ? path.join(cgRoot(), h.name) : cgRoot());

/** Why this machine cannot run the cluster, or null when it can (root, `ip netns`, a CPU cgroup). */
export async function unsupported(): Promise<string | null> {
  if (process.platform !== 'linux') return 'needs Linux (network namespaces, cgroups)';
  if (process.getuid?.() !== 0) return 'needs root (network namespaces, veth pairs, cgroups)';
  const ip = await execa('ip', ['netns', 'list'], { reject: false });
  if (ip.failed) return `\`ip netns\` is not available (${ip.stderr || ip.message})`;
  if (!cgroupVersion()) return 'no CPU cgroup (neither /sys/fs/cgroup/cpu nor cgroup v2)';
  for (const bin of ['nsenter', 'setpriv', '/usr/sbin/nats-server']) {
    const r = await execa('sh', ['-c', `command -v ${bin}`], { reject: false });
    if (r.failed) return `${bin} is not installed`;
  }
  return null;
}

const ip = (...args: string[]) => execa('ip', args);
const quiet = (...args: string[]) => execa('ip', args, { reject: false });

async function setCpu(dir: string, cpus: number): Promise<void> {
  await mkdir(dir, { recursive: true });
  const quota = Math.round(cpus * PERIOD_US);
  if (cgroupVersion() === 1) {
    await writeFile(path.join(dir, 'cpu.cfs_period_us'), String(PERIOD_US));
    await writeFile(path.join(dir, 'cpu.cfs_quota_us'), String(quota));
  } else {
    await writeFile(path.join(dir, 'cpu.max'), `${quota} ${PERIOD_US}`);
  }
}

/**
 * Makes the namespaces, links, addresses and cgroups of `t`. `shares` is the cluster's CPU weight
 * against everything else on the machine (1024 = one busy process): the quota caps it, the weight
 * lets it reach the cap on a machine busy with other work, so the hosts get what they are said to have.
 */
export async function setup(t: Topology, shares = 1024): Promise<void> {
  await ip('netns', 'add', SWITCH_NS);
  await ip('-n', SWITCH_NS, 'link', 'add', BRIDGE, 'type', 'bridge');
  await ip('-n', SWITCH_NS, 'link', 'set', BRIDGE, 'up');
  await ip('link', 'add', CONTROLLER_LINK, 'type', 'veth', 'peer', 'name', 's-ctl', 'netns', SWITCH_NS);
  await ip('-n', SWITCH_NS, 'link', 'set', 's-ctl', 'master', BRIDGE, 'up');
  await ip('addr', 'add', `${CONTROLLER_IP}/24`, 'dev', CONTROLLER_LINK);
  await ip('link', 'set', CONTROLLER_LINK, 'up');
  for (const h of t.hosts) {
    await ip('netns', 'add', h.ns);
    await ip('-n', h.ns, 'link', 'set', 'lo', 'up');
    await ip('link', 'add', 'eth0', 'netns', h.ns, 'type', 'veth', 'peer', 'name', h.switchLink, 'netns', SWITCH_NS);
    await ip('-n', SWITCH_NS, 'link', 'set', h.switchLink, 'master', BRIDGE, 'up');
    await ip('-n', h.ns, 'addr', 'add', `${h.ip}/24`, 'dev', 'eth0');
    await ip('-n', h.ns, 'link', 'set', 'eth0', 'up');
  }
  if (cgroupVersion() === 2) await writeFile(path.join(CG_V2, 'cgroup.subtree_control'), '+cpu').catch(() => {});
  await setCpu(cgroupOf(null), t.cpus);
  if (cgroupVersion() === 1) await writeFile(path.join(cgroupOf(null), 'cpu.shares'), String(shares));
  else await writeFile(path.join(cgroupOf(null), 'cpu.weight'), String(Math.max(1, Math.min(10_000, Math.round((shares / 1024) * 100)))));
  if (cgroupVersion() === 2) await writeFile(path.join(cgroupOf(null), 'cgroup.subtree_control'), '+cpu');
  for (const h of t.hosts) await setCpu(cgroupOf(h), h.cpus);
}

/** Changes a host's CPU cap (e.g. lifted while its processes start, then put back). */
export async function capHost(h: Host, cpus: number): Promise<void> {
  await setCpu(cgroupOf(h), cpus);
}

/** A host's CFS counters: periods it wanted CPU in, and of those, how many it hit its cap. */
export function cpuStat(h: Host): { periods: number; throttled: number } {
  try {
    const text = readFileSync(path.join(cgroupOf(h), 'cpu.stat'), 'utf8');
    const num = (k: string) => Number(new RegExp(`^${k} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
    return { periods: num('nr_periods'), throttled: num('nr_throttled') };
  } catch {
    return { periods: 0, throttled: 0 };
  }
}

/** Cuts a host off the switch (`up` false) or connects it again: its processes keep running. */
export async function setLink(h: Host, up: boolean): Promise<void> {
  await ip('-n', SWITCH_NS, 'link', 'set', h.switchLink, up ? 'up' : 'down');
}

/** Pids in a host's cgroup (every process started there and all their children). */
export function pidsIn(cgroupDir: string): number[] {
  try {
    return readFileSync(path.join(cgroupDir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** SIGKILLs everything in a cgroup until it is empty (a host's power cut). Returns how many were killed. */
export async function killCgroup(cgroupDir: string, timeoutMs = 10_000): Promise<number> {
  const seen = new Set<number>();
  const end = Date.now() + timeoutMs;
  for (;;) {
    const pids = pidsIn(cgroupDir);
    if (pids.length === 0) return seen.size;
    if (Date.now() > end) throw new Error(`processes ${pids.join(', ')} in ${cgroupDir} would not die`);
    for (const pid of pids) {
      seen.add(pid);
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone already */
      }
    }
    await sleep(50);
  }
}

/** Pids still attached to any of the cluster's network namespaces. */
export async function pidsInNamespaces(): Promise<number[]> {
  const out: number[] = [];
  for (const ns of await ourNamespaces()) {
    const r = await quiet('netns', 'pids', ns);
    out.push(...r.stdout.split('\n').filter(Boolean).map(Number));
  }
  return out;
}

async function ourNamespaces(): Promise<string[]> {
  const r = await quiet('netns', 'list');
  return r.stdout
    .split('\n')
    .map((l) => l.split(' ')[0]!)
    .filter((n) => n.startsWith(`${PREFIX}-`));
}

/**
 * Removes everything of the cluster's kind, whoever made it: processes in its cgroups and namespaces
 * (SIGKILL), the namespaces (their links go with them), the controller link, the cgroups.
 * Safe to run when nothing is there.
 */
export async function teardown(): Promise<{ killed: number }> {
  let killed = 0;
  const root = cgRoot();
  const groups = existsSync(root) ? (await readdir(root, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => path.join(root, d.name)) : [];
  for (const g of [...groups, root]) if (existsSync(g)) killed += await killCgroup(g).catch(() => 0);
  for (const pid of await pidsInNamespaces()) {
    try {
      process.kill(pid, 'SIGKILL');
      killed++;
    } catch {
      /* gone */
    }
  }
  for (const ns of await ourNamespaces()) await quiet('netns', 'del', ns);
  await quiet('link', 'del', CONTROLLER_LINK);
  for (const g of [...groups, root])
    for (let i = 0; i < 50 && existsSync(g); i++) {
      // rmdir fails while the kernel still counts a dying process in the group
      if (
        await rmdir(g).then(
          () => true,
          () => false,
        )
      )
        break;
      await sleep(100);
    }
  return { killed };
}

/** What is still there after a teardown (for the report: all zero). */
export async function leftovers(): Promise<{ namespaces: number; cgroups: boolean; link: boolean; pids: number }> {
  const link = !(await quiet('link', 'show', CONTROLLER_LINK)).failed;
  return { namespaces: (await ourNamespaces()).length, cgroups: existsSync(cgRoot()), link, pids: (await pidsInNamespaces()).length };
}
