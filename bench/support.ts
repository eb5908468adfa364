/** Small helpers shared by the pipeline benchmark: machine facts, progress, percentiles, platforms, clients, tracks. */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { connectAsync, type MqttClient } from 'mqtt';
import type { Counter } from 'prom-client';
import { destination } from '../src/domain/geo.js';
import type { TelemetryPoint } from '../src/domain/point.js';
import { loadConfig } from '../src/runtime/config.js';
import { startEmbedded, type EmbeddedPlatform } from '../src/runtime/embedded.js';
import { createLogger } from '../src/runtime/logger.js';

const benchStart = performance.now();
/** Progress goes to stderr so stdout holds only the figures. */
export function progress(message: string): void {
  process.stderr.write(`[bench +${((performance.now() - benchStart) / 1000).toFixed(1)}s] ${message}\n`);
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export function machine(synchronous: string) {
  const cpus = os.cpus();
  const db = new Database(':memory:');
  const sqliteVersion = (db.prepare('SELECT sqlite_version() AS v').get() as { v: string }).v;
  db.close();
  return {
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    memGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    sqlite: sqliteVersion,
    synchronous,
    tmpdir: os.tmpdir(),
  };
}

/** Nearest-rank percentile of an unsorted sample. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export const round = (value: number, digits = 1): number => Math.round(value * 10 ** digits) / 10 ** digits;

export async function counterValue(counter: Counter<string>): Promise<number> {
  return (await counter.get()).values.reduce((sum, v) => sum + v.value, 0);
}

/** Polls until the check is true; throws after the timeout so a stuck pipeline fails loudly instead of hanging. */
export async function waitUntil(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string, pollMs = 5): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(pollMs);
  }
}

export interface BenchPlatform {
  platform: EmbeddedPlatform;
  mqttUrl: string;
  stop: () => Promise<void>;
}

/** The embedded platform with its defaults (synchronous FULL), on free ports in a temporary folder. */
export async function startPlatform(): Promise<BenchPlatform> {
  const dataDir = mkdtempSync(join(os.tmpdir(), 'tripline-bench-'));
  const config = loadConfig({ mqttPort: 0, httpPort: 0, dataDir, logLevel: 'silent' }, {});
  const platform = await startEmbedded(config, createLogger(config.logLevel));
  return {
    platform,
    mqttUrl: `mqtt://127.0.0.1:${platform.mqttPort}`,
    stop: async () => {
      await platform.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export function connect(url: string, clientId: string): Promise<MqttClient> {
  return connectAsync(url, { clientId, reconnectPeriod: 0, connectTimeout: 30_000 });
}

/** Connects real clients (client id = device id) in chunks, reporting progress. */
export async function connectMany(url: string, ids: readonly string[], label: string, chunk = 200): Promise<MqttClient[]> {
  const clients: MqttClient[] = [];
  for (let i = 0; i < ids.length; i += chunk) {
    clients.push(...(await Promise.all(ids.slice(i, i + chunk).map((id) => connect(url, id)))));
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

/** Heap in use after full garbage collections; null when node was started without --expose-gc. */
export async function heapAfterGc(): Promise<number | null> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) return null;
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
  return process.memoryUsage().heapUsed;
}

/** Deterministic pseudo-random numbers (mulberry32), so every run drives the same tracks. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A car driving a straight line at constant speed: its fix at any time since t0. */
export class Track {
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
    return { tsMs, lat, lon, speedMps: this.speedMps, headingDeg: Math.round(this.bearingDeg * 10) / 10, accuracyM: 5, ...overrides };
  }
}
