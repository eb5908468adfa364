/**
 * Probe trips against a cluster: drive, wait until the trip is open in the write store, then time
 * the ignition-off message until the trip is completed in the write store and in the search store.
 */
import type { MqttClient } from 'mqtt';
import { WRITE_SCHEMA } from '../src/adapters/postgres/pgWriteSchema.js';
import type { Pool } from '../src/adapters/postgres/pool.js';
import { TOPICS, toWire } from '../src/functions/ingest/wireFormat.js';
import type { ProbeTiming } from './probes.js';
import type { Track } from './support.js';

interface Watch {
  tripId: string;
  until: 'open' | 'completed';
  t0: number;
  storedMs?: number;
  resolve: (timing: { storedMs: number; searchableMs: number }) => void;
  reject: (error: Error) => void;
}

/** Wake-ups when a worker committed trip changes (the cluster's `trips` signal on core NATS). */
export interface TripSignals {
  on: (name: 'trips', listener: () => void) => void;
}

/**
 * One poller for every trip awaited. The write store is asked when a worker signals that it
 * committed trip changes (and every 25 ms in case a signal is lost), one query for all pending
 * trips; the search store (PostGIS, the table the API's `GET /v1/trips/{id}` reads) every 2 ms,
 * but only for trips already completed in the write store, that is while sync is at work on them.
 * Polling both stores every 2 ms for 10 pending trips cost about 0.1 core of PostgreSQL and 0.14
 * of this process (measured): too much to leave on the 2 cores being measured.
 */
export class ClusterCompletionWatcher {
  private readonly pending = new Set<Watch>();
  private running = false;
  private signalled = false;
  private wake: (() => void) | null = null;

  constructor(
    private readonly writeDb: Pool,
    private readonly searchDb: Pool,
    private readonly tenantId: string,
    signals: TripSignals,
    private readonly pollMs = 2,
    private readonly writePollMs = 25,
    private readonly timeoutMs = 60_000,
  ) {
    signals.on('trips', () => {
      this.signalled = true;
      this.wake?.();
    });
  }

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
      // A new watch looks at the write store at once: what it waits for may be there already.
      this.signalled = true;
      if (this.running) this.wake?.();
      else void this.loop();
    });
  }

  private async loop(): Promise<void> {
    this.running = true;
    let lastWriteRead = -Infinity;
    while (this.pending.size > 0) {
      const watches = [...this.pending];
      const readWrite = this.signalled || performance.now() - lastWriteRead >= this.writePollMs;
      const inWriteStore = readWrite ? watches.filter((w) => w.storedMs === undefined).map((w) => w.tripId) : [];
      const inSearchStore = watches.filter((w) => w.storedMs !== undefined).map((w) => w.tripId);
      if (readWrite) {
        this.signalled = false;
        lastWriteRead = performance.now();
      }
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
              w.resolve({ storedMs: w.storedMs!, searchableMs: now - w.t0 });
              continue;
            }
          }
          if (now - w.t0 > this.timeoutMs) {
            this.pending.delete(w);
            w.reject(new Error(`trip ${w.tripId} not ${w.until} after ${this.timeoutMs} ms (write store: ${written.get(w.tripId) ?? 'not read'})`));
          }
        }
      } catch (error) {
        for (const w of watches) {
          this.pending.delete(w);
          w.reject(error instanceof Error ? error : new Error(String(error)));
        }
      }
      if (this.pending.size === 0) break;
      // Sync at work on a completed trip: poll the search store; otherwise wait for a signal or the write store's poll.
      const searching = [...this.pending].some((w) => w.storedMs !== undefined);
      if (!this.signalled) await this.sleep(searching ? this.pollMs : this.writePollMs);
    }
    this.running = false;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wake = null;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(timer);
        this.wake = null;
        resolve();
      };
    });
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
