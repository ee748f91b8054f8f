// A NATS server and a Postgres cluster of a test's own (the chaos suite, the outage tests), on free
// ports, so it can stop and restart them mid-run without touching the machine's shared ones.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './stack.js';

async function waitPort(port: number, up: boolean, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const open = await new Promise<boolean>((r) => {
      const s = net.connect({ host: '127.0.0.1', port }, () => {
        s.end();
        r(true);
      });
      s.on('error', () => r(false));
    });
    if (open === up) return;
    await sleep(100);
  }
  throw new Error(`port ${port} did not become ${up ? 'open' : 'closed'}`);
}

export class OwnNats {
  private proc?: ChildProcess;
  port = 0;
  constructor(private readonly dir: string) {}
  get url() {
    return `nats://127.0.0.1:${this.port}`;
  }
  async start(): Promise<void> {
    if (!this.port) this.port = await freePort();
    const bin = existsSync('/usr/sbin/nats-server') ? '/usr/sbin/nats-server' : 'nats-server';
    this.proc = spawn(bin, ['-a', '127.0.0.1', '-p', String(this.port), '-js', '-sd', this.dir], { stdio: 'ignore' });
    await waitPort(this.port, true);
  }
  async stop(): Promise<void> {
    if (!this.proc || this.proc.exitCode !== null) return;
    const exited = new Promise((r) => this.proc!.once('exit', r));
    this.proc.kill('SIGTERM');
    await exited;
    await waitPort(this.port, false);
  }
  /** Killed at once (SIGKILL), as a crash: nothing flushed, no goodbye to clients. */
  async kill(): Promise<void> {
    if (!this.proc || this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    const exited = new Promise((r) => this.proc!.once('exit', r));
    this.proc.kill('SIGKILL');
    await exited;
    await waitPort(this.port, false);
  }
  async restart(downMs = 1_000): Promise<void> {
    await this.stop();
    await sleep(downMs);
    await this.start();
  }
}

/** A throwaway Postgres cluster (initdb), run as the `postgres` user since Postgres refuses root. */
export class OwnPostgres {
  port = 0;
  private bin: string;
  constructor(private readonly dir: string) {
    const versions = readdirSync('/usr/lib/postgresql').sort((a, b) => Number(b) - Number(a));
    this.bin = path.join('/usr/lib/postgresql', versions[0]!, 'bin');
  }
  get url() {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }
  private run(args: string[]): void {
    const asRoot = process.getuid?.() === 0;
    const [cmd, ...rest] = asRoot ? ['runuser', '-u', 'postgres', '--', ...args] : args;
    execFileSync(cmd!, rest, { stdio: 'ignore' });
  }
  async init(): Promise<void> {
    this.port = await freePort();
    mkdirSync(this.dir, { recursive: true });
    chmodSync(this.dir, 0o700);
    if (process.getuid?.() === 0) {
      const uid = Number(execFileSync('id', ['-u', 'postgres']).toString());
      const gid = Number(execFileSync('id', ['-g', 'postgres']).toString());
      chownSync(this.dir, uid, gid);
      chownSync(path.dirname(this.dir), uid, gid);
    }
    this.run([path.join(this.bin, 'initdb'), '-D', path.join(this.dir, 'data'), '-U', 'postgres', '--auth=trust', '-E', 'UTF8']);
    await this.start();
  }
  async start(): Promise<void> {
    // biome-ignore format: pg_ctl arguments grouped by option
    this.run([
      path.join(this.bin, 'pg_ctl'),
      '-D', path.join(this.dir, 'data'),
      '-l', path.join(this.dir, 'log'),
      '-w',
      '-o', `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=off`,
      'start',
    ]);
    await waitPort(this.port, true);
  }
  async stop(mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
    this.run([path.join(this.bin, 'pg_ctl'), '-D', path.join(this.dir, 'data'), '-m', mode, '-w', 'stop']);
  }
  async restart(downMs = 1_000): Promise<void> {
    await this.stop('immediate');
    await sleep(downMs);
    await this.start();
  }
  async destroy(): Promise<void> {
    await this.stop('immediate').catch(() => {});
    await rm(this.dir, { recursive: true, force: true });
  }
}
