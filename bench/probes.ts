/** Probe trips: publish a short drive, then time its last message until the trip is completed in each store. */
import type { MqttClient } from 'mqtt';
import type { TelemetryPoint } from '../src/domain/point.js';
import { TOPICS, toWire } from '../src/functions/ingest/wireFormat.js';
import type { EmbeddedPlatform } from '../src/runtime/embedded.js';
import { percentile, round, sleep, type Track } from './support.js';

export interface ProbeTiming {
  /** Last message published until its PUBACK (durable on the bus). */
  ackMs: number;
  /** ... until the write store holds the trip as completed. */
  storedMs: number;
  /** ... until `search.trip` returns it as completed. */
  searchableMs: number;
}

interface Watch {
  tripId: string;
  t0: number;
  storedMs?: number;
  resolve: (timing: { storedMs: number; searchableMs: number }) => void;
  reject: (error: Error) => void;
}

/** One in-process poller (every 2 ms) for every trip awaited, so probes running together share one loop. */
export class CompletionWatcher {
  private readonly pending = new Set<Watch>();
  private running = false;

  constructor(
    private readonly platform: EmbeddedPlatform,
    private readonly tenantId = 'demo',
    private readonly timeoutMs = 60_000,
  ) {}

  watch(tripId: string, t0: number): Promise<{ storedMs: number; searchableMs: number }> {
    return new Promise((resolve, reject) => {
      this.pending.add({ tripId, t0, resolve, reject });
      if (!this.running) void this.loop();
    });
  }

  private async loop(): Promise<void> {
    this.running = true;
    const { store, search } = this.platform;
    while (this.pending.size > 0) {
      for (const w of [...this.pending]) {
        if (w.storedMs === undefined && (await store.trip(this.tenantId, w.tripId))?.status === 'completed') w.storedMs = performance.now() - w.t0;
        if ((await search.trip(this.tenantId, w.tripId))?.status === 'completed') {
          const searchableMs = performance.now() - w.t0;
          this.pending.delete(w);
          w.resolve({ storedMs: w.storedMs ?? searchableMs, searchableMs });
        } else if (performance.now() - w.t0 > this.timeoutMs) {
          this.pending.delete(w);
          w.reject(new Error(`trip ${w.tripId} not completed in the search store after ${this.timeoutMs} ms`));
        }
      }
      await sleep(2);
    }
    this.running = false;
  }
}

const lastTsOf = new Map<string, number>();

/**
 * With an already connected device: drives `movingPoints` 1 Hz fixes (ending about now) in
 * batches, then publishes the ignition-off point and times it from just before that publish.
 * The trip id is `${deviceId}.${first point ts}`. A device can run several probes one after another.
 */
export async function runProbe(client: MqttClient, watcher: CompletionWatcher, deviceId: string, track: Track, movingPoints: number, batchSize: number): Promise<ProbeTiming> {
  const topic = TOPICS.telemetry(deviceId);
  const firstTs = Math.max(Date.now() - movingPoints * 1000, (lastTsOf.get(deviceId) ?? 0) + 1000);
  const moving: TelemetryPoint[] = Array.from({ length: movingPoints }, (_, i) => track.at(firstTs + i * 1000));
  for (let i = 0; i < moving.length; i += batchSize) {
    await client.publishAsync(topic, JSON.stringify({ points: moving.slice(i, i + batchSize).map(toWire) }), { qos: 1 });
  }
  const lastTs = firstTs + movingPoints * 1000;
  lastTsOf.set(deviceId, lastTs);
  const last = JSON.stringify({ points: [toWire(track.at(lastTs, { speedMps: 0, ignition: false }))] });
  const t0 = performance.now();
  const acked = client.publishAsync(topic, last, { qos: 1 }).then(() => performance.now() - t0);
  const [ackMs, done] = await Promise.all([acked, watcher.watch(`${deviceId}.${firstTs}`, t0)]);
  return { ackMs, ...done };
}

/** Runs `count` probes with at most `concurrency` at a time (or starting one every `spacingMs`). */
export async function runProbes(count: number, concurrency: number, probe: (i: number) => Promise<ProbeTiming>, spacingMs = 0): Promise<ProbeTiming[]> {
  const results: ProbeTiming[] = [];
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      results.push(await probe(i));
      if (spacingMs > 0) await sleep(spacingMs);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  return results;
}

export function summarize(timings: readonly ProbeTiming[]) {
  const of = (key: keyof ProbeTiming) => timings.map((t) => t[key]);
  return {
    n: timings.length,
    p50: round(percentile(of('searchableMs'), 50)),
    p99: round(percentile(of('searchableMs'), 99)),
    max: round(Math.max(...of('searchableMs'))),
    ackP50: round(percentile(of('ackMs'), 50)),
    storedP50: round(percentile(of('storedMs'), 50)),
    storedP99: round(percentile(of('storedMs'), 99)),
  };
}
