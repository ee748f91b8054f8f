// Starts processes "on a host": in the host's CPU cgroup (joined before anything runs, so every child
// such as ffmpeg is capped and counted too) and its network namespace (nsenter --net: the mount
// namespace stays the machine's, so the repository and cgroup files are where they are).
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa, type ResultPromise } from 'execa';
import { cgroupOf, killCgroup } from './host-net.js';
import type { Host } from './topology.js';

export interface Running {
  name: string;
  host: Host;
  proc: ResultPromise;
  pid: number;
  log: string;
}

export class Launcher {
  readonly running = new Map<string, Running>();
  /** Every process ever started, by pid (events name their worker as `hostname:pid`). */
  readonly byPid = new Map<number, string>();
  constructor(readonly logDir: string) {
    mkdirSync(logDir, { recursive: true });
  }

  /** Runs `command` on `host` as `name`; `user` drops root (Postgres refuses it). */
  start(host: Host, name: string, command: string[], o: { env?: Record<string, string>; user?: string; cwd?: string } = {}): Running {
    if (this.running.has(name)) throw new Error(`${name} is running already`);
    const log = path.join(this.logDir, `${name.replace(/[^\w.@#-]/g, '_')}.log`);
    const asUser = o.user ? ['setpriv', `--reuid=${o.user}`, `--regid=${o.user}`, '--init-groups', '--'] : [];
    const enter = `echo $$ > ${cgroupOf(host)}/cgroup.procs && exec nsenter --net=/run/netns/${host.ns} -- "$@"`;
    const proc = execa('sh', ['-c', enter, 'sh', ...asUser, ...command], {
      env: o.env,
      cwd: o.cwd,
      stdin: 'ignore',
      stdout: { file: log, append: true },
      stderr: { file: log, append: true },
      reject: false,
      cleanup: true,
      forceKillAfterDelay: false,
    });
    const r: Running = { name, host, proc, pid: proc.pid!, log };
    this.running.set(name, r);
    this.byPid.set(r.pid, name);
    void proc.then(() => {
      if (this.running.get(name) === r) this.running.delete(name);
    });
    return r;
  }

  /** Stops one process: `signal`, then SIGKILL after `graceMs`. */
  async stop(name: string, signal: NodeJS.Signals = 'SIGTERM', graceMs = 10_000): Promise<void> {
    const r = this.running.get(name);
    if (!r) return;
    r.proc.kill(signal);
    const done = await Promise.race([r.proc.then(() => true), sleep(graceMs).then(() => false)]);
    if (!done) r.proc.kill('SIGKILL');
    await r.proc;
    this.running.delete(name);
  }

  /** A host's power cut: everything in its cgroup SIGKILLed at once (children such as ffmpeg too). */
  async killHost(host: Host): Promise<number> {
    const killed = await killCgroup(cgroupOf(host));
    for (const [name, r] of this.running) if (r.host === host) await r.proc.then(() => this.running.delete(name));
    return killed;
  }

  /** How many processes of `service` run that are not in `placed` (replicas started earlier). */
  countOthers(placed: { name: string }[], service: string): number {
    return [...this.running.keys()].filter((n) => n.startsWith(`${service}@`) && !placed.some((p) => p.name === n)).length;
  }

  on(host: Host): Running[] {
    return [...this.running.values()].filter((r) => r.host === host);
  }

  /** Stops everything it started, workers before what they depend on (`order`: names' prefixes, first stopped first). */
  async stopAll(order: string[] = []): Promise<void> {
    const rank = (n: string) => {
      const i = order.findIndex((p) => n.startsWith(p));
      return i < 0 ? order.length : i;
    };
    const groups = new Map<number, string[]>();
    for (const n of this.running.keys()) groups.set(rank(n), [...(groups.get(rank(n)) ?? []), n]);
    for (const k of [...groups.keys()].sort((a, b) => a - b)) await Promise.all(groups.get(k)!.map((n) => this.stop(n, 'SIGTERM', 5_000)));
  }
}
