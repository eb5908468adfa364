/**
 * Load generators of the flooding benchmark (bench/flooding.ts), one role per worker thread so
 * neither shares the platform's event loop: `cars` are the well-behaved fleet whose latency is
 * measured, `flooder` is one registered device publishing far over its rate limit.
 */
import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import { connectAsync, type IClientOptions, type MqttClient } from 'mqtt';
import type { DeviceCredentials } from '../src/ports/deviceRegistry.js';
import { TOPICS, toWire } from '../src/functions/ingest/wireFormat.js';
import { absNow, rng, round, Track } from './support.js';

export type FloodingCommand =
  | { cmd: 'connectCars'; url: string; devices: DeviceCredentials[] }
  | { cmd: 'startCars'; periodMs: number; minPoints: number; maxPoints: number }
  | { cmd: 'stopCars' }
  | { cmd: 'startFlood'; url: string; device: DeviceCredentials; ratePerS: number; mode: FloodMode; reconnectPeriodMs: number }
  | { cmd: 'stopFlood' }
  | { cmd: 'elu' }
  | { cmd: 'end' };

/** One car publish: when it was sent (absolute ms, see absNow) and how long its PUBACK took (NaN: failed). */
export interface CarSamples { sentAbsMs: number[]; ackMs: number[]; points: number[] }

export interface FloodReport {
  mode: FloodMode;
  /** Messages the flooder's schedule called for (rate × time). */
  attempted: number;
  /** ... of which handed to the socket: a QoS 1 flooder cannot send while it is reconnecting. */
  sent: number;
  /** QoS 1 only: PUBACKs received. */
  acked: number;
  /** Successful CONNACKs (the first connection included). */
  connects: number;
  /** Connections closed under the flooder (the broker refusing an over-limit QoS 1 message). */
  closes: number;
}

const random = rng((workerData as { seed: number }).seed);

const options = (device: DeviceCredentials, reconnectPeriodMs: number): IClientOptions => ({
  clientId: device.deviceId,
  username: device.username,
  password: device.password,
  reconnectPeriod: reconnectPeriodMs,
  connectTimeout: 30_000,
  queueQoSZero: false,
});

// ---- cars: every car publishes a batch of minPoints..maxPoints fixes every periodMs, phases spread evenly.

interface Car { topic: string; client: MqttClient; track: Track; lastTs: number }
let cars: Car[] = [];
let carLoad: { stop: () => Promise<CarSamples> } | null = null;

function startCars(periodMs: number, minPoints: number, maxPoints: number): { stop: () => Promise<CarSamples> } {
  const intervalMs = periodMs / cars.length;
  const started = performance.now();
  const samples: CarSamples = { sentAbsMs: [], ackMs: [], points: [] };
  const inFlight = new Set<Promise<unknown>>();
  let k = 0;
  const pump = setInterval(() => {
    while (started + k * intervalMs <= performance.now()) {
      const car = cars[k++ % cars.length]!;
      // Event time runs at one fix a second; sped up, a batch is sent every periodMs instead of every n seconds.
      const n = minPoints + Math.floor(random() * (maxPoints - minPoints + 1));
      const batch = Array.from({ length: n }, () => toWire(car.track.at((car.lastTs += 1000))));
      const i = samples.ackMs.push(NaN) - 1;
      samples.sentAbsMs.push(absNow());
      samples.points.push(n);
      const sentAt = performance.now();
      const sent: Promise<unknown> = car.client
        .publishAsync(car.topic, JSON.stringify({ points: batch }), { qos: 1 })
        .then(() => (samples.ackMs[i] = performance.now() - sentAt), () => undefined)
        .finally(() => inFlight.delete(sent));
      inFlight.add(sent);
    }
  }, 2);
  return {
    stop: async () => {
      clearInterval(pump);
      await Promise.allSettled([...inFlight]);
      return samples;
    },
  };
}

// ---- flooder: one device publishing valid one-point messages at ratePerS, whatever the broker says.

/**
 * qos0: over-limit messages are dropped, the connection stays up.
 * qos1-reconnect: each over-limit message closes the connection; mqtt.js reconnects after
 *   reconnectPeriodMs and first resends what was not acknowledged, one at a time, as a real
 *   device's library would.
 * qos1-storm: an attacker's loop: a fresh connection (and nothing resent) as soon as one closes.
 */
export type FloodMode = 'qos0' | 'qos1-reconnect' | 'qos1-storm';

let flood: { stop: () => Promise<FloodReport> } | null = null;

async function startFlood(url: string, device: DeviceCredentials, ratePerS: number, mode: FloodMode, reconnectPeriodMs: number): Promise<{ stop: () => Promise<FloodReport> }> {
  const topic = TOPICS.telemetry(device.deviceId);
  const qos = mode === 'qos0' ? 0 : 1;
  const track = new Track(50.85, 4.35, random() * 360, Date.now());
  const report: FloodReport = { mode, attempted: 0, sent: 0, acked: 0, connects: 0, closes: 0 };
  let stopping = false;
  let client: MqttClient | null = null;
  const open = async (): Promise<void> => {
    if (stopping) return;
    const c = await connectAsync(url, options(device, mode === 'qos1-reconnect' ? reconnectPeriodMs : 0));
    report.connects++;
    if (stopping) return void (await c.endAsync(true));
    // mqtt.js's own reconnections (qos1-reconnect): its 'connect' event waits until the resends are acknowledged, a CONNACK does not.
    c.on('packetreceive', (packet) => {
      if (packet.cmd === 'connack' && !packet.returnCode) report.connects++;
    });
    c.on('error', () => undefined); // refused publishes surface as closes; nothing to log per message
    client = c;
    c.on('close', () => {
      if (stopping || client !== c) return; // the close endAsync causes is ours, not the broker's
      report.closes++;
      if (mode !== 'qos1-storm') return; // mqtt.js reconnects by itself in qos1-reconnect
      client = null;
      c.end(true);
      reopen();
    });
  };
  const reopen = (): void => void open().catch(() => setTimeout(reopen, 100));
  await open();

  const intervalMs = 1000 / ratePerS;
  const started = performance.now();
  let lastTs = 0;
  const pump = setInterval(() => {
    while (started + report.attempted * intervalMs <= performance.now()) {
      report.attempted++;
      const c = client;
      if (!c?.connected) continue; // a flooder cannot send while it is (re)connecting
      lastTs = Math.max(Date.now(), lastTs + 1);
      const payload = JSON.stringify({ points: [toWire(track.at(lastTs))] });
      report.sent++;
      if (qos === 0) c.publish(topic, payload, { qos: 0 });
      else c.publish(topic, payload, { qos: 1 }, (error) => (error ? undefined : report.acked++));
    }
  }, 2);
  return {
    stop: async () => {
      clearInterval(pump);
      stopping = true;
      await client?.endAsync(true);
      return report;
    },
  };
}

// ---- protocol

let elu = performance.eventLoopUtilization();

async function run(command: FloodingCommand): Promise<unknown> {
  switch (command.cmd) {
    case 'connectCars': {
      const clients = await Promise.all(command.devices.map((device) => connectAsync(command.url, options(device, 0))));
      const t0 = Date.now() - 2 * 3_600_000; // event time starts two hours ago and runs faster than the clock
      cars = command.devices.map((device, i) => {
        const track = Track.random(random, t0);
        return { topic: TOPICS.telemetry(device.deviceId), client: clients[i]!, track, lastTs: t0 };
      });
      return cars.length;
    }
    case 'startCars':
      carLoad = startCars(command.periodMs, command.minPoints, command.maxPoints);
      return null;
    case 'stopCars': {
      const samples = await carLoad?.stop();
      carLoad = null;
      return samples;
    }
    case 'startFlood':
      flood = await startFlood(command.url, command.device, command.ratePerS, command.mode, command.reconnectPeriodMs);
      return null;
    case 'stopFlood': {
      const report = await flood?.stop();
      flood = null;
      return report;
    }
    case 'elu': {
      // Share of this thread's time spent working since the previous call.
      const utilization = performance.eventLoopUtilization(elu).utilization;
      elu = performance.eventLoopUtilization();
      return round(utilization, 3);
    }
    case 'end':
      await carLoad?.stop();
      await flood?.stop();
      await Promise.all(cars.map((car) => car.client.endAsync(true)));
      setImmediate(() => parentPort!.close());
      return null;
  }
}

parentPort!.on('message', (message: { id: number; command: FloodingCommand }) => {
  run(message.command).then(
    (result) => parentPort!.postMessage({ id: message.id, result }),
    (error: unknown) => parentPort!.postMessage({ id: message.id, error: error instanceof Error ? error.stack ?? error.message : String(error) }),
  );
});
