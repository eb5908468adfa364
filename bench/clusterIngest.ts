/**
 * Cluster throughput: the embedded benchmark's ingest workload (same seed and sizes) published to
 * Mosquitto, timed until Mosquitto took it, the bus had it and the workers committed it, with 1, 2
 * and 4 worker processes in turn on the same cluster (workers are added between rounds). Then the
 * workers alone: the same workload put on the bus while no worker runs, and drained by 1, 2 or 4
 * workers started together.
 */
import type { BenchCluster } from './clusterHarness.js';
import { cpuTargets, leasesBalanced, roleCounter, scrape, scrapeLabelled, stageMeans, stageSnapshot, syncIdle, withRole } from './clusterHarness.js';
import { Fleet } from './fleet.js';
import { INGEST } from './ingest.js';
import { cpuShares, cpuSnapshot, type CpuShares, type CpuSnapshot } from './procStat.js';
import { absNow, progress, sleep, waitUntil } from './support.js';

/** BENCH_INGEST_PROCESSES (default 2) sets how many ingest processes run. */
export const THROUGHPUT = { ...INGEST, workers: [1, 2, 4] as const, ingestProcesses: Number(process.env.BENCH_INGEST_PROCESSES ?? 2), partitions: 8 } as const;
const TOTAL_POINTS = THROUGHPUT.devices * THROUGHPUT.batches * THROUGHPUT.pointsPerBatch;
/** The drains take the workload twice over, so that the timed stretch lasts a few seconds even with 4 workers. */
export const DRAIN_ROUNDS = 2;

export interface RoundFigures {
  workers: number;
  points: number;
  messages: number;
  /**
   * From the first publish until: Mosquitto acknowledged every message; the bus had every point;
   * the workers had committed every point to the write store, stored or counted as filtered.
   */
  brokerS: number;
  busS: number;
  committedS: number;
  /** Points each worker stored (partition ownership decides the split). */
  storedPerWorker: number[];
  rejected: number;
  /** Points filtered by the workers' cleaning, by reason. */
  filtered: Map<string, number>;
  cpu: CpuShares;
  stages: ReturnType<typeof stageMeans>;
}

export interface DrainFigures {
  workers: number;
  points: number;
  /** Points per second between the polls that saw 10 % and 90 % of the points committed (the workers' start and lease moves left out). */
  pointsPerS: number;
  /** From starting the workers' processes until every point was committed. */
  totalS: number;
  cpu: CpuShares;
}

export async function benchClusterIngest(bc: BenchCluster, ids: string[], secrets: string[]): Promise<{ rounds: RoundFigures[]; drains: DrainFigures[] }> {
  const { cluster } = bc;
  const fleet = new Fleet(1);
  const rounds: RoundFigures[] = [];
  const drains: DrainFigures[] = [];
  try {
    await fleet.connect(cluster.env.TRIPLINE_MQTT_URL!, ids, 'throughput devices', secrets);
    for (const n of THROUGHPUT.workers) {
      for (let k = withRole(cluster, 'worker').length + 1; k <= n; k++) await bc.start(`worker-${k}`, ['worker']);
      await leasesBalanced(cluster, THROUGHPUT.partitions);
      await syncIdle(cluster);
      progress(`throughput with ${n} worker process${n > 1 ? 'es' : ''}: ${ids.length} devices x ${THROUGHPUT.batches} batches x ${THROUGHPUT.pointsPerBatch} points`);
      rounds.push(await round(bc, fleet, n));
    }
    for (const n of THROUGHPUT.workers) {
      progress(`drain with ${n} worker process${n > 1 ? 'es' : ''}: the same workload put on the bus first, with no worker running`);
      drains.push(await drain(bc, fleet, n));
    }
  } finally {
    await fleet.end();
  }
  return { rounds, drains };
}

async function drain(bc: BenchCluster, fleet: Fleet, workers: number): Promise<DrainFigures> {
  const { cluster } = bc;
  const total = DRAIN_ROUNDS * TOTAL_POINTS;
  for (const w of withRole(cluster, 'worker')) await cluster.stopProcess(w.name, 'SIGTERM');
  await syncIdle(cluster);
  const received0 = await roleCounter(cluster, 'ingest', 'tripline_points_received_total');
  for (let i = 0; i < DRAIN_ROUNDS; i++) {
    await fleet.prepareIngest(THROUGHPUT.batches, THROUGHPUT.pointsPerBatch);
    await fleet.ingest(THROUGHPUT.window);
  }
  await waitUntil(async () => (await roleCounter(cluster, 'ingest', 'tripline_points_received_total')) - received0 >= total, 180_000, 'the workload to be on the bus', 50);

  const startedAt = performance.now();
  // Fresh processes: their counters start at 0, and the bus holds nothing older unconsumed.
  await Promise.all(Array.from({ length: workers }, (_, k) => bc.start(`worker-${k + 1}`, ['worker'])));
  const targets = cpuTargets(bc);
  let first: { atMs: number; points: number; cpu: CpuSnapshot } | undefined;
  let last: { atMs: number; points: number; cpu: CpuSnapshot } | undefined;
  const deadline = performance.now() + 180_000;
  for (;;) {
    const done = await roleCounter(cluster, 'worker', 'tripline_points_consumed_total');
    const atMs = performance.now();
    if (!first && done >= 0.1 * total) first = { atMs, points: done, cpu: cpuSnapshot(targets) };
    if (!last && done >= 0.9 * total) last = { atMs, points: done, cpu: cpuSnapshot(targets) };
    if (done >= total) break;
    if (atMs > deadline) throw new Error(`timed out draining: ${done}/${total} points committed`);
    await sleep(50);
  }
  const totalS = (performance.now() - startedAt) / 1000;
  if (!first || !last || last.atMs <= first.atMs) throw new Error('drain too fast to time between 10 % and 90 %');
  return { workers, points: total, pointsPerS: (last.points - first.points) / ((last.atMs - first.atMs) / 1000), totalS, cpu: cpuShares(first.cpu, last.cpu) };
}

async function round(bc: BenchCluster, fleet: Fleet, workers: number): Promise<RoundFigures> {
  const { cluster } = bc;
  const workerProcs = withRole(cluster, 'worker');
  const perWorker = (name: string): Promise<number[]> => Promise.all(workerProcs.map(async (w) => (await scrape(w.httpPort, [name])).get(name)!));
  const received = () => roleCounter(cluster, 'ingest', 'tripline_points_received_total');
  const filteredByReason = async (): Promise<Map<string, number>> => {
    const sums = new Map<string, number>();
    for (const w of workerProcs) for (const [reason, n] of await scrapeLabelled(w.httpPort, 'tripline_points_filtered_total', 'reason')) sums.set(reason, (sums.get(reason) ?? 0) + n);
    return sums;
  };
  const sum = (values: number[]): number => values.reduce((a, b) => a + b, 0);
  const stored0 = await perWorker('tripline_points_stored_total');
  const consumed0 = sum(await perWorker('tripline_points_consumed_total'));
  const received0 = await received();
  const rejected0 = await roleCounter(cluster, 'ingest', 'tripline_messages_rejected_total');
  const filtered0 = await filteredByReason();
  await fleet.prepareIngest(THROUGHPUT.batches, THROUGHPUT.pointsPerBatch);

  const targets = cpuTargets(bc);
  const stages0 = await stageSnapshot(cluster);
  const cpu0 = cpuSnapshot(targets);
  const publishing = fleet.ingest(THROUGHPUT.window);
  let busAbs: number | undefined;
  let doneAbs: number | undefined;
  let lastReport = performance.now();
  const deadline = performance.now() + Number(process.env.BENCH_ROUND_TIMEOUT_MS ?? 180_000);
  while (doneAbs === undefined) {
    const [bus, consumed] = await Promise.all([busAbs === undefined ? received() : received0 + TOTAL_POINTS, perWorker('tripline_points_consumed_total')]);
    const now = absNow();
    const onBus = bus - received0;
    const done = sum(consumed) - consumed0;
    if (busAbs === undefined && onBus >= TOTAL_POINTS) busAbs = now;
    if (done >= TOTAL_POINTS) doneAbs = now;
    if (performance.now() - lastReport > 2000) {
      lastReport = performance.now();
      progress(`${workers} worker(s): ${onBus}/${TOTAL_POINTS} points on the bus, ${done} committed by the workers`);
    }
    if (performance.now() > deadline) throw new Error(`timed out: ${onBus}/${TOTAL_POINTS} points on the bus, ${done} committed by the workers`);
    // Coarse polls (each costs the polled processes a /metrics render), fine ones near the end.
    const nearEnd = (busAbs === undefined && onBus >= 0.95 * TOTAL_POINTS) || done >= 0.95 * TOTAL_POINTS;
    if (doneAbs === undefined) await sleep(nearEnd ? 20 : 250);
  }
  const cpu = cpuShares(cpu0, cpuSnapshot(targets));
  const stages = stageMeans(stages0, await stageSnapshot(cluster));
  const { firstPublishAbs, allAckedAbs } = await publishing;
  const stored = await perWorker('tripline_points_stored_total');
  const filtered = await filteredByReason();
  for (const [reason, n] of filtered0) filtered.set(reason, filtered.get(reason)! - n);
  return {
    workers,
    points: TOTAL_POINTS,
    messages: THROUGHPUT.devices * THROUGHPUT.batches,
    brokerS: (allAckedAbs - firstPublishAbs) / 1000,
    busS: (busAbs! - firstPublishAbs) / 1000,
    committedS: (doneAbs - firstPublishAbs) / 1000,
    storedPerWorker: stored.map((v, i) => v - stored0[i]!),
    rejected: (await roleCounter(cluster, 'ingest', 'tripline_messages_rejected_total')) - rejected0,
    filtered: new Map([...filtered].filter(([, n]) => n > 0)),
    cpu,
    stages,
  };
}
