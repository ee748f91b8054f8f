// The real stack for end-to-end tests: Postgres, NATS and an S3 server (s3rver), plus every service
// as its own process. Each test run gets its own database, NATS namespace, bucket, ports and temp
// folder, so runs on one machine never see each other. Postgres and NATS come from the environment
// (DATABASE_URL, NATS_URL) or localhost; where neither answers and a Docker engine is there,
// testcontainers starts them.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { createMemorialClient } from '@mt/client';
import pg from 'pg';
import S3rver from 's3rver';
import { withAtomicPuts } from '../../infra/s3rver-atomic.js';
import { createApiKeyForEmail } from '../../services/gateway/src/auth/api-keys.js';
import { type TestClient, testClient } from './api.js';
import { waitFor } from './wait.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const CORPUS = process.env.MT_CORPUS ?? path.resolve(ROOT, '../shared/corpus');
export const OUTPUT = path.join(ROOT, 'test-output');

export const SERVICES = {
  gateway: 'services/gateway/src/main.ts',
  canvas: 'services/canvas/src/main.ts',
  transition: 'services/transition/src/main.ts',
  render: 'services/render/src/main.ts',
} as const;
export type ServiceName = keyof typeof SERVICES;

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

/** Pids of processes whose command line matches `pattern` (pgrep -f): e.g. ffmpeg left in a job's folder. */
export function pidsMatching(pattern: string): string[] {
  try {
    return execFileSync('pgrep', ['-f', pattern]).toString().trim().split('\n').filter(Boolean);
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}

/** How many times a job started (its `started` events): more than once means it was run again. */
export async function startedCount(db: pg.Client, jobId: string): Promise<number> {
  return Number((await db.query(`select count(*) from job_events where job_id = $1 and kind = 'started'`, [jobId])).rows[0].count);
}

async function reachable(url: string): Promise<boolean> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const sock = net.connect({ host: u.hostname, port: Number(u.port) }, () => {
      sock.end();
      resolve(true);
    });
    sock.on('error', () => resolve(false));
    sock.setTimeout(1_000, () => {
      sock.destroy();
      resolve(false);
    });
  });
}

export interface StackEnv {
  url: string;
  env: Record<string, string>;
  databaseUrl: string;
  natsUrl: string;
  namespace: string;
  tmpDir: string;
  bucket: string;
  s3Endpoint: string;
  /** The stack's own test account and its API key, made once right after the gateway is up. */
  account: TestAccount;
}

/** An account of this stack with an API key, and a client that sends it. */
export interface TestAccount {
  id: string;
  email: string;
  key: string;
  api: TestClient;
}

/** The address of the account each stack makes for its tests (lists show only this account's things). */
export const TEST_EMAIL = 'tests@memorialtube.localhost';

/** Where Postgres and NATS are: env, localhost, or containers when only Docker is there. */
async function dependencies(given: { pgUrl?: string; natsUrl?: string } = {}): Promise<{ pgUrl: string; natsUrl: string; stop: () => Promise<void> }> {
  let pgUrl = given.pgUrl ?? process.env.MT_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  let natsUrl = given.natsUrl ?? process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
  const stops: Array<() => Promise<unknown>> = [];
  const pgUp = await reachable(pgUrl);
  const natsUp = await reachable(natsUrl);
  if (!pgUp || !natsUp) {
    const { GenericContainer, Wait } = await import('testcontainers');
    try {
      if (!pgUp) {
        const c = await new GenericContainer('postgres:15')
          .withEnvironment({ POSTGRES_HOST_AUTH_METHOD: 'trust' })
          .withExposedPorts(5432)
          .withWaitStrategy(Wait.forLogMessage(/ready to accept connections/, 2))
          .start();
        pgUrl = `postgres://postgres@${c.getHost()}:${c.getMappedPort(5432)}/postgres`;
        stops.push(() => c.stop());
      }
      if (!natsUp) {
        const c = await new GenericContainer('nats:2.10').withCommand(['-js']).withExposedPorts(4222).start();
        natsUrl = `nats://${c.getHost()}:${c.getMappedPort(4222)}`;
        stops.push(() => c.stop());
      }
    } catch (e) {
      throw new Error(
        `Postgres (${pgUrl}) or NATS (${natsUrl}) is not reachable and no container runtime could start them: run ./setup.sh first. (${(e as Error).message})`,
      );
    }
  }
  return { pgUrl, natsUrl, stop: async () => void (await Promise.all(stops.map((s) => s()))) };
}

/** A running stack; `start` brings up the dependencies and every service. */
export class Stack {
  readonly procs = new Map<string, ChildProcess>();
  private s3?: S3rver;
  private s3Options!: ConstructorParameters<typeof S3rver>[0];
  private deps?: { stop: () => Promise<void> };
  e!: StackEnv;

  async start(opts: { services?: ServiceName[]; env?: Record<string, string>; pgUrl?: string; natsUrl?: string } = {}): Promise<StackEnv> {
    const id = `${process.pid}${Math.random().toString(36).slice(2, 6)}`;
    const deps = await dependencies(opts);
    this.deps = deps;
    const dbName = `mt_test_${id}`;
    const admin = new pg.Client({ connectionString: deps.pgUrl });
    await admin.connect();
    await admin.query(`create database ${dbName}`);
    await admin.end();
    const u = new URL(deps.pgUrl);
    u.pathname = `/${dbName}`;
    const tmpDir = await mkdtemp(path.join(os.tmpdir(), 'mt-stack-'));
    const s3Port = await freePort();
    this.s3Options = { address: '127.0.0.1', port: s3Port, directory: path.join(tmpDir, 's3'), silent: true };
    await this.startS3();
    const port = await freePort();
    const bucket = `mt-test-${id}`;
    this.e = {
      url: `http://127.0.0.1:${port}`,
      databaseUrl: u.toString(),
      natsUrl: deps.natsUrl,
      namespace: `t${id}`,
      tmpDir,
      bucket,
      s3Endpoint: `http://127.0.0.1:${s3Port}`,
      account: undefined as never, // made below, once the gateway is up
      env: {
        DATABASE_URL: u.toString(),
        NATS_URL: deps.natsUrl,
        MT_NAMESPACE: `t${id}`,
        S3_ENDPOINT: `http://127.0.0.1:${s3Port}`,
        S3_BUCKET: bucket,
        PORT: String(port),
        HOST: '127.0.0.1',
        MT_TMP_DIR: path.join(tmpDir, 'work'),
        MT_DATA_DIR: path.join(tmpDir, 'data'),
        LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
        MT_X264_PRESET: process.env.MT_X264_PRESET ?? 'veryfast',
        ...opts.env,
      },
    };
    for (const s of opts.services ?? (Object.keys(SERVICES) as ServiceName[])) this.spawn(s);
    await this.waitReady();
    this.e.account = await this.newAccount(TEST_EMAIL, 'e2e stack');
    return this.e;
  }

  /** The client of the stack's test account (its key on every request). */
  client(): TestClient {
    return this.e.account.api;
  }

  /**
   * An account with an API key, made as an operator would (`./mt api-key create`'s function, straight
   * on the stack's database): for a test that needs a second family. Asking again for the same
   * address gives the same account and another key.
   */
  async newAccount(email: string, keyName = 'e2e'): Promise<TestAccount> {
    const made = await createApiKeyForEmail(this.e.databaseUrl, email, keyName);
    return { id: made.account.id, email: made.account.email, key: made.key, api: testClient(this.e.url, { key: made.key }) };
  }

  /** Takes the S3 server away (an outage); `startS3` brings it back on the same port with the same objects. */
  async stopS3(): Promise<void> {
    await this.s3?.close();
    this.s3 = undefined;
  }

  async startS3(): Promise<void> {
    this.s3 = withAtomicPuts(new S3rver(this.s3Options));
    await this.s3.run();
  }

  /** Starts one more process of a service (a replica); returns its name. */
  spawn(service: ServiceName, name: string = service, env: Record<string, string> = {}): ChildProcess {
    mkdirSync(path.join(OUTPUT, 'logs'), { recursive: true });
    const log = createWriteStream(path.join(OUTPUT, 'logs', `${this.e.namespace}-${name}.log`), { flags: 'a' });
    const child = spawn(process.execPath, ['--import', 'tsx', SERVICES[service]], {
      cwd: ROOT,
      env: { ...process.env, ...this.e.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.pipe(log);
    child.stderr!.pipe(log);
    this.procs.set(name, child);
    return child;
  }

  async stopProcess(name: string, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const p = this.procs.get(name);
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill(signal);
    await Promise.race([exited, sleep(20_000)]);
    if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    this.procs.delete(name);
  }

  async waitReady(timeoutMs = 60_000): Promise<void> {
    const gateway = createMemorialClient(this.e.url);
    await waitFor(() => gateway.isReady(), { timeoutMs, intervalMs: 200, what: `the stack at ${this.e.url} to be ready (see test-output/logs)` });
  }

  async stop(): Promise<void> {
    await Promise.all([...this.procs.keys()].map((n) => this.stopProcess(n)));
    await this.s3?.close().catch(() => {});
    const { jetstreamManager } = await import('@nats-io/jetstream');
    const { connect } = await import('@nats-io/transport-node');
    const nc = await connect({ servers: this.e.natsUrl }).catch(() => null);
    if (nc) {
      const jsm = await jetstreamManager(nc);
      const NS = this.e.namespace.toUpperCase();
      for (const s of ['COMMANDS', 'EVENTS', 'CANCELS']) await jsm.streams.delete(`${NS}_${s}`).catch(() => {});
      await nc.close();
    }
    const admin = new pg.Client({ connectionString: new URL('/postgres', this.e.databaseUrl).toString() });
    await admin.connect();
    await admin.query(`drop database if exists ${new URL(this.e.databaseUrl).pathname.slice(1)} with (force)`).catch(() => {});
    await admin.end();
    await rm(this.e.tmpDir, { recursive: true, force: true });
    await this.deps?.stop();
  }
}
