/**
 * The simulated fleet, in a worker thread: real mqtt.js clients (client id = device id) driving
 * straight lines at 12 m/s and publishing at QoS 1. Running it off the main thread keeps the
 * devices' own CPU work out of the platform's event loop (the machine has 2 cores) and out of
 * the main isolate's heap, which is what step 5 reads. Commands come from bench/fleet.ts.
 */
import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import type { MqttClient } from 'mqtt';
import { TOPICS, toWire } from '../src/functions/ingest/wireFormat.js';
import { absNow, connectMany, endMany, percentile, publishWindowed, rng, round, Track } from './support.js';

export type FleetCommand =
  | { cmd: 'connect'; url: string; ids: string[]; passwords?: string[]; label: string }
  | { cmd: 'prepareIngest'; batches: number; pointsPerBatch: number }
  | { cmd: 'ingest'; window: number }
  | { cmd: 'open'; points: number }
  | { cmd: 'startLoad'; periodMs: number; pointsPerBatch: number; clock: 'wall' | 'fast' }
  | { cmd: 'stopLoad' }
  | { cmd: 'closeTrips' }
  | { cmd: 'end' };

export interface LoadReport { messages: number; points: number; ackP50Ms: number; ackP99Ms: number; failures: number; eventLoopUtilization: number }

interface Car { deviceId: string; topic: string; client: MqttClient; track: Track; lastTs: number; payloads: string[] }

const random = rng((workerData as { seed: number }).seed);
let cars: Car[] = [];
let load: { stop: () => Promise<LoadReport> } | null = null;

/** Every car publishes one batch (in chunks of 500 cars awaiting their PUBACKs); returns the points sent. */
async function publishEach(build: (car: Car) => Array<ReturnType<typeof toWire>>): Promise<number> {
  let points = 0;
  for (let i = 0; i < cars.length; i += 500) {
    await Promise.all(cars.slice(i, i + 500).map((car) => {
      const batch = build(car);
      points += batch.length;
      return car.client.publishAsync(car.topic, JSON.stringify({ points: batch }), { qos: 1 });
    }));
  }
  return points;
}

/** Batches every `periodMs` per car, phases spread evenly over the period. */
function startLoad(periodMs: number, pointsPerBatch: number, clock: 'wall' | 'fast'): { stop: () => Promise<LoadReport> } {
  const interval = periodMs / cars.length;
  const started = performance.now();
  const elu0 = performance.eventLoopUtilization();
  const ackMs: number[] = [];
  const inFlight = new Set<Promise<unknown>>();
  let k = 0;
  let points = 0;
  let failures = 0;
  const pump = setInterval(() => {
    while (started + k * interval <= performance.now()) {
      const car = cars[k++ % cars.length]!;
      const batch = Array.from({ length: pointsPerBatch }, () => {
        car.lastTs = clock === 'wall' ? Math.max(Date.now(), car.lastTs + 1000) : car.lastTs + 1000;
        return toWire(car.track.at(car.lastTs));
      });
      points += batch.length;
      const sentAt = performance.now();
      const sent: Promise<unknown> = car.client
        .publishAsync(car.topic, JSON.stringify({ points: batch }), { qos: 1 })
        .then(() => ackMs.push(performance.now() - sentAt), () => failures++)
        .finally(() => inFlight.delete(sent));
      inFlight.add(sent);
    }
  }, 5);
  return {
    stop: async () => {
      clearInterval(pump);
      const eventLoopUtilization = performance.eventLoopUtilization(elu0).utilization;
      await Promise.allSettled([...inFlight]);
      return { messages: k, points, ackP50Ms: round(percentile(ackMs, 50)), ackP99Ms: round(percentile(ackMs, 99)), failures, eventLoopUtilization: round(eventLoopUtilization, 2) };
    },
  };
}

async function run(command: FleetCommand): Promise<unknown> {
  switch (command.cmd) {
    case 'connect': {
      const clients = await connectMany(command.url, command.ids, command.label, 50, command.passwords);
      const t0 = Date.now() - 2 * 3_600_000;
      cars = command.ids.map((deviceId, i) => {
        const track = Track.random(random, t0 + i * 1000);
        return { deviceId, topic: TOPICS.telemetry(deviceId), client: clients[i]!, track, lastTs: track.t0Ms - 1000, payloads: [] };
      });
      return cars.length;
    }
    case 'prepareIngest':
      for (const car of cars) {
        car.payloads = Array.from({ length: command.batches }, (_, b) => {
          const batch = Array.from({ length: command.pointsPerBatch }, () => toWire(car.track.at((car.lastTs += 1000))));
          // The drive ends with ignition off, so the platform's 2 s reorder buffer lets go of the last points.
          if (b === command.batches - 1) batch[batch.length - 1]!.ignition = false;
          return JSON.stringify({ points: batch });
        });
      }
      return cars.length * command.batches * command.pointsPerBatch;
    case 'ingest': {
      const firstPublishAbs = absNow();
      await Promise.all(cars.map((car) => publishWindowed(car.client, car.topic, car.payloads, command.window)));
      return { firstPublishAbs, allAckedAbs: absNow() };
    }
    case 'open': {
      const now = Date.now();
      return publishEach((car) => Array.from({ length: command.points }, (_, k) => toWire(car.track.at((car.lastTs = now - (command.points - k) * 1000)))));
    }
    case 'startLoad':
      load = startLoad(command.periodMs, command.pointsPerBatch, command.clock);
      return null;
    case 'stopLoad': {
      const report = await load?.stop();
      load = null;
      return report;
    }
    case 'closeTrips':
      return publishEach((car) => [toWire(car.track.at((car.lastTs = Math.max(Date.now(), car.lastTs + 1000)), { speedMps: 0, ignition: false }))]);
    case 'end':
      await load?.stop();
      await endMany(cars.map((car) => car.client));
      cars = [];
      setImmediate(() => parentPort!.close());
      return null;
  }
}

parentPort!.on('message', (message: { id: number; command: FleetCommand }) => {
  run(message.command).then(
    (result) => parentPort!.postMessage({ id: message.id, result }),
    (error: unknown) => parentPort!.postMessage({ id: message.id, error: error instanceof Error ? error.stack ?? error.message : String(error) }),
  );
});
