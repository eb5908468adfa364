import mqtt, { type MqttClient } from 'mqtt';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TelemetryPoint } from '../src/domain/point.js';
import type { TripSummary } from '../src/domain/trip.js';
import { TOPICS, toWire } from '../src/functions/ingest/wireFormat.js';
import { createRng, deriveSeed } from '../src/sim/random.js';
import { simulateTrip, spawnPosition } from '../src/sim/vehicleModel.js';

/** One car's input: its messages, in the order it sends them (each a batch of 1 Hz points). */
export interface CarInput {
  deviceId: string;
  messages: TelemetryPoint[][];
}

export interface FaultFleetOptions {
  cars: number;
  pointsPerCar: number;
  pointsPerMessage: number;
  seed: number;
  /** Device time of the first car's first point (every point is in the past: no clock is needed). */
  startMs: number;
  prefix: string;
}

/** Device time between a car's two trips: far over the trip gap, so the second is a trip of its own. */
const PARKED_MS = 15 * 60_000;

/**
 * Deterministic input for fault tests: each car drives two trips of the vehicle model (each ending
 * with an ignition-off point, so they complete without any clock) of exactly `pointsPerCar` points
 * together, seq numbered without gaps, cut into messages that never span two trips.
 */
export function faultFleetInput(options: FaultFleetOptions): CarInput[] {
  return Array.from({ length: options.cars }, (_, v) => {
    const deviceId = `${options.prefix}${String(v + 1).padStart(3, '0')}`;
    const rng = createRng(deriveSeed(options.seed, 'car', v));
    const startMs = options.startMs + rng.int(0, 120) * 1000;
    const start = { ...spawnPosition(rng), headingDeg: rng.range(0, 360) };
    for (let attempt = 0; attempt < 20; attempt++) {
      const first = simulateTrip({ deviceId, seed: deriveSeed(options.seed, 'first', v, attempt), startMs, start, durationS: rng.int(150, 200), firstSeq: 0 });
      const remaining = options.pointsPerCar - first.points.length;
      const last = first.points[first.points.length - 1]!;
      const second = { startMs: last.tsMs + PARKED_MS, start: { lat: last.lat, lon: last.lon, headingDeg: last.headingDeg ?? 0 } };
      // The model adds a final stop of its own after the driving time: find the driving time that lands exactly.
      for (let durationS = remaining - 60; durationS <= remaining; durationS++) {
        const trip = simulateTrip({ deviceId, seed: deriveSeed(options.seed, 'second', v, attempt), ...second, durationS, firstSeq: first.nextSeq });
        if (trip.points.length !== remaining) continue;
        return { deviceId, messages: [...chunk(first.points, options.pointsPerMessage), ...chunk(trip.points, options.pointsPerMessage)] };
      }
    }
    throw new Error(`no input of exactly ${options.pointsPerCar} points for ${deviceId}`);
  });
}

function chunk<T>(items: T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
}

/** PUBACK reason 0x10 "no matching subscribers": the broker took the message and dropped it. */
export const NO_MATCHING_SUBSCRIBERS = 0x10;

export interface CarStats {
  /** PUBLISH packets the car's application handed to its client (first sends and its own resends). */
  publishes: number;
  /** Messages whose PUBACK came back with a success code (reason < 0x80, not 0x10). */
  acknowledged: number;
  /** PUBACKs with 0x10: not delivered, sent again. */
  noSubscribers: number;
  /** Points of the messages that got 0x10 at least once: what a device taking 0x10 for delivered (as an MQTT 3.1.1 one, which gets a plain PUBACK) would have lost. */
  pointsDroppedBy0x10: number;
  /** PUBACKs with an error code, or publishes that failed or timed out: sent again. */
  failures: number;
  /** Messages in flight when a connection was lost (the client resends them on the next connection). */
  inFlightAtDisconnect: number;
  reconnects: number;
}

/**
 * One car as a real device behaves: MQTT 5, a session kept across reconnects, each QoS 1 message
 * kept until the broker acknowledged it (the caller decides how many are in flight at once). mqtt.js keeps an unacknowledged QoS 1 PUBLISH in its outgoing store and
 * sends it again on every automatic reconnect (`reconnectPeriod` > 0; the store is only dropped by
 * `end()`/`reconnect()` and, with `clean` and no reconnects, by a forced close), whatever `clean`.
 *
 * A PUBACK with reason 0x10 "no matching subscribers" is a success code in MQTT 5, but for
 * telemetry it means the broker dropped the message: nothing was subscribed (Mosquitto 2.0.11
 * restores no shared subscription after a restart until ingest subscribes again, and answers
 * 0x10 meanwhile: checked). A car must treat it as not delivered and send the message again, as
 * it does on an error code. mqtt.js 5 resolves `publishAsync` with the PUBLISH packet for both 0
 * and 0x10, so the reason is read from the PUBACK itself ('packetreceive').
 */
export class FaultCar {
  readonly stats: CarStats = { publishes: 0, acknowledged: 0, noSubscribers: 0, pointsDroppedBy0x10: 0, failures: 0, inFlightAtDisconnect: 0, reconnects: 0 };
  /** Timestamps of the points of acknowledged messages. */
  readonly acknowledgedTsMs: number[] = [];
  private inFlight = 0;
  /** PUBACK reason codes by packet id: mqtt.js resolves a publish with the PUBLISH packet, not the PUBACK. */
  private readonly pubackReasons = new Map<number, number>();

  private constructor(readonly deviceId: string, private readonly client: MqttClient) {
    client.on('packetreceive', (packet) => {
      if (packet.cmd === 'puback' && packet.messageId !== undefined) this.pubackReasons.set(packet.messageId, packet.reasonCode ?? 0);
    });
    let connected = true;
    client.on('connect', () => (connected = true));
    client.on('close', () => {
      // Once per lost connection, not per failed attempt to reconnect.
      if (connected) this.stats.inFlightAtDisconnect += this.inFlight;
      connected = false;
    });
    client.on('reconnect', () => this.stats.reconnects++);
    client.on('error', () => undefined); // refused while the broker restarts: reconnects on its own
  }

  static async connect(url: string, deviceId: string, credentials: { username: string; password: string }): Promise<FaultCar> {
    const client = await mqtt.connectAsync(url, {
      protocolVersion: 5,
      clientId: deviceId,
      username: credentials.username,
      password: credentials.password,
      clean: false,
      properties: { sessionExpiryInterval: 3600 },
      reconnectPeriod: 250,
      connectTimeout: 5000,
      // A CONNACK refused while the broker's accounts load is retried too.
      reconnectOnConnackError: true,
    });
    return new FaultCar(deviceId, client);
  }

  /** Sends one message until it is acknowledged (or `deadline` passes: then throws). */
  async send(points: TelemetryPoint[], deadline: number): Promise<void> {
    const payload = JSON.stringify({ points: points.map(toWire) });
    let dropped = false;
    for (;;) {
      if (Date.now() > deadline) throw new Error(`${this.deviceId}: a message was not acknowledged before the deadline (${JSON.stringify(this.stats)})`);
      this.stats.publishes++;
      this.inFlight++;
      let reason: number;
      try {
        const packet = await withTimeout(this.client.publishAsync(TOPICS.telemetry(this.deviceId), payload, { qos: 1 }), 30_000);
        // mqtt.js rejects error codes but resolves 0x10 like 0: the PUBACK itself tells them apart.
        const id = packet?.messageId;
        reason = id === undefined ? 0 : (this.pubackReasons.get(id) ?? 0);
        if (id !== undefined) this.pubackReasons.delete(id);
      } catch {
        reason = 0x80;
      } finally {
        this.inFlight--;
      }
      if (reason === NO_MATCHING_SUBSCRIBERS) {
        this.stats.noSubscribers++;
        if (!dropped) this.stats.pointsDroppedBy0x10 += points.length;
        dropped = true;
        await sleep(200);
        continue;
      }
      if (reason >= 0x80) {
        this.stats.failures++;
        await sleep(500);
        continue;
      }
      this.stats.acknowledged++;
      for (const point of points) this.acknowledgedTsMs.push(point.tsMs);
      return;
    }
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no PUBACK within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * A trip document as both runs must agree on: without what depends on the run rather than the
 * input (the ids of the traces of the messages that built it, on the trip and on its events).
 */
export function comparableTrip(trip: TripSummary): unknown {
  const { traceIds: _traceIds, events, ...rest } = trip;
  return { ...rest, events: events.map(({ traceId: _traceId, ...event }) => event) };
}
