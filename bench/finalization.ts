/**
 * Steps 4 and 5: trip finalization latency while N cars drive at once (each publishing a one-point
 * batch every 5 s of wall time, spread evenly), and the heap an open trip costs.
 */
import { performance } from 'node:perf_hooks';
import type { MqttClient } from 'mqtt';
import { TOPICS, toWire } from '../src/functions/ingest/wireFormat.js';
import { CompletionWatcher, runProbe, runProbes, summarize } from './probes.js';
import { connectMany, counterValue, endMany, heapAfterGc, percentile, progress, rng, round, startPlatform, Track, waitUntil } from './support.js';

export const FINAL = { probes: 50, probeConcurrency: 5, periodMs: 5000, warmups: 50, openPoints: 3 } as const;

interface Car {
  deviceId: string;
  topic: string;
  client: MqttClient;
  track: Track;
  lastTs: number;
}

export interface FinalizationFigures extends ReturnType<typeof summarize> {
  cars: number;
  activeTrips: number;
  loadMessages: number;
  loadAckP50: number;
  loadAckP99: number;
  eventLoopUtilization: number;
  /** Step 5, only when measured: heap after GC, trips open minus trips not yet open, per trip. */
  bytesPerActiveTrip?: number;
  /** Same trips after the load: open minus closed, per trip (the trip state alone, without per-connection growth). */
  bytesPerTripStateOnly?: number;
  heapMiB?: { connected: number; open: number; openAfterLoad: number; closed: number };
}

export async function benchFinalization(n: number, measureMemory: boolean): Promise<FinalizationFigures> {
  const bp = await startPlatform();
  const { metrics } = bp.platform;
  const random = rng(1000 + n);
  const watcher = new CompletionWatcher(bp.platform);
  const ids = Array.from({ length: n }, (_, i) => `car${n}-${String(i).padStart(5, '0')}`);
  let clients: MqttClient[] = [];
  let sentPoints = 0;
  const settled = (what: string) => waitUntil(async () => (await counterValue(metrics.pointsStored)) >= sentPoints, 120_000, what, 5);
  const publishAll = async (build: (car: Car) => Array<ReturnType<typeof toWire>>, label: string): Promise<void> => {
    for (let i = 0; i < cars.length; i += 500) {
      await Promise.all(cars.slice(i, i + 500).map((car) => {
        const points = build(car);
        sentPoints += points.length;
        return car.client.publishAsync(car.topic, JSON.stringify({ points }), { qos: 1 });
      }));
    }
    await settled(label);
  };
  let cars: Car[] = [];
  try {
    clients = await connectMany(bp.mqttUrl, ids, `${n} cars`);
    const t0 = Date.now() - 600_000;
    cars = ids.map((deviceId, i) => ({ deviceId, topic: TOPICS.telemetry(deviceId), client: clients[i]!, track: Track.random(random, t0), lastTs: 0 }));

    // Warm-up trips on other devices, so code paths are compiled before the first heap reading.
    await runProbes(FINAL.warmups, 10, (i) => runProbe(bp.mqttUrl, watcher, `warm${n}-${i}`, Track.random(random, t0), 3, 3));
    sentPoints += FINAL.warmups * 4;
    await settled('warm-up trips');
    const heapConnected = measureMemory ? await heapAfterGc() : null;

    progress(`${n} cars: opening their trips`);
    await publishAll((car) => {
      const now = Date.now();
      return Array.from({ length: FINAL.openPoints }, (_, k) => toWire(car.track.at((car.lastTs = now - (FINAL.openPoints - k) * 1000))));
    }, `${n} trips to open`);
    const activeTrips = (await metrics.activeTrips.get()).values[0]?.value ?? NaN;
    const heapOpen = measureMemory ? await heapAfterGc() : null;
    progress(`${n} cars: ${activeTrips} trips open; steady load of one point per car every ${FINAL.periodMs} ms`);

    const interval = FINAL.periodMs / n;
    const loadStart = performance.now();
    const ackMs: number[] = [];
    const inFlight = new Set<Promise<unknown>>();
    let k = 0;
    let failures = 0;
    const pump = setInterval(() => {
      while (loadStart + k * interval <= performance.now()) {
        const car = cars[k++ % n]!;
        const ts = (car.lastTs = Math.max(Date.now(), car.lastTs + 1000));
        const sentAt = performance.now();
        const sent: Promise<unknown> = car.client
          .publishAsync(car.topic, JSON.stringify({ points: [toWire(car.track.at(ts))] }), { qos: 1 })
          .then(() => ackMs.push(performance.now() - sentAt), () => failures++)
          .finally(() => inFlight.delete(sent));
        inFlight.add(sent);
        sentPoints++;
      }
    }, 10);
    const elu0 = performance.eventLoopUtilization();
    await new Promise((resolve) => setTimeout(resolve, FINAL.periodMs));

    let finished = 0;
    const timings = await runProbes(FINAL.probes, FINAL.probeConcurrency, async (i) => {
      const timing = await runProbe(bp.mqttUrl, watcher, `fin${n}-${String(i).padStart(2, '0')}`, Track.random(random, t0), 3, 3);
      sentPoints += 4;
      if (++finished % 10 === 0) progress(`${n} cars: ${finished}/${FINAL.probes} probe trips finalized`);
      return timing;
    });
    clearInterval(pump);
    const eventLoopUtilization = performance.eventLoopUtilization(elu0).utilization;
    await Promise.allSettled([...inFlight]);
    if (failures > 0) progress(`WARNING: ${failures} background publishes failed`);
    await settled('the steady load to be stored');

    const figures: FinalizationFigures = {
      cars: n,
      activeTrips,
      ...summarize(timings),
      loadMessages: k,
      loadAckP50: round(percentile(ackMs, 50)),
      loadAckP99: round(percentile(ackMs, 99)),
      eventLoopUtilization: round(eventLoopUtilization, 2),
    };
    if (measureMemory && heapConnected !== null && heapOpen !== null) {
      const heapOpenAfterLoad = (await heapAfterGc())!;
      progress(`${n} cars: closing every trip to measure the heap without open trips`);
      await publishAll((car) => [toWire(car.track.at((car.lastTs = Math.max(Date.now(), car.lastTs + 1000)), { speedMps: 0, ignition: false }))], 'every trip to close');
      const heapClosed = (await heapAfterGc())!;
      const mib = (bytes: number) => round(bytes / 2 ** 20, 1);
      figures.bytesPerActiveTrip = Math.round((heapOpen - heapConnected) / n);
      figures.bytesPerTripStateOnly = Math.round((heapOpenAfterLoad - heapClosed) / n);
      figures.heapMiB = { connected: mib(heapConnected), open: mib(heapOpen), openAfterLoad: mib(heapOpenAfterLoad), closed: mib(heapClosed) };
    }
    return figures;
  } finally {
    progress(`${n} cars: disconnecting`);
    await endMany(clients);
    await bp.stop();
  }
}
