/**
 * Probe trips against a cluster: drive, wait until the trip is open in the write store, then time
 * the ignition-off message until the trip is completed in the write store and in the search store.
 */
import type { MqttClient } from 'mqtt';
import { WRITE_SCHEMA } from '../src/adapters/postgres/pgWriteSchema.js';
import type { Pool } from '../src/adapters/postgres/pool.js';
import { TOPICS, toWire } from '../src/functions/ingest/wireFormat.js';
import type { ProbeTiming } from './probes.js';
import { sleep, type Track } from './support.js';

interface Watch {
  tripId: string;
  until: 'open' | 'completed';
  t0: number;
  storedMs?: number;
  resolve: (timing: { storedMs: number; searchableMs: number }) => void;
  reject: (error: Error) => void;
}

/**
 * One poller for every trip awaited: each round asks the write store, and for completions the
 * search store (PostGIS, the table the API's `GET /v1/trips/{id}` reads), one query each for all
 * pending trips, then sleeps `pollMs`; so ten probes waiting at once cost PostgreSQL about as
 * much as one.
 */
export class ClusterCompletionWatcher {
  private readonly pending = new Set<Watch>();
  private running = false;

  constructor(
    private readonly writeDb: Pool,
    private readonly searchDb: Pool,
    private readonly tenantId: string,
    private readonly pollMs = 2,
    private readonly timeoutMs = 60_000,
  ) {}

  /** Resolves once the trip is in the write store, open or completed. */
  async open(tripId: string): Promise<void> {
    await this.add(tripId, 'open', performance.now());
  }

  /** Times from t0 until the trip is completed in the write store, then in the search store. */
  completed(tripId: string, t0: number): Promise<{ storedMs: number; searchableMs: number }> {
    return this.add(tripId, 'completed', t0);
  }

  private add(tripId: string, until: Watch['until'], t0: number): Promise<{ storedMs: number; searchableMs: number }> {
    return new Promise((resolve, reject) => {
      this.pending.add({ tripId, until, t0, resolve, reject });
      if (!this.running) void this.loop();
    });
  }

  private async loop(): Promise<void> {
    this.running = true;
    while (this.pending.size > 0) {
      const watches = [...this.pending];
      const inWriteStore = watches.filter((w) => w.storedMs === undefined).map((w) => w.tripId);
      const inSearchStore = watches.filter((w) => w.until === 'completed').map((w) => w.tripId);
      try {
        const [written, searchable] = await Promise.all([
          this.statuses(this.writeDb, `SELECT trip_id, doc->>'status' AS status FROM ${WRITE_SCHEMA}.trips WHERE tenant_id = $1 AND trip_id = ANY($2::text[])`, inWriteStore),
          this.statuses(this.searchDb, `SELECT trip_id, status FROM tripline_search.trips WHERE tenant_id = $1 AND trip_id = ANY($2::text[])`, inSearchStore),
        ]);
        const now = performance.now();
        for (const w of watches) {
          if (w.until === 'open') {
            if (written.has(w.tripId)) {
              this.pending.delete(w);
              w.resolve({ storedMs: now - w.t0, searchableMs: now - w.t0 });
              continue;
            }
          } else {
            if (w.storedMs === undefined && written.get(w.tripId) === 'completed') w.storedMs = now - w.t0;
            if (searchable.get(w.tripId) === 'completed') {
              this.pending.delete(w);
              w.resolve({ storedMs: w.storedMs ?? now - w.t0, searchableMs: now - w.t0 });
              continue;
            }
          }
          if (now - w.t0 > this.timeoutMs) {
            this.pending.delete(w);
            w.reject(new Error(`trip ${w.tripId} not ${w.until} after ${this.timeoutMs} ms (write store: ${written.get(w.tripId) ?? 'absent'})`));
          }
        }
      } catch (error) {
        for (const w of watches) {
          this.pending.delete(w);
          w.reject(error instanceof Error ? error : new Error(String(error)));
        }
      }
      await sleep(this.pollMs);
    }
    this.running = false;
  }

  private async statuses(db: Pool, sql: string, tripIds: string[]): Promise<Map<string, string>> {
    if (tripIds.length === 0) return new Map();
    const { rows } = await db.query<{ trip_id: string; status: string }>(sql, [this.tenantId, tripIds]);
    return new Map(rows.map((row) => [row.trip_id, row.status]));
  }
}

const lastTsOf = new Map<string, number>();

/**
 * As bench/probes.ts's runProbe, with one difference the cluster needs: the moving fixes go in one
 * message, and the ignition-off message is published only once the trip is open in the write
 * store. In cluster mode Mosquitto acknowledges a device before ingest has the message, and the
 * members of ingest's shared subscription handle a device's messages concurrently, so a later
 * message can reach the bus first (its points are then filtered as out of order, and a trip whose
 * first message came late gets another id): without the wait, the timed message could overtake
 * the drive it ends. The timing itself is the same: from just before the ignition-off publish.
 */
export async function runClusterProbe(client: MqttClient, watcher: ClusterCompletionWatcher, deviceId: string, track: Track, movingPoints: number): Promise<ProbeTiming> {
  const topic = TOPICS.telemetry(deviceId);
  const firstTs = Math.max(Date.now() - movingPoints * 1000, (lastTsOf.get(deviceId) ?? 0) + 1000);
  const moving = Array.from({ length: movingPoints }, (_, i) => toWire(track.at(firstTs + i * 1000)));
  await client.publishAsync(topic, JSON.stringify({ points: moving }), { qos: 1 });
  const tripId = `${deviceId}.${firstTs}`;
  await watcher.open(tripId);
  const lastTs = firstTs + movingPoints * 1000;
  lastTsOf.set(deviceId, lastTs);
  const last = JSON.stringify({ points: [toWire(track.at(lastTs, { speedMps: 0, ignition: false }))] });
  const t0 = performance.now();
  const acked = client.publishAsync(topic, last, { qos: 1 }).then(() => performance.now() - t0);
  const [ackMs, done] = await Promise.all([acked, watcher.completed(tripId, t0)]);
  return { ackMs, ...done };
}
