/** Main-thread helpers: the platform under test, machine facts, counters, heap readings. */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Counter } from 'prom-client';
import { loadConfig } from '../src/runtime/config.js';
import { startEmbedded, type EmbeddedPlatform } from '../src/runtime/embedded.js';
import { createLogger } from '../src/runtime/logger.js';

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

export async function counterValue(counter: Counter<string>): Promise<number> {
  return (await counter.get()).values.reduce((sum, v) => sum + v.value, 0);
}

export interface BenchPlatform {
  platform: EmbeddedPlatform;
  mqttUrl: string;
  /** Registers devices as any device is registered; returns their secrets in order. */
  register: (deviceIds: readonly string[]) => Promise<string[]>;
  stop: () => Promise<void>;
}

/**
 * The embedded platform with its defaults (synchronous FULL), on free ports in a temporary folder.
 * Two exceptions: no per-device rate limit (the benchmarks publish as fast as acknowledged) and a
 * cheap scrypt cost, so registering and connecting thousands of devices does not dominate the run.
 */
export async function startPlatform(): Promise<BenchPlatform> {
  const dataDir = mkdtempSync(join(os.tmpdir(), 'tripline-bench-'));
  const config = loadConfig({ mqttPort: 0, httpPort: 0, dataDir, logLevel: 'silent', deviceRatePerS: 0, secretHashCost: 10, traceSampleRatio: Number(process.env.BENCH_TRACE_RATIO ?? 1) }, {});
  const platform = await startEmbedded(config, createLogger(config.logLevel));
  return {
    platform,
    mqttUrl: `mqtt://127.0.0.1:${platform.mqttPort}`,
    register: async (deviceIds) => {
      const secrets: string[] = [];
      for (const deviceId of deviceIds) secrets.push((await platform.registry.add({ deviceId, tenantId: config.defaultTenant, vehicleId: deviceId })).password);
      return secrets;
    },
    stop: async () => {
      await platform.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
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


/**
 * Waits until the trip worker has committed `expected` points off the bus: stored, filtered, or
 * held in a device's 2 s reorder buffer (durable in its state checkpoint).
 */
export async function pointsStored(platform: EmbeddedPlatform, expected: number, what: string, timeoutMs = 120_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while ((await counterValue(platform.metrics.pointsConsumed)) < expected) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (${expected} points)`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}
