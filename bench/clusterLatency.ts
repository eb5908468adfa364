/**
 * Cluster latency: a probe trip's last message published to Mosquitto until the trip is completed
 * in the search store (bench/latency.ts's workload), and ignition off until completed while 5 or
 * 5,000 cars drive (bench/finalization.ts's workload), on one running cluster.
 */
import { readFileSync } from 'node:fs';
import type { MqttClient } from 'mqtt';
import type { BenchCluster } from './clusterHarness.js';
import { cpuTargets, roleCounter, stageMeans, stageSnapshot, TENANT } from './clusterHarness.js';
import { ClusterCompletionWatcher, runClusterProbe } from './clusterProbes.js';
import { FINAL, type FinalizationFigures } from './finalization.js';
import { Fleet, type LoadReport } from './fleet.js';
import { LATENCY } from './latency.js';
import { cpuShares, cpuSnapshot, type CpuShares } from './procStat.js';
import { runProbes, summarize } from './probes.js';
import { connectMany, endMany, progress, rng, sleep, Track, waitUntil } from './support.js';

/** Until the workers have taken `expected` more points off the bus than `base` (stored, filtered or held in a reorder buffer). */
async function consumed(bc: BenchCluster, base: number, expected: number, what: string): Promise<void> {
  await waitUntil(async () => (await roleCounter(bc.cluster, 'worker', 'tripline_points_consumed_total')) - base >= expected, 180_000, `${what} (${expected} points)`, 50);
}

const consumedNow = (bc: BenchCluster): Promise<number> => roleCounter(bc.cluster, 'worker', 'tripline_points_consumed_total');

export async function benchClusterSearchLatency(
  bc: BenchCluster,
  probeIds: string[],
  probeSecrets: string[],
  bgIds: string[],
  bgSecrets: string[],
): Promise<ReturnType<typeof summarize> & { background: LoadReport; cpu: CpuShares; stages: ReturnType<typeof stageMeans> }> {
  const url = bc.cluster.env.TRIPLINE_MQTT_URL!;
  const base = await consumedNow(bc);
  const random = rng(3);
  const fleet = new Fleet(3);
  const probes = await connectMany(url, probeIds, 'probe devices', 50, probeSecrets);
  try {
    await fleet.connect(url, bgIds, 'background cars', bgSecrets);
    await fleet.startLoad(LATENCY.backgroundEveryMs, LATENCY.backgroundBatch, 'fast');
    await sleep(2000);
    const watcher = new ClusterCompletionWatcher(bc.writeDb, bc.searchDb, TENANT, await bc.ctx.signals());
    const targets = cpuTargets(bc);
    const stages0 = await stageSnapshot(bc.cluster);
    const cpu0 = cpuSnapshot(targets);
    let finished = 0;
    const timings = await runProbes(probeIds.length, LATENCY.concurrency, async (i) => {
      const timing = await runClusterProbe(probes[i]!, watcher, probeIds[i]!, Track.random(random, Date.now() - 60_000), LATENCY.probePoints);
      if (++finished % 25 === 0) progress(`search latency: ${finished}/${probeIds.length} probe trips searchable`);
      return timing;
    });
    const cpu = cpuShares(cpu0, cpuSnapshot(targets));
    const stages = stageMeans(stages0, await stageSnapshot(bc.cluster));
    const background = await fleet.stopLoad();
    await consumed(bc, base, background.points + probeIds.length * (LATENCY.probePoints + 1), 'the latency step to be consumed');
    return { ...summarize(timings), background, cpu, stages };
  } finally {
    await fleet.end();
    await endMany(probes);
  }
}

export type ClusterFinalizationFigures = Omit<FinalizationFigures, 'platformLoopBusy'> & {
  /** How often each car published a point during this series. */
  periodMs: number;
  cpu: CpuShares;
  stages: ReturnType<typeof stageMeans>;
  rssMiB: Map<string, number>;
};

/**
 * As bench/finalization.ts: 50 probe devices each drive and end a warm-up trip; the cars open their
 * trips (3 points each) and then each publishes a one-point batch every `periodsMs[0]` of wall time;
 * 50 probe trips then end one after another, 100 ms apart, each timed from its ignition-off message
 * until it is completed in the search store. Each further period runs another series of 50 probes
 * with the same cars (their trips still open) publishing that often.
 */
export async function benchClusterFinalization(
  bc: BenchCluster,
  n: number,
  probeIds: string[],
  probeSecrets: string[],
  carIds: string[],
  carSecrets: string[],
  periodsMs: readonly number[] = [FINAL.periodMs],
): Promise<ClusterFinalizationFigures[]> {
  const url = bc.cluster.env.TRIPLINE_MQTT_URL!;
  const base = await consumedNow(bc);
  const fleet = new Fleet(1000 + n);
  const random = rng(2000 + n);
  const watcher = new ClusterCompletionWatcher(bc.writeDb, bc.searchDb, TENANT, await bc.ctx.signals());
  let sent = 0;
  let probes: MqttClient[] = [];
  try {
    probes = await connectMany(url, probeIds, 'probe devices', 50, probeSecrets);
    const tracks = probeIds.map(() => Track.random(random, Date.now() - 60_000));
    const probe = (i: number) => runClusterProbe(probes[i]!, watcher, probeIds[i]!, tracks[i]!, FINAL.openPoints);
    await runProbes(probeIds.length, 10, probe);
    sent += probeIds.length * (FINAL.openPoints + 1);
    await consumed(bc, base, sent, 'warm-up trips');
    await fleet.connect(url, carIds, `${n} cars`, carSecrets);
    const openTrips = () => roleCounter(bc.cluster, 'worker', 'tripline_active_trips');
    const openBefore = await openTrips();
    progress(`${n} cars: opening their trips`);
    sent += await fleet.openTrips(FINAL.openPoints);
    await consumed(bc, base, sent, `${n} trips to open`);
    // A new device's first points wait a moment (cleaning.arrivalHoldS) before its trip opens.
    const openBy = Date.now() + 15_000;
    let activeTrips = await openTrips();
    while (activeTrips < openBefore + n && Date.now() < openBy) {
      await sleep(250);
      activeTrips = await openTrips();
    }

    const series: ClusterFinalizationFigures[] = [];
    for (const periodMs of periodsMs) {
      progress(`${n} cars: ${activeTrips} trips open; each car publishes a point every ${periodMs / 1000} s`);
      await fleet.startLoad(periodMs, 1, 'wall');
      // One whole cycle before the first probe, or 5 s when cycles are longer (the phases are spread evenly from the start).
      await sleep(Math.min(periodMs, FINAL.periodMs));
      const targets = cpuTargets(bc);
      const stages0 = await stageSnapshot(bc.cluster);
      const cpu0 = cpuSnapshot(targets);
      let finished = 0;
      const timings = await runProbes(probeIds.length, 1, async (i) => {
        const timing = await probe(i);
        if (++finished % 10 === 0) progress(`${n} cars, a point every ${periodMs / 1000} s: ${finished}/${probeIds.length} probe trips finalized`);
        return timing;
      }, FINAL.probeSpacingMs);
      const cpu = cpuShares(cpu0, cpuSnapshot(targets));
      const stages = stageMeans(stages0, await stageSnapshot(bc.cluster));
      const rssMiB = new Map([...bc.cluster.processes.values()].map((p) => [p.name, rss(p.child.pid ?? -1)]));
      sent += probeIds.length * (FINAL.openPoints + 1);
      const load = await fleet.stopLoad();
      if (load.failures > 0) progress(`WARNING: ${load.failures} background publishes failed`);
      sent += load.points;
      await consumed(bc, base, sent, 'the steady load to be consumed');
      series.push({
        cars: n, periodMs, activeTrips, ...summarize(timings),
        loadMessages: load.messages, loadAckP50: load.ackP50Ms, loadAckP99: load.ackP99Ms, fleetLoopBusy: load.eventLoopUtilization,
        cpu, stages, rssMiB,
      });
    }
    return series;
  } finally {
    progress(`${n} cars: disconnecting`);
    await fleet.end();
    await endMany(probes);
  }
}

/** Resident memory of a tripline process, MiB (NaN when it is gone). */
function rss(pid: number): number {
  try {
    const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
    return Math.round(kb / 1024);
  } catch {
    return NaN;
  }
}
