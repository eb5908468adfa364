/**
 * The cluster benchmark's harness: a local cluster (PostgreSQL + PostGIS with its default
 * durability, NATS JetStream, Mosquitto, tripline processes by role), reading the processes'
 * /metrics and /healthz, device registration (through the broker-synced registry, and a bulk path
 * for thousands of cars), and what to say about the machine and the servers' durability.
 */
import { spawnSync } from 'node:child_process';
import { pbkdf2Sync, randomBytes } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { createPool, type Pool } from '../src/adapters/postgres/pool.js';
import { openPgDeviceRegistry } from '../src/adapters/postgres/pgDeviceRegistry.js';
import { WRITE_SCHEMA } from '../src/adapters/postgres/pgWriteSchema.js';
import { startLocalCluster, type LocalCluster, type RoleProcess } from '../src/cluster/localCluster.js';
import { tempServiceRoot } from '../src/cluster/services/localService.js';
import { mosquittoBinary } from '../src/cluster/services/mosquitto.js';
import { natsServerBinary } from '../src/cluster/services/nats.js';
import type { DeviceRegistry } from '../src/ports/deviceRegistry.js';
import { ClusterContext } from '../src/runtime/cluster/clusterContext.js';
import type { Role } from '../src/runtime/cluster/roles.js';
import { loadConfig } from '../src/runtime/config.js';
import { createLogger } from '../src/runtime/logger.js';
import { byLabel, scrapeMetrics, total, type Sample } from '../testkit/prometheusText.js';
import type { CpuTarget } from './procStat.js';
import { progress, sleep } from './support.js';

export const TENANT = 'demo';

export interface BenchCluster {
  cluster: LocalCluster;
  dir: string;
  /** The benchmark's own handle on the cluster's backends (registry, broker accounts, NATS). */
  ctx: ClusterContext;
  writeDb: Pool;
  searchDb: Pool;
  start: (name: string, roles: Role[]) => Promise<RoleProcess>;
  stop: () => Promise<void>;
}

/**
 * PostgreSQL keeps its default durability (`fast: false`: fsync on, synchronous_commit on).
 * Every tripline process gets the benchmark's settings: log level warn, scrypt cost 2^10 for new
 * device secrets (registering thousands must not dominate; nothing verifies them in cluster mode,
 * Mosquitto checks its own hashes), and BENCH_TRACE_RATIO as the trace sample ratio (default 1).
 */
export async function startBenchCluster(): Promise<BenchCluster> {
  const dir = tempServiceRoot('tripline-bench-cluster-');
  const env = { TRIPLINE_LOG_LEVEL: 'warn', TRIPLINE_SECRET_HASH_COST: '10', TRIPLINE_TRACE_SAMPLE_RATIO: process.env.BENCH_TRACE_RATIO ?? '1' };
  const cluster = await startLocalCluster({ dir, fast: false, stderr: 'inherit', env });
  const config = loadConfig({ instanceId: 'bench', logLevel: 'warn', secretHashCost: 10 }, cluster.env);
  const ctx = new ClusterContext(config, createLogger('warn'));
  const writeDb = createPool(cluster.env.TRIPLINE_DATABASE_URL!, 2);
  const searchDb = createPool(cluster.env.TRIPLINE_SEARCH_DATABASE_URL!, 2);
  return {
    cluster,
    dir,
    ctx,
    writeDb,
    searchDb,
    start: (name, roles) => cluster.startProcess(name, roles),
    stop: async () => {
      await Promise.all([writeDb.end(), searchDb.end()]);
      await ctx.close();
      await cluster.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Tripline processes running a role, by name order. */
export function withRole(cluster: LocalCluster, role: Role): RoleProcess[] {
  return [...cluster.processes.values()].filter((p) => p.roles.includes(role)).sort((a, b) => a.name.localeCompare(b.name));
}

const metricsOf = (port: number): Promise<Sample[]> => scrapeMetrics(`http://127.0.0.1:${port}`);

/** Sums of the named counters or gauges (over their labels) in one process's /metrics. */
export async function scrape(port: number, names: readonly string[]): Promise<Map<string, number>> {
  const samples = await metricsOf(port);
  return new Map(names.map((name) => [name, total(samples, name)]));
}

/** One metric of one process by the value of one label (summed over its other labels). */
export async function scrapeLabelled(port: number, name: string, label: string): Promise<Map<string, number>> {
  return byLabel(await metricsOf(port), name, label);
}

/** Sums and counts of the pipeline's timing histograms over every tripline process: stages by name, and `ingest_to_stored`. */
export type StageSnapshot = Map<string, { sum: number; count: number }>;

export async function stageSnapshot(cluster: LocalCluster): Promise<StageSnapshot> {
  const totals: StageSnapshot = new Map();
  const add = (key: string, field: 'sum' | 'count', value: number): void => {
    const entry = totals.get(key) ?? { sum: 0, count: 0 };
    entry[field] += value;
    totals.set(key, entry);
  };
  await Promise.all([...cluster.processes.values()].map(async (p) => {
    const samples = await metricsOf(p.httpPort);
    for (const field of ['sum', 'count'] as const) {
      for (const [stage, value] of byLabel(samples, `tripline_stage_seconds_${field}`, 'stage')) add(stage, field, value);
      add('ingest_to_stored', field, total(samples, `tripline_ingest_to_stored_seconds_${field}`));
    }
  }));
  return totals;
}

/** Mean milliseconds and count of each timing between two snapshots of the same processes. */
export function stageMeans(before: StageSnapshot, after: StageSnapshot): Map<string, { meanMs: number; count: number }> {
  const means = new Map<string, { meanMs: number; count: number }>();
  for (const [key, end] of after) {
    const start = before.get(key) ?? { sum: 0, count: 0 };
    const count = end.count - start.count;
    if (count > 0) means.set(key, { meanMs: ((end.sum - start.sum) * 1000) / count, count });
  }
  return means;
}

/** One counter summed over every process with the role. */
export async function roleCounter(cluster: LocalCluster, role: Role, name: string): Promise<number> {
  const values = await Promise.all(withRole(cluster, role).map((p) => scrape(p.httpPort, [name])));
  return values.reduce((sum, m) => sum + (m.get(name) ?? 0), 0);
}

export async function healthOf(port: number): Promise<{ status: string; components: Record<string, Record<string, unknown>> }> {
  const response = await fetch(`http://127.0.0.1:${port}/healthz`);
  return (await response.json()) as { status: string; components: Record<string, Record<string, unknown>> };
}

/** Until the running workers hold every partition between them, none more than its fair share. */
export async function leasesBalanced(cluster: LocalCluster, partitions: number, timeoutMs = 60_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const workers = withRole(cluster, 'worker');
    const owned = await Promise.all(workers.map(async (w) => ((await healthOf(w.httpPort)).components.worker?.ownedPartitions as number[] | undefined) ?? []));
    const share = Math.ceil(partitions / workers.length);
    const all = new Set(owned.flat());
    if (all.size === partitions && owned.every((o) => o.length > 0 && o.length <= share)) return;
    if (performance.now() > deadline) throw new Error(`partition leases not balanced over ${workers.length} workers: ${JSON.stringify(owned)}`);
    await sleep(200);
  }
}

/** Until sync has indexed every trip change (so the next step does not share the machine with the last one's tail). */
export async function syncIdle(cluster: LocalCluster, timeoutMs = 120_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const pending = await Promise.all(withRole(cluster, 'sync').map(async (p) => Number((await healthOf(p.httpPort)).components.sync?.pendingChanges ?? 0)));
    if (pending.every((n) => n === 0)) return;
    if (performance.now() > deadline) throw new Error(`sync still has ${pending.join('+')} changes pending`);
    await sleep(200);
  }
}

/** Devices with an open trip in the write store's checkpoints, by the prefix of their id (`tput`, `bg`, `car5000`...). */
export async function openTripsByGroup(bc: BenchCluster): Promise<Map<string, number>> {
  const { rows } = await bc.writeDb.query<{ prefix: string; n: number }>(
    `SELECT split_part(device_id, '-', 1) AS prefix, count(*)::int AS n FROM ${WRITE_SCHEMA}.device_states WHERE open_trip GROUP BY 1 ORDER BY 1`,
  );
  return new Map(rows.map((row) => [row.prefix, row.n]));
}

/** Every server and tripline process of the cluster, and this process (the simulated devices' thread and the probes). */
export function cpuTargets(bc: BenchCluster): CpuTarget[] {
  const { cluster } = bc;
  const pid = (p: { pid?: number | undefined }): number => p.pid ?? -1;
  return [
    { name: 'postgres', pid: pid(cluster.postgres.process), children: true },
    { name: 'nats-server', pid: pid(cluster.nats.process) },
    { name: 'mosquitto', pid: pid(cluster.mosquitto.process) },
    ...[...cluster.processes.values()].map((p) => ({ name: p.name, pid: pid(p.child) })),
    { name: 'bench (devices, probes)', pid: process.pid },
  ];
}

export interface ServerFacts {
  postgres: string;
  nats: string;
  mosquitto: string;
  postgresDurability: Record<string, string>;
}

export async function serverFacts(bc: BenchCluster): Promise<ServerFacts> {
  const show = async (setting: string): Promise<string> => (await bc.writeDb.query<Record<string, string>>(`SHOW ${setting}`)).rows[0]![setting]!;
  const durability: Record<string, string> = {};
  for (const setting of ['fsync', 'synchronous_commit', 'full_page_writes', 'wal_sync_method']) durability[setting] = await show(setting);
  return {
    postgres: (await show('server_version')).split(' ')[0]!,
    nats: binaryVersion(natsServerBinary(), ['--version']),
    mosquitto: binaryVersion(mosquittoBinary(), ['-h']),
    postgresDurability: durability,
  };
}

/** The x.y.z a server binary prints when asked (args: its version or help flag). */
export function binaryVersion(binary: string | null, args: string[]): string {
  if (!binary) return 'unknown';
  const run = spawnSync(binary, args, { encoding: 'utf8' });
  return /\d+\.\d+\.\d+/.exec(`${run.stdout}${run.stderr}`)?.[0] ?? 'unknown';
}

export function machineFacts() {
  const cpus = os.cpus();
  return { cpu: cpus[0]?.model ?? 'unknown', cores: cpus.length, memGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10, node: process.version, tmpdir: os.tmpdir() };
}

export interface Registered {
  secrets: string[];
  /** Milliseconds each registration took, in order. */
  ms: number[];
}

/**
 * The product's path: the registry of cluster mode (a PostgreSQL row, then the device's account and
 * role pushed to Mosquitto's dynamic security), one device after another, timed. Returns the
 * secrets in the order of `ids`.
 */
export async function registerThroughBroker(registry: DeviceRegistry, ids: readonly string[], label: string): Promise<Registered> {
  const secrets: string[] = [];
  const ms: number[] = [];
  for (const deviceId of ids) {
    const t0 = performance.now();
    secrets.push((await registry.add({ deviceId, tenantId: TENANT, vehicleId: deviceId })).password);
    ms.push(performance.now() - t0);
    if (secrets.length % 100 === 0) progress(`registering ${label}: ${secrets.length}/${ids.length}`);
  }
  return { secrets, ms };
}

/**
 * Thousands of cars, fairly but without Mosquitto's per-command cost (its dynamic-security plugin
 * rewrites its whole JSON file after each createRole and createClient, so registering one more
 * device costs time proportional to the devices already there). The cars go into the same
 * PostgreSQL registry through its own `add` (8 at a time); their broker accounts are copies of a
 * device provisioned through the product (`templateId`: same role, ACLs and hash iterations, the
 * template's id replaced, each car's own secret hashed with PBKDF2-SHA512 as the plugin does),
 * written into the plugin's file while Mosquitto is stopped, then Mosquitto starts on it. Call
 * this before any tripline process is connected to the broker.
 */
export async function registerInBulk(bc: BenchCluster, ids: readonly string[], templateId: string): Promise<{ secrets: string[]; registryS: number; brokerS: number }> {
  const t0 = performance.now();
  const registry = await openPgDeviceRegistry(bc.cluster.env.TRIPLINE_DATABASE_URL!, { scryptLog2N: 10, maxConnections: 8 });
  const secrets: string[] = new Array<string>(ids.length);
  let next = 0;
  try {
    await Promise.all(Array.from({ length: 8 }, async () => {
      while (next < ids.length) {
        const i = next++;
        secrets[i] = (await registry.add({ deviceId: ids[i]!, tenantId: TENANT, vehicleId: ids[i]! })).password;
        if ((i + 1) % 1000 === 0) progress(`registering cars in the registry: ${i + 1}/${ids.length}`);
      }
    }));
  } finally {
    await registry.close();
  }
  const t1 = performance.now();
  const file = join(bc.dir, 'mosquitto', 'dynamic-security.json');
  await bc.cluster.mosquitto.stop();
  const config = JSON.parse(readFileSync(file, 'utf8')) as {
    clients: Array<{ username: string; password: string; salt: string; iterations: number }>;
    roles: Array<{ rolename: string }>;
  };
  const client = config.clients.find((c) => c.username === templateId);
  const role = config.roles.find((r) => r.rolename === `tripline-device-${templateId}`);
  if (!client || !role) throw new Error(`template device ${templateId} has no broker account`);
  const clientText = JSON.stringify(client);
  const roleText = JSON.stringify(role);
  ids.forEach((deviceId, i) => {
    const salt = randomBytes(12);
    config.clients.push({
      ...(JSON.parse(clientText.replaceAll(templateId, deviceId)) as typeof client),
      password: pbkdf2Sync(secrets[i]!, salt, client.iterations, 64, 'sha512').toString('base64'),
      salt: salt.toString('base64'),
    });
    config.roles.push(JSON.parse(roleText.replaceAll(templateId, deviceId)) as typeof role);
  });
  writeFileSync(file, JSON.stringify(config));
  await bc.cluster.restartService('mosquitto');
  return { secrets, registryS: (t1 - t0) / 1000, brokerS: (performance.now() - t1) / 1000 };
}
