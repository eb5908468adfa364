/**
 * Steps 4 and 5: trip finalization latency while N cars drive at once (each publishing a one-point
 * batch every 5 s of wall time, phases spread evenly), and the heap an open trip costs the platform.
 */
import { performance } from 'node:perf_hooks';
import { Fleet } from './fleet.js';
import { heapAfterGc, pointsStored, startPlatform } from './harness.js';
import { CompletionWatcher, runProbe, runProbes, summarize } from './probes.js';
import { connectMany, endMany, progress, rng, round, sleep, Track } from './support.js';

export const FINAL = { probes: 50, probeSpacingMs: 100, periodMs: 5000, openPoints: 3 } as const;

export interface FinalizationFigures extends ReturnType<typeof summarize> {
  cars: number;
  activeTrips: number;
  loadMessages: number;
  loadAckP50: number;
  loadAckP99: number;
  /** Busy share of the platform's (main) event loop, and of the fleet worker's, during the load. */
  platformLoopBusy: number;
  fleetLoopBusy: number;
  /** Step 5: heap after GC with the trips open minus before any car published, per trip. */
  bytesPerActiveTrip?: number;
  /** The same trips after the load: open minus closed, per trip (trip state alone, without per-connection growth). */
  bytesPerTripStateOnly?: number;
  /** Heap a connected, silent device costs the platform (Aedes client and socket), for scale. */
  bytesPerConnection?: number;
  heapMiB?: { base: number; connected: number; open: number; openAfterLoad: number; closed: number };
}

export async function benchFinalization(n: number, measureMemory: boolean): Promise<FinalizationFigures> {
  const bp = await startPlatform();
  const fleet = new Fleet(1000 + n);
  const random = rng(2000 + n);
  const watcher = new CompletionWatcher(bp.platform);
  const probeIds = Array.from({ length: FINAL.probes }, (_, i) => `fin${n}-${String(i).padStart(2, '0')}`);
  const probes = await connectMany(bp.mqttUrl, probeIds, 'probe devices', 50, await bp.register(probeIds));
  let sent = 0;
  const settled = (what: string) => pointsStored(bp.platform, sent, what);
  // One road per probe device: its second trip continues where the first ended (a jump would be filtered as a teleport).
  const tracks = probeIds.map(() => Track.random(random, Date.now() - 60_000));
  const probe = (i: number) => runProbe(probes[i]!, watcher, probeIds[i]!, tracks[i]!, FINAL.openPoints, FINAL.openPoints);
  try {
    // Warm-up: each probe device drives and ends one trip, so code paths are compiled before any heap reading.
    await runProbes(FINAL.probes, 10, probe);
    sent += FINAL.probes * (FINAL.openPoints + 1);
    await settled('warm-up trips');
    const heapBase = measureMemory ? await heapAfterGc() : null;
    const carIds = Array.from({ length: n }, (_, i) => `car${n}-${String(i).padStart(5, '0')}`);
    const secrets = await bp.register(carIds);
    await fleet.connect(bp.mqttUrl, carIds, `${n} cars`, secrets);
    const heapConnected = measureMemory ? await heapAfterGc() : null;

    progress(`${n} cars: opening their trips`);
    sent += await fleet.openTrips(FINAL.openPoints);
    await settled(`${n} trips to open`);
    const activeTrips = (await bp.platform.metrics.activeTrips.get()).values[0]?.value ?? NaN;
    const heapOpen = measureMemory ? await heapAfterGc() : null;
    progress(`${n} cars: ${activeTrips} trips open; each car publishes a point every ${FINAL.periodMs} ms`);

    await fleet.startLoad(FINAL.periodMs, 1, 'wall');
    const elu0 = performance.eventLoopUtilization();
    await sleep(FINAL.periodMs); // one whole cycle before the first probe
    let finished = 0;
    const timings = await runProbes(FINAL.probes, 1, async (i) => {
      const timing = await probe(i);
      if (++finished % 10 === 0) progress(`${n} cars: ${finished}/${FINAL.probes} probe trips finalized`);
      return timing;
    }, FINAL.probeSpacingMs);
    sent += FINAL.probes * (FINAL.openPoints + 1);
    const platformLoopBusy = performance.eventLoopUtilization(elu0).utilization;
    const load = await fleet.stopLoad();
    if (load.failures > 0) progress(`WARNING: ${load.failures} background publishes failed`);
    sent += load.points;
    await settled('the steady load to be stored');

    const figures: FinalizationFigures = {
      cars: n,
      activeTrips,
      ...summarize(timings),
      loadMessages: load.messages,
      loadAckP50: load.ackP50Ms,
      loadAckP99: load.ackP99Ms,
      platformLoopBusy: round(platformLoopBusy, 2),
      fleetLoopBusy: load.eventLoopUtilization,
    };
    if (heapBase !== null && heapConnected !== null && heapOpen !== null) {
      const heapOpenAfterLoad = (await heapAfterGc())!;
      progress(`${n} cars: closing every trip to read the heap without open trips`);
      sent += await fleet.closeTrips();
      await settled('every trip to close');
      const heapClosed = (await heapAfterGc())!;
      const mib = (bytes: number) => round(bytes / 2 ** 20, 1);
      figures.bytesPerActiveTrip = Math.round((heapOpen - heapConnected) / n);
      figures.bytesPerTripStateOnly = Math.round((heapOpenAfterLoad - heapClosed) / n);
      figures.bytesPerConnection = Math.round((heapConnected - heapBase) / n);
      figures.heapMiB = { base: mib(heapBase), connected: mib(heapConnected), open: mib(heapOpen), openAfterLoad: mib(heapOpenAfterLoad), closed: mib(heapClosed) };
    }
    return figures;
  } finally {
    progress(`${n} cars: disconnecting`);
    await fleet.end();
    await endMany(probes);
    await bp.stop();
  }
}
