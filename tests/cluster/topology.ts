// The test cluster on paper (pure: no I/O): which hosts there are, their addresses and CPU caps, where
// each process runs and with which settings. Every name starts with PREFIX and every address is in
// SUBNET: the cluster's own namespaces, links and cgroups, and nothing outside them is ever a target.
import path from 'node:path';

/** Prefix of every namespace, link and cgroup the cluster makes (and of nothing else). */
export const PREFIX = 'mtc';
/** The cluster's private /24, used only inside its own namespaces and on its controller link. */
export const SUBNET = '10.77.0';
export const BRIDGE = 'mtbr0';
export const SWITCH_NS = `${PREFIX}-sw`;
/** The root namespace's end of its link to the switch: where this script reaches the cluster from. */
export const CONTROLLER_LINK = `${PREFIX}-ctl`;
export const CONTROLLER_IP = `${SUBNET}.254`;
export const GATEWAY_PORT = 8080;
export const NATS_PORT = 4222;
export const NATS_ROUTE_PORT = 6222;
export const PG_PORT = 5432;
export const S3_PORT = 4569;

export type Service = 'gateway' | 'canvas' | 'transition' | 'render';
export const WORKER_SERVICES = ['canvas', 'transition', 'render'] as const;

export interface Host {
  /** `data`, `h1`, `h2`, … */
  name: string;
  /** Its network namespace. */
  ns: string;
  ip: string;
  /** Its link's end on the switch (down = the host is cut off). */
  switchLink: string;
  /** CPU cap, in CPUs (cfs quota / period). */
  cpus: number;
  /** Name of its NATS node, when it runs one. */
  nats?: string;
}

export interface Topology {
  hosts: Host[];
  /** Hosts that run a NATS node and workers. */
  workers: Host[];
  /** Postgres, the S3 server and the first gateway. */
  data: Host;
  /** The cluster's own folder: NATS stores, Postgres, S3 files, temp folders. */
  runDir: string;
  /** Total CPU cap of the whole cluster (the parent cgroup). */
  cpus: number;
}

export interface TopologyOptions {
  workers?: number;
  /** CPUs of each worker host. */
  workerCpus?: number;
  /** CPUs of the data host. */
  dataCpus?: number;
  runDir: string;
}

export function topology(o: TopologyOptions): Topology {
  const n = o.workers ?? 3;
  if (n < 3) throw new Error('a JetStream cluster with R3 needs three worker hosts');
  const host = (name: string, i: number, cpus: number, nats: boolean): Host => ({
    name,
    ns: `${PREFIX}-${name}`,
    ip: `${SUBNET}.${10 + i}`,
    switchLink: `s-${name}`,
    cpus,
    nats: nats ? `nats-${name}` : undefined,
  });
  const data = host('data', 0, o.dataCpus ?? 0.5, false);
  const workers = Array.from({ length: n }, (_, i) => host(`h${i + 1}`, i + 1, o.workerCpus ?? 0.5, i < 3));
  const hosts = [data, ...workers];
  return { hosts, workers, data, runDir: o.runDir, cpus: hosts.reduce((s, h) => s + h.cpus, 0) };
}

export const hostDir = (t: Topology, h: Host) => path.join(t.runDir, h.name);
export const natsHosts = (t: Topology) => t.workers.filter((h) => h.nats);
export const natsUrls = (t: Topology) => natsHosts(t).map((h) => `nats://${h.ip}:${NATS_PORT}`);
export const gatewayUrl = (h: Host) => `http://${h.ip}:${GATEWAY_PORT}`;
export const databaseUrl = (t: Topology, db = 'memorialtube') => `postgres://postgres@${t.data.ip}:${PG_PORT}/${db}`;
export const s3Endpoint = (t: Topology) => `http://${t.data.ip}:${S3_PORT}`;

/** One NATS node's configuration: JetStream with its own store, routes to every node of the cluster. */
export function natsConfig(t: Topology, h: Host): string {
  if (!h.nats) throw new Error(`${h.name} runs no NATS node`);
  const routes = natsHosts(t).map((o) => `    "nats-route://${o.ip}:${NATS_ROUTE_PORT}"`);
  return [
    `server_name: "${h.nats}"`,
    `listen: "${h.ip}:${NATS_PORT}"`,
    `http: "${h.ip}:8222"`,
    `jetstream { store_dir: "${path.join(hostDir(t, h), 'nats')}" }`,
    'cluster {',
    '  name: "mt-cluster"',
    `  listen: "${h.ip}:${NATS_ROUTE_PORT}"`,
    '  routes: [',
    ...routes,
    '  ]',
    '}',
    '',
  ].join('\n');
}

export interface ClusterSettings {
  /** JetStream ack wait: a job held by a lost host comes back after it. */
  ackWaitMs: number;
  x264Preset: string;
  authSecret: string;
}

/** The environment of one service process on host `h`: every NATS node, Postgres and S3 on the data host. */
export function serviceEnv(t: Topology, h: Host, service: Service, s: ClusterSettings): Record<string, string> {
  return {
    DATABASE_URL: databaseUrl(t),
    NATS_URL: natsUrls(t).join(','),
    MT_STREAM_REPLICAS: '3',
    S3_ENDPOINT: s3Endpoint(t),
    S3_BUCKET: 'memorialtube',
    MT_TMP_DIR: path.join(hostDir(t, h), 'tmp'),
    MT_DATA_DIR: path.join(hostDir(t, h), 'data'),
    HOST: h.ip,
    PORT: String(GATEWAY_PORT),
    MT_PUBLIC_URL: gatewayUrl(h),
    MT_AUTH_SECRET: s.authSecret,
    LOG_LEVEL: 'info',
    MT_X264_PRESET: s.x264Preset,
    MT_ACK_WAIT_MS: String(s.ackWaitMs),
    MT_MAX_DELIVER: '8',
    MT_RETRY_BASE_MS: '300',
    MT_SHUTDOWN_GRACE_MS: '1000',
    MT_REAPER_INTERVAL_MS: '3000',
    MT_STALE_RUNNING_MS: '60000',
    // One clip at a time per replica: a 0.5-CPU host gains nothing from two, and the queue stays shared.
    MT_TRANSITION_CONCURRENCY: '1',
    ...(service === 'gateway' ? { MT_OUTBOX_INTERVAL_MS: '300' } : {}),
  };
}

export interface Placed {
  /** Unique process name, e.g. `transition@h2`. */
  name: string;
  service: Service;
  host: Host;
}

/**
 * Replicas spread round-robin over `hosts` (in order): `{ transition: 2 }` over h1, h2, h3 puts one on
 * h1 and one on h2. Several replicas of one service on a host are numbered (`transition@h1#2`).
 */
export function spread(replicas: Partial<Record<Service, number>>, hosts: Host[]): Placed[] {
  const out: Placed[] = [];
  for (const [service, n] of Object.entries(replicas) as [Service, number][])
    for (let i = 0; i < n; i++) {
      const host = hosts[i % hosts.length]!;
      const round = Math.floor(i / hosts.length);
      out.push({ name: `${service}@${host.name}${round ? `#${round + 1}` : ''}`, service, host });
    }
  return out;
}
