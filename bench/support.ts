import { createRng } from '../src/sim/random.js';
/** Light helpers shared by the benchmark's main thread and its fleet worker: progress, percentiles, MQTT clients, tracks. */
import { performance } from 'node:perf_hooks';
import { isMainThread, workerData } from 'node:worker_threads';
import { connectAsync, type MqttClient } from 'mqtt';
import { destination } from '../src/domain/geo.js';
import type { TelemetryPoint } from '../src/domain/point.js';

/** A high-resolution clock comparable across threads (each thread's performance.now() has its own origin). */
export const absNow = (): number => performance.timeOrigin + performance.now();
/** When the benchmark started; the fleet worker gets the main thread's start so progress lines share one clock. */
export const benchStartAbs: number = isMainThread ? absNow() : ((workerData as { benchStartAbs?: number } | null)?.benchStartAbs ?? absNow());
/** Progress goes to stderr so stdout holds only the figures. */
export function progress(message: string): void {
  process.stderr.write(`[${isMainThread ? 'bench' : 'fleet'} +${((absNow() - benchStartAbs) / 1000).toFixed(1)}s] ${message}\n`);
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Nearest-rank percentile of an unsorted sample. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export const round = (value: number, digits = 1): number => Math.round(value * 10 ** digits) / 10 ** digits;

/** Polls until the check is true; throws after the timeout so a stuck pipeline fails loudly instead of hanging. */
export async function waitUntil(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string, pollMs = 5): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(pollMs);
  }
}

/** A client whose id is the device id; with a password it signs in as that registered device. */
export function connect(url: string, clientId: string, password?: string): Promise<MqttClient> {
  return connectAsync(url, { clientId, ...(password !== undefined ? { username: clientId, password } : {}), reconnectPeriod: 0, connectTimeout: 30_000 });
}

/** Connects real clients (client id = device id, passwords[i] its secret) in chunks, reporting progress. */
export async function connectMany(url: string, ids: readonly string[], label: string, chunk = 200, passwords?: readonly string[]): Promise<MqttClient[]> {
  const clients: MqttClient[] = [];
  for (let i = 0; i < ids.length; i += chunk) {
    clients.push(...(await Promise.all(ids.slice(i, i + chunk).map((id, j) => connect(url, id, passwords?.[i + j])))));
    if (ids.length > chunk) progress(`connecting ${label}: ${clients.length}/${ids.length}`);
  }
  return clients;
}

export async function endMany(clients: readonly MqttClient[], chunk = 500): Promise<void> {
  for (let i = 0; i < clients.length; i += chunk) await Promise.all(clients.slice(i, i + chunk).map((c) => c.endAsync()));
}

/** Publishes payloads in order at QoS 1, keeping up to `window` publishes awaiting their PUBACK. */
export async function publishWindowed(client: MqttClient, topic: string, payloads: readonly string[], window: number): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < payloads.length) await client.publishAsync(topic, payloads[next++]!, { qos: 1 });
  };
  await Promise.all(Array.from({ length: window }, lane));
}

/** Deterministic pseudo-random numbers (the simulator's mulberry32), so every run drives the same tracks. */
export function rng(seed: number): () => number {
  const random = createRng(seed);
  return () => random.next();
}

/**
 * A car driving a straight line at constant speed: its fix at any time since t0. Each fix taken
 * gets the next `seq`, as the simulator's devices number theirs (README "Cluster mode": devices
 * should); take fixes in the order they are sent, one Track per device.
 */
export class Track {
  private nextSeq = 0;

  constructor(
    readonly lat: number,
    readonly lon: number,
    readonly bearingDeg: number,
    readonly t0Ms: number,
    readonly speedMps = 12,
  ) {}

  static random(random: () => number, t0Ms: number): Track {
    return new Track(48.137 + (random() - 0.5) * 0.4, 11.575 + (random() - 0.5) * 0.6, random() * 360, t0Ms);
  }

  at(tsMs: number, overrides: Partial<TelemetryPoint> = {}): TelemetryPoint {
    const { lat, lon } = destination(this.lat, this.lon, this.bearingDeg, (this.speedMps * (tsMs - this.t0Ms)) / 1000);
    return { tsMs, lat, lon, speedMps: this.speedMps, headingDeg: Math.round(this.bearingDeg * 10) / 10, accuracyM: 5, seq: this.nextSeq++, ...overrides };
  }
}
