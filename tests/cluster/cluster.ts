// A running test cluster: namespaces and cgroups (host-net.ts), a three-node JetStream cluster with
// R3 streams, Postgres and the S3 server on the data host, gateways and service replicas placed by the
// scenario. `Cluster.start` clears what a crashed run left; `stop` removes everything however it ends.
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { appendFile, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { type JetStreamManager, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection, nanos } from '@nats-io/transport-node';
import { execa } from 'execa';
import pg from 'pg';
import { buildServices, type StartMode, serviceCommand } from '../../scripts/service-command.js';
import { createApiKeyForEmail } from '../../services/gateway/src/auth/api-keys.js';
import { type TestClient, testClient } from '../lib/api.js';
import { ROOT } from '../lib/stack.js';
import { waitFor } from '../lib/wait.js';
import { capHost, cgroupOf, leftovers, pidsIn, setLink, setup, teardown } from './host-net.js';
import { Launcher } from './launcher.js';
import {
  type ClusterSettings,
  databaseUrl,
  gatewayUrl,
  type Host,
  hostDir,
  NATS_PORT,
  natsConfig,
  natsHosts,
  natsUrls,
  PG_PORT,
  type Placed,
  S3_PORT,
  type Service,
  s3Endpoint,
  serviceEnv,
  type Topology,
  topology,
} from './topology.js';

const RUN_DIR = '/tmp/mt-cluster';
const LOCK = '/tmp/mt-cluster.lock';
export const STREAMS = ['MT_COMMANDS', 'MT_EVENTS', 'MT_CANCELS'] as const;

export interface ClusterOptions {
  workers?: number;
  workerCpus?: number;
  dataCpus?: number;
  ackWaitMs?: number;
  x264Preset?: string;
  /** The cluster's CPU weight against the rest of the machine (cpu.shares; 1024 = one busy process). */
  shares?: number;
  /** Where process logs stay after the run (the run folder itself is removed). */
  logDir?: string;
  say?: (line: string) => void;
}

async function portOpen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port }, () => {
      s.end();
      resolve(true);
    });
    s.on('error', () => resolve(false));
    s.setTimeout(1_000, () => {
      s.destroy();
      resolve(false);
    });
  });
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export class Cluster {
  readonly t: Topology;
  readonly settings: ClusterSettings;
  readonly launcher: Launcher;
  readonly say: (line: string) => void;
  private mode: StartMode = 'compiled';
  private nc?: NatsConnection;
  jsm!: JetStreamManager;
  api!: TestClient;
  db!: pg.Pool;

  private constructor(o: ClusterOptions) {
    this.t = topology({ workers: o.workers, workerCpus: o.workerCpus, dataCpus: o.dataCpus, runDir: RUN_DIR });
    this.settings = { ackWaitMs: o.ackWaitMs ?? 6_000, x264Preset: o.x264Preset ?? 'veryfast', authSecret: randomBytes(24).toString('hex') };
    this.launcher = new Launcher(o.logDir ?? path.join(ROOT, 'test-output', 'cluster'));
    this.say = o.say ?? ((l) => process.stdout.write(`[cluster] ${l}\n`));
  }

  /**
   * Clears what an earlier run left, then makes the hosts and starts NATS (3 nodes), Postgres, the
   * S3 server and a gateway on the data host. Call `stop` in a finally.
   */
  static async start(o: ClusterOptions = {}): Promise<Cluster> {
    if (existsSync(LOCK)) {
      const pid = Number(readFileSync(LOCK, 'utf8'));
      if (pid !== process.pid && pidAlive(pid)) throw new Error(`another cluster run (pid ${pid}) is going on; ${LOCK}`);
    }
    writeFileSync(LOCK, String(process.pid));
    const c = new Cluster(o);
    const { killed } = await teardown();
    if (killed) c.say(`cleared a previous run's leftovers (${killed} processes)`);
    await rm(RUN_DIR, { recursive: true, force: true });
    await mkdir(RUN_DIR, { recursive: true, mode: 0o755 });
    chmodSync(RUN_DIR, 0o755);
    await rm(c.launcher.logDir, { recursive: true, force: true });
    await mkdir(c.launcher.logDir, { recursive: true });
    try {
      buildServices();
    } catch {
      c.mode = 'tsx';
      c.say('the services do not compile: running their TypeScript sources through tsx');
    }
    await setup(c.t, o.shares);
    c.say(`hosts: ${c.t.hosts.map((h) => `${h.name} ${h.ip} (${h.cpus} CPU${h.nats ? `, ${h.nats}` : ''})`).join(', ')}; cluster capped at ${c.t.cpus} CPU`);
    for (const h of c.t.hosts) await mkdir(path.join(hostDir(c.t, h), 'tmp'), { recursive: true });
    await c.startPostgres();
    c.startS3();
    for (const h of natsHosts(c.t)) await c.startNats(h);
    c.nc = await connect({ servers: natsUrls(c.t), maxReconnectAttempts: -1, reconnectTimeWait: 300, waitOnFirstConnect: true });
    // JetStream answers once the three nodes have elected a meta leader.
    c.jsm = await waitFor(() => jetstreamManager(c.nc!, { timeout: 5_000 }), { timeoutMs: 60_000, intervalMs: 500, what: 'the JetStream cluster' });
    await waitFor(() => portOpen(c.t.data.ip, S3_PORT), { timeoutMs: 30_000, what: 'the S3 server' });
    c.startService({ name: 'gateway@data', service: 'gateway', host: c.t.data });
    await c.waitGateway(c.t.data);
    c.db = new pg.Pool({ connectionString: databaseUrl(c.t), max: 2 });
    const { key } = await createApiKeyForEmail(databaseUrl(c.t), 'cluster@memorialtube.localhost', 'cluster');
    c.api = testClient(gatewayUrl(c.t.data), { key });
    await c.waitStreams();
    return c;
  }

  private async startPostgres(): Promise<void> {
    const dir = path.join(hostDir(this.t, this.t.data), 'pg');
    await mkdir(dir, { recursive: true });
    const uid = Number((await execa('id', ['-u', 'postgres'])).stdout);
    const gid = Number((await execa('id', ['-g', 'postgres'])).stdout);
    chmodSync(path.dirname(dir), 0o755);
    chownSync(dir, uid, gid);
    chmodSync(dir, 0o700);
    const bin = path.join('/usr/lib/postgresql', (await readdir('/usr/lib/postgresql')).sort((a, b) => Number(b) - Number(a))[0]!, 'bin');
    await execa(
      'setpriv',
      [
        '--reuid=postgres',
        '--regid=postgres',
        '--init-groups',
        '--',
        path.join(bin, 'initdb'),
        '-D',
        path.join(dir, 'data'),
        '-U',
        'postgres',
        '--auth=trust',
        '-E',
        'UTF8',
      ],
      { cwd: dir },
    );
    await appendFile(path.join(dir, 'data', 'pg_hba.conf'), `host all all ${this.t.data.ip.replace(/\.\d+$/, '.0')}/24 trust\n`);
    // biome-ignore format: postgres arguments grouped by option
    this.launcher.start(this.t.data, 'postgres@data', [
      path.join(bin, 'postgres'), '-D', path.join(dir, 'data'), '-p', String(PG_PORT), '-k', dir,
      '-c', `listen_addresses=${this.t.data.ip}`, '-c', 'fsync=off', '-c', 'max_connections=200',
      // A client machine that vanished is noticed in ~25 s instead of two hours.
      '-c', 'tcp_keepalives_idle=10', '-c', 'tcp_keepalives_interval=5', '-c', 'tcp_keepalives_count=3',
    ], { user: 'postgres', cwd: dir });
    await waitFor(() => portOpen(this.t.data.ip, PG_PORT), { timeoutMs: 30_000, what: 'Postgres on the data host' });
  }

  private startS3(): void {
    const h = this.t.data;
    this.launcher.start(h, 's3@data', [process.execPath, '--import', 'tsx', 'infra/s3-server.ts'], {
      cwd: ROOT,
      env: { ...process.env, S3_ENDPOINT: s3Endpoint(this.t), S3_BUCKET: 'memorialtube', MT_DATA_DIR: path.join(hostDir(this.t, h), 'data') },
    });
  }

  /** Starts (or restarts, with the same store) the NATS node of `h`. */
  async startNats(h: Host): Promise<void> {
    const conf = path.join(hostDir(this.t, h), 'nats.conf');
    await writeFile(conf, natsConfig(this.t, h));
    this.launcher.start(h, `${h.nats}`, ['/usr/sbin/nats-server', '-c', conf]);
    await waitFor(() => portOpen(h.ip, NATS_PORT), { timeoutMs: 20_000, what: `${h.nats}` });
  }

  startService(p: Placed): void {
    const env = { ...process.env, ...serviceEnv(this.t, p.host, p.service, this.settings), MT_NAMESPACE: 'mt' };
    const [cmd, ...args] = serviceCommand(p.service, this.mode);
    this.launcher.start(p.host, p.name, [cmd!, ...args], { env, cwd: ROOT });
  }

  async stopService(name: string): Promise<void> {
    await this.launcher.stop(name);
  }

  async waitGateway(h: Host, timeoutMs = 90_000): Promise<void> {
    await waitFor(
      async () => {
        const r = await fetch(`${gatewayUrl(h)}/readyz`, { signal: AbortSignal.timeout(2_000) });
        return r.ok;
      },
      { timeoutMs, intervalMs: 300, what: `the gateway on ${h.name} (logs: ${this.launcher.logDir})` },
    );
  }

  /** The streams are there, R3, with a leader. */
  async waitStreams(timeoutMs = 60_000): Promise<void> {
    await waitFor(
      async () => {
        for (const s of STREAMS) {
          const si = await this.jsm.streams.info(s);
          if (si.config.num_replicas !== 3 || !si.cluster?.leader) return false;
        }
        return true;
      },
      { timeoutMs, intervalMs: 500, what: 'the R3 streams with a leader' },
    );
  }

  /** The host whose NATS node leads `stream` now. */
  async leaderOf(stream: string): Promise<Host> {
    const si = await this.jsm.streams.info(stream);
    const h = this.t.hosts.find((x) => x.nats === si.cluster?.leader);
    if (!h) throw new Error(`no leader for ${stream} (${si.cluster?.leader})`);
    return h;
  }

  /**
   * Whether `h`'s NATS node is back: its /healthz answers ok, and the leaders list it as a current
   * replica of every stream and of the durable consumers (their view alone can lag behind a loss).
   */
  async natsCurrent(h: Host): Promise<boolean> {
    const member = (c: { leader?: string; replicas?: { name: string; current: boolean; offline?: boolean }[] } | undefined) =>
      c?.leader === h.nats || !!c?.replicas?.some((r) => r.name === h.nats && r.current && !r.offline);
    // The node's own health: JetStream on, the meta leader known, every stream and consumer current.
    const health = await fetch(`http://${h.ip}:8222/healthz`, { signal: AbortSignal.timeout(2_000) }).catch(() => null);
    if (!health?.ok) return false;
    for (const s of STREAMS) if (!member((await this.jsm.streams.info(s)).cluster)) return false;
    for (const [s, d] of [
      ['MT_COMMANDS', 'MT_CMD_TRANSITION'],
      ['MT_EVENTS', 'MT_PROJECTOR'],
    ] as const)
      if (!member((await this.jsm.consumers.info(s, d)).cluster)) return false;
    return true;
  }

  /**
   * The live streams and consumers against infra/nats/*.json: same settings, except `num_replicas`
   * (3 here: MT_STREAM_REPLICAS) and the command consumers' `ack_wait` (MT_ACK_WAIT_MS). Returns the differences.
   */
  async checkDefinitions(): Promise<string[]> {
    const dir = path.join(ROOT, 'infra', 'nats');
    const problems: string[] = [];
    for (const f of (await readdir(dir)).filter((x) => x.endsWith('.json'))) {
      const want = JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as Record<string, unknown>;
      const [stream, durable] = f.split('.');
      const live = (f.endsWith('.stream.json')
        ? (await this.jsm.streams.info(stream!)).config
        : (await this.jsm.consumers.info(stream!, durable!)).config) as unknown as Record<string, unknown>;
      for (const [k, v] of Object.entries(want)) {
        if (k === 'num_replicas') {
          if (live[k] !== 3) problems.push(`${f}: num_replicas ${String(live[k])}, not 3`);
          continue;
        }
        const expected = k === 'ack_wait' && stream === 'MT_COMMANDS' ? nanos(this.settings.ackWaitMs) : v;
        if (JSON.stringify(live[k]) !== JSON.stringify(expected))
          problems.push(`${f}: ${k} is ${JSON.stringify(live[k])}, infra says ${JSON.stringify(expected)}`);
      }
    }
    return problems;
  }

  /**
   * Runs `fn` (starting processes) with every host's cap lifted to the cluster's total, then caps them
   * again: starting Node processes costs CPU that a 0.5-CPU host would take long to give, and is not
   * what is measured.
   */
  async uncapped<T>(fn: () => Promise<T>): Promise<T> {
    for (const h of this.t.hosts) await capHost(h, this.t.cpus);
    try {
      return await fn();
    } finally {
      for (const h of this.t.hosts) await capHost(h, h.cpus);
    }
  }

  /** Starts service replicas and waits until each worker service pulls from its consumer. */
  async startServices(placed: Placed[]): Promise<void> {
    await this.uncapped(async () => {
      for (const p of placed) this.startService(p);
      for (const p of placed.filter((x) => x.service === 'gateway')) await this.waitGateway(p.host);
      const want = (s: Service) => placed.filter((p) => p.service === s).length + this.launcher.countOthers(placed, s);
      for (const s of ['canvas', 'transition', 'render'] as const) {
        if (!placed.some((p) => p.service === s)) continue;
        await waitFor(async () => (await this.jsm.consumers.info('MT_COMMANDS', `MT_CMD_${s.toUpperCase()}`)).num_waiting >= want(s), {
          timeoutMs: 120_000,
          intervalMs: 300,
          what: `${want(s)} ${s} replicas pulling (logs: ${this.launcher.logDir})`,
        });
      }
    });
  }

  /** ffmpeg processes running anywhere in the cluster (none once every job has ended). */
  ffmpegs(): number[] {
    return this.t.hosts
      .flatMap((h) => pidsIn(cgroupOf(h)))
      .filter((pid) => {
        try {
          return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'ffmpeg';
        } catch {
          return false;
        }
      });
  }

  /** Cuts a host off the switch or connects it again. */
  async link(h: Host, up: boolean): Promise<void> {
    await setLink(h, up);
  }

  /** What a host runs (its service processes, by name) — to start the same again after a loss. */
  placedOn(h: Host): Placed[] {
    return this.launcher
      .on(h)
      .map((r) => ({ name: r.name, service: r.name.split('@')[0] as Service, host: h }))
      .filter((p) => ['gateway', 'canvas', 'transition', 'render'].includes(p.service));
  }

  /** Stops everything and removes the namespaces, cgroups and the run folder; returns what is left (all zero). */
  async stop(): Promise<{ namespaces: number; cgroups: boolean; link: boolean; pids: number }> {
    await this.db?.end().catch(() => {});
    await this.nc?.close().catch(() => {});
    await this.launcher.stopAll(['gateway', 'canvas', 'transition', 'render', 's3', 'nats', 'postgres']).catch(() => {});
    await teardown();
    await rm(RUN_DIR, { recursive: true, force: true }).catch(() => {});
    if (existsSync(LOCK) && readFileSync(LOCK, 'utf8') === String(process.pid)) await rm(LOCK, { force: true });
    return leftovers();
  }
}
