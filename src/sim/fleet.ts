/**
 * Fleet simulator: every vehicle is a real MQTT client publishing its trips the way a device
 * would (batches of batchS seconds, QoS 1, PUBACK awaited), on a simulated clock that runs
 * `speedup` times faster than the wall clock. Ground truth of each delivered trip goes to an
 * NDJSON file so tests and benchmarks can compare the platform's output with what was driven.
 */
import { setMaxListeners } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import { toWire } from '../functions/ingest/wireFormat.js';
import { createRng, deriveSeed } from './random.js';
import { DevicePublisher, sleep } from './publisher.js';
import { simulateTrip, spawnPosition } from './vehicleModel.js';

export interface FleetSummary {
  messages: number;
  points: number;
  trips: number;
  events: number;
}

export interface FleetOptions {
  brokerUrl: string;
  vehicles: number;
  /** Simulated seconds per wall second; Infinity (or ≥ 1e6) publishes as fast as PUBACKs allow. */
  speedup: number;
  tripsPerVehicle?: number;
  /** Silence between two trips of a vehicle, simulated seconds. */
  idleBetweenTripsS?: number;
  batchS?: number;
  seed?: number;
  truthFile?: string;
  deviceIdPrefix?: string;
  credentials?: (deviceId: string) => { username?: string; password?: string };
  /** Each car stays under this many messages a second (the broker's per-device limit). */
  maxMessagesPerS?: number;
  /** A one-line human-readable status, at most once a second and once at the end. */
  onProgress?: (line: string) => void;
  signal?: AbortSignal;
  /**
   * Simulated time of the first trip. Default: now when live; when sped up, early enough that the
   * run ends about now (at most a day back, for endless fleets). Either way a batch is never sent
   * before the wall clock reaches its last timestamp, so no point is ever dated in the future.
   */
  startMs?: number;
  /** First seq of every device. Default: startMs in seconds, so a rerun continues above the last run instead of colliding. */
  firstSeq?: number;
}

/** Upper bound of what the final stop, ignition-off point and a late event add to a trip. */
const TRIP_TAIL_S = 60;
const MAX_HISTORY_MS = 24 * 3600 * 1000;
const MAX_VEHICLE_OFFSET_S = 60;
const CONNECT_CONCURRENCY = 50;

export async function runFleet(opts: FleetOptions): Promise<FleetSummary> {
  const seed = opts.seed ?? 1;
  const tripsPerVehicle = opts.tripsPerVehicle ?? 1;
  const idleMs = (opts.idleBetweenTripsS ?? 300) * 1000;
  const batchS = opts.batchS ?? 5;
  const prefix = opts.deviceIdPrefix ?? DEFAULT_PREFIX;
  const realtime = Number.isFinite(opts.speedup) && opts.speedup < 1e6;
  // Each trip's length comes from its own seed, so it is known before the trip is generated.
  const tripDurationS = (v: number, k: number): number => createRng(deriveSeed(seed, 'duration', v, k)).int(300, 1200);

  // Plan each vehicle from its own seed: id, start place, stagger, simulated time it spans.
  const plans = Array.from({ length: opts.vehicles }, (_, v) => {
    const rng = createRng(deriveSeed(seed, 'vehicle', v));
    const deviceId = fleetDeviceId(prefix, v);
    const offsetMs = Math.round(rng.range(0, MAX_VEHICLE_OFFSET_S)) * 1000;
    let spanMs = offsetMs + (tripsPerVehicle - 1) * idleMs;
    for (let k = 0; k < tripsPerVehicle && spanMs < MAX_HISTORY_MS; k++) spanMs += (tripDurationS(v, k) + TRIP_TAIL_S) * 1000;
    return { v, deviceId, offsetMs, spanMs: Math.min(spanMs, MAX_HISTORY_MS), start: spawnPosition(rng), headingDeg: rng.range(0, 360) };
  });
  const spanMs = Math.max(0, ...plans.map((p) => p.spanMs));
  const startMs = opts.startMs ?? (opts.speedup > 1 ? Date.now() - spanMs : Date.now());
  const firstSeq = opts.firstSeq ?? Math.floor(startMs / 1000);

  // One controller: the caller's abort or the first failure stops every vehicle.
  const stop = new AbortController();
  // Every vehicle sleeps on it at once: a listener each is expected, not a leak.
  setMaxListeners(opts.vehicles + 10, stop.signal);
  const onAbort = (): void => stop.abort();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  if (opts.signal?.aborted) stop.abort();

  const summary: FleetSummary = { messages: 0, points: 0, trips: 0, events: 0 };
  let lastProgressMs = 0;
  const progress = (force = false): void => {
    if (!opts.onProgress || (!force && Date.now() - lastProgressMs < 1000)) return;
    lastProgressMs = Date.now();
    const { trips, events, messages, points } = summary;
    opts.onProgress(`fleet: ${trips} trips, ${events} events done; ${messages} messages, ${points} points acknowledged`);
  };
  const truth: WriteStream | undefined = opts.truthFile ? createWriteStream(opts.truthFile) : undefined;
  const publishers: DevicePublisher[] = [];
  const wallStartMs = Date.now();

  const runVehicle = async (plan: (typeof plans)[number], publisher: DevicePublisher): Promise<void> => {
    let tripStartMs = startMs + plan.offsetMs;
    let seq = firstSeq;
    let start = { ...plan.start, headingDeg: plan.headingDeg };
    for (let k = 0; k < tripsPerVehicle && !stop.signal.aborted; k++) {
      const trip = simulateTrip({
        deviceId: plan.deviceId,
        seed: deriveSeed(seed, 'trip', plan.v, k),
        startMs: tripStartMs,
        start,
        durationS: tripDurationS(plan.v, k),
        firstSeq: seq,
      });
      for (let i = 0; i < trip.points.length && !stop.signal.aborted; i += batchS) {
        const batch = trip.points.slice(i, i + batchS);
        // A device sends a batch once its last point exists: wait for that simulated moment,
        // and never send a point before the wall clock reaches it.
        const lastTsMs = batch[batch.length - 1]!.tsMs;
        const pacedMs = realtime ? wallStartMs + (lastTsMs - startMs) / opts.speedup : 0;
        await sleep(Math.max(pacedMs, lastTsMs) - Date.now(), stop.signal);
        await publisher.publish(batch, stop.signal);
      }
      await publisher.drain(stop.signal);
      if (stop.signal.aborted) return;
      // Truth only for trips the broker fully acknowledged.
      // The points too, so `tripline evaluate` can run the pipeline over the same data.
      truth?.write(JSON.stringify({ kind: 'points', deviceId: trip.truth.trip.deviceId, points: trip.points.map(toWire) }) + '\n');
      truth?.write(JSON.stringify({ kind: 'trip', ...trip.truth.trip }) + '\n');
      for (const event of trip.truth.events) truth?.write(JSON.stringify({ kind: 'event', ...event }) + '\n');
      summary.trips++;
      summary.events += trip.truth.events.length;
      progress();
      const last = trip.points[trip.points.length - 1]!;
      start = { lat: last.lat, lon: last.lon, headingDeg: last.headingDeg ?? 0 };
      seq = trip.nextSeq;
      tripStartMs = last.tsMs + idleMs;
    }
  };

  try {
    const onAck = (points: number): void => {
      summary.messages++;
      summary.points += points;
      progress();
    };
    for (let i = 0; i < plans.length && !stop.signal.aborted; i += CONNECT_CONCURRENCY) {
      const connected = await Promise.allSettled(
        plans.slice(i, i + CONNECT_CONCURRENCY).map((p) =>
          DevicePublisher.connect({
            brokerUrl: opts.brokerUrl,
            deviceId: p.deviceId,
            onAck,
            ...(opts.maxMessagesPerS !== undefined ? { maxMessagesPerS: opts.maxMessagesPerS } : {}),
            ...opts.credentials?.(p.deviceId),
          }),
        ),
      );
      // Keep every client that did connect, so the finally block closes it even if another failed.
      for (const result of connected) if (result.status === 'fulfilled') publishers.push(result.value);
      const failed = connected.find((result) => result.status === 'rejected');
      if (failed) throw failed.reason;
    }
    await Promise.all(
      publishers.map((publisher, i) =>
        runVehicle(plans[i]!, publisher).catch((err: unknown) => {
          stop.abort();
          throw err;
        }),
      ),
    );
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    await Promise.allSettled(publishers.map((p) => p.close(stop.signal.aborted)));
    if (truth) await new Promise<void>((resolve) => truth.end(resolve));
    progress(true);
  }
  return summary;
}

const DEFAULT_PREFIX = 'sim-';

/** The device ids a fleet drives, so they can be registered before it starts. */
export function fleetDeviceIds(vehicles: number, prefix = DEFAULT_PREFIX): string[] {
  return Array.from({ length: vehicles }, (_, v) => fleetDeviceId(prefix, v));
}

function fleetDeviceId(prefix: string, index: number): string {
  return `${prefix}${String(index + 1).padStart(4, '0')}`;
}
