import type { Alert } from '../../domain/alerts/alert.js';
import type { TelemetryPoint } from '../../domain/point.js';
import type { TripSummary } from '../../domain/trip.js';
import { isActive, type DeviceTripState } from '../../domain/tripSegmenter.js';
import { deviceHash } from '../../ports/eventBus.js';
import { CursorConflictError, type AlertFeed, type AlertRow, type BatchEffects, type ChangeFeed, type TripChange, type WriteStore } from '../../ports/writeStore.js';
import { inPartitions } from '../partitionStates.js';
import { linkTraces, syncTraces } from '../tripTraceLinks.js';
import { decodeChunk, encodeChunk } from './pointChunkCodec.js';
import { openSqlite, type SqliteSynchronous } from './sqlite.js';

/**
 * The embedded write store: point chunks (one row per device per consumed batch), trip
 * summaries, device state checkpoints, consumer cursors and the outbox, in one SQLite file so
 * a batch's effects and the bus offset it consumed commit in one transaction.
 */
export class SqliteWriteStore implements WriteStore, ChangeFeed, AlertFeed {
  private readonly db;
  private readonly stmt;

  constructor(path: string, synchronous: SqliteSynchronous) {
    this.db = openSqlite(path, synchronous);
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS point_chunks (
        device_id TEXT NOT NULL, first_ms INTEGER NOT NULL, last_ms INTEGER NOT NULL,
        point_count INTEGER NOT NULL, points TEXT NOT NULL,
        PRIMARY KEY (device_id, first_ms)
      ) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS trips (
        trip_id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, version INTEGER NOT NULL, doc TEXT NOT NULL
      );
      CREATE TABLE IF NOT EXISTS device_states (device_id TEXT PRIMARY KEY, open_trip INTEGER NOT NULL, state TEXT NOT NULL);
      CREATE INDEX IF NOT EXISTS device_states_open ON device_states (open_trip) WHERE open_trip = 1;
      CREATE TABLE IF NOT EXISTS consumer_cursors (partition INTEGER PRIMARY KEY, offset INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS outbox (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, trip_id TEXT NOT NULL, version INTEGER NOT NULL,
        written_at_ms INTEGER NOT NULL, doc TEXT NOT NULL
      );
      CREATE TABLE IF NOT EXISTS alerts (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, alert_id TEXT NOT NULL UNIQUE, tenant_id TEXT NOT NULL,
        written_at_ms INTEGER NOT NULL, doc TEXT NOT NULL
      );
    `);
    // Trace links came later: older files gain the columns, and their rows read as no traces.
    addColumnIfMissing(this.db, 'outbox', 'traceparents', 'TEXT');
    // deviceHash(device_id), so a worker reads only its partitions' states; older rows have none.
    addColumnIfMissing(this.db, 'device_states', 'device_hash', 'INTEGER');
    this.db.exec('CREATE TABLE IF NOT EXISTS trip_traces (trip_id TEXT PRIMARY KEY, trace_ids TEXT NOT NULL)');
    this.stmt = {
      insertChunk: this.db.prepare('INSERT INTO point_chunks VALUES (?, ?, ?, ?, ?)'),
      tripVersion: this.db.prepare('SELECT version FROM trips WHERE trip_id = ?'),
      tripTraces: this.db.prepare('SELECT trace_ids FROM trip_traces WHERE trip_id = ?'),
      upsertTripTraces: this.db.prepare('INSERT OR REPLACE INTO trip_traces VALUES (?, ?)'),
      upsertTrip: this.db.prepare(
        'INSERT INTO trips VALUES (?, ?, ?, ?) ON CONFLICT (trip_id) DO UPDATE SET version = excluded.version, doc = excluded.doc',
      ),
      insertOutbox: this.db.prepare('INSERT INTO outbox (trip_id, version, written_at_ms, doc, traceparents) VALUES (?, ?, ?, ?, ?)'),
      // Not INSERT OR IGNORE: an ignored insert still draws a seq, and the head would run past the last alert.
      insertAlert: this.db.prepare(
        'INSERT INTO alerts (alert_id, tenant_id, written_at_ms, doc) SELECT @alertId, @tenantId, @now, @doc WHERE NOT EXISTS (SELECT 1 FROM alerts WHERE alert_id = @alertId)',
      ),
      selectAlerts: this.db.prepare('SELECT seq, written_at_ms, doc FROM alerts WHERE seq > ? ORDER BY seq LIMIT ?'),
      selectAlertSeq: this.db.prepare('SELECT seq FROM alerts WHERE alert_id = ?'),
      pruneAlerts: this.db.prepare('DELETE FROM alerts WHERE seq <= ? AND written_at_ms < ?'),
      // AUTOINCREMENT: seqs are never reused, and sqlite_sequence keeps the highest even once pruned.
      selectAlertsHead: this.db.prepare("SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'alerts'), 0) AS seq"),
      upsertState: this.db.prepare('INSERT OR REPLACE INTO device_states (device_id, open_trip, state, device_hash) VALUES (?, ?, ?, ?)'),
      upsertCursor: this.db.prepare('INSERT OR REPLACE INTO consumer_cursors VALUES (?, ?)'),
      selectCursors: this.db.prepare('SELECT partition, offset FROM consumer_cursors'),
      selectCursor: this.db.prepare('SELECT offset FROM consumer_cursors WHERE partition = ?'),
      selectState: this.db.prepare('SELECT state FROM device_states WHERE device_id = ?'),
      selectOpenStates: this.db.prepare(
        `SELECT state, device_hash IS NULL AS unhashed FROM device_states
         WHERE open_trip = 1 AND (device_hash IS NULL OR device_hash % @partitionCount IN (SELECT value FROM json_each(@partitions)))`,
      ),
      selectTrip: this.db.prepare('SELECT doc FROM trips WHERE trip_id = ? AND tenant_id = ?'),
      selectChunks: this.db.prepare(
        'SELECT points FROM point_chunks WHERE device_id = ? AND first_ms <= ? AND last_ms >= ? ORDER BY first_ms',
      ),
      selectChanges: this.db.prepare('SELECT seq, trip_id, version, written_at_ms, doc, traceparents FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?'),
      selectHead: this.db.prepare('SELECT seq, written_at_ms FROM outbox ORDER BY seq DESC LIMIT 1'),
      countTrips: this.db.prepare('SELECT COUNT(*) AS n FROM trips'),
      selectTripsAfter: this.db.prepare('SELECT version, doc FROM trips WHERE trip_id > ? ORDER BY trip_id LIMIT ?'),
    };
  }

  async cursors(): Promise<Map<number, number>> {
    const rows = this.stmt.selectCursors.all() as Array<{ partition: number; offset: number }>;
    return new Map(rows.map((row) => [row.partition, row.offset]));
  }

  async loadStates(deviceIds: string[]): Promise<Map<string, DeviceTripState>> {
    const states = new Map<string, DeviceTripState>();
    for (const deviceId of deviceIds) {
      const row = this.stmt.selectState.get(deviceId) as { state: string } | undefined;
      if (row) states.set(deviceId, JSON.parse(row.state) as DeviceTripState);
    }
    return states;
  }

  async activeStates(partitions: readonly number[], partitionCount: number): Promise<DeviceTripState[]> {
    if (partitions.length === 0) return [];
    const rows = this.stmt.selectOpenStates.all({ partitions: JSON.stringify(partitions), partitionCount }) as Array<{ state: string; unhashed: number }>;
    return inPartitions(rows.map((row) => ({ state: JSON.parse(row.state) as DeviceTripState, unhashed: row.unhashed === 1 })), partitions, partitionCount);
  }

  async commit(batches: BatchEffects[]): Promise<void> {
    const now = Date.now();
    this.db.transaction(() => {
      for (const effects of batches) this.write(effects, now);
    })();
  }

  private write(effects: BatchEffects, now: number): void {
    if (effects.fromOffset !== undefined) {
      // Inside the transaction: nothing can move the cursor between this check and the commit.
      const stored = (this.stmt.selectCursor.get(effects.partition) as { offset: number } | undefined)?.offset ?? 0;
      if (stored !== effects.fromOffset) throw new CursorConflictError(effects.partition, effects.fromOffset, stored);
    }
    for (const chunk of effects.chunks) {
      this.stmt.insertChunk.run(chunk.deviceId, chunk.firstMs, chunk.lastMs, chunk.points.length, encodeChunk(chunk.points));
    }
    // Trace links first (also of open trips whose summary did not change): the documents below include them.
    const linked = new Map<string, string[]>();
    for (const [tripId, traceparents] of Object.entries(effects.tripTraces ?? {})) {
      const traceIds = linkTraces(this.storedTraceIds(tripId), traceparents);
      this.stmt.upsertTripTraces.run(tripId, JSON.stringify(traceIds));
      linked.set(tripId, traceIds);
    }
    for (const trip of effects.trips) {
      const current = this.stmt.tripVersion.get(trip.tripId) as { version: number } | undefined;
      const version = (current?.version ?? 0) + 1;
      const traceparents = effects.tripTraces?.[trip.tripId];
      const traceIds = linked.get(trip.tripId) ?? this.storedTraceIds(trip.tripId);
      const doc = JSON.stringify(traceIds.length > 0 ? { ...trip, traceIds } : trip);
      this.stmt.upsertTrip.run(trip.tripId, trip.tenantId, version, doc);
      this.stmt.insertOutbox.run(trip.tripId, version, now, doc, traceparents ? JSON.stringify(syncTraces(traceparents)) : null);
    }
    for (const state of effects.states) {
      this.stmt.upsertState.run(state.deviceId, isActive(state) ? 1 : 0, JSON.stringify(state), deviceHash(state.deviceId));
    }
    for (const alert of effects.alerts) this.stmt.insertAlert.run({ alertId: alert.alertId, tenantId: alert.tenantId, now, doc: JSON.stringify(alert) });
    this.stmt.upsertCursor.run(effects.partition, effects.offset);
  }

  private storedTraceIds(tripId: string): string[] {
    const row = this.stmt.tripTraces.get(tripId) as { trace_ids: string } | undefined;
    return row ? (JSON.parse(row.trace_ids) as string[]) : [];
  }

  async alertsAfter(seq: number, limit: number): Promise<AlertRow[]> {
    const rows = this.stmt.selectAlerts.all(seq, limit) as Array<{ seq: number; written_at_ms: number; doc: string }>;
    return rows.map((row) => ({ seq: row.seq, writtenAtMs: row.written_at_ms, alert: JSON.parse(row.doc) as Alert }));
  }

  async alertSeq(alertId: string): Promise<number | null> {
    return (this.stmt.selectAlertSeq.get(alertId) as { seq: number } | undefined)?.seq ?? null;
  }

  async pruneAlerts(upToSeq: number, beforeMs: number): Promise<number> {
    return this.stmt.pruneAlerts.run(upToSeq, beforeMs).changes;
  }

  async alertsHead(): Promise<number> {
    return (this.stmt.selectAlertsHead.get() as { seq: number }).seq;
  }

  async trip(tenantId: string, tripId: string): Promise<TripSummary | null> {
    const row = this.stmt.selectTrip.get(tripId, tenantId) as { doc: string } | undefined;
    return row ? (JSON.parse(row.doc) as TripSummary) : null;
  }

  async points(deviceId: string, fromMs: number, toMs: number): Promise<TelemetryPoint[]> {
    const rows = this.stmt.selectChunks.all(deviceId, toMs, fromMs) as Array<{ points: string }>;
    return rows.flatMap((row) => decodeChunk(row.points)).filter((p) => p.tsMs >= fromMs && p.tsMs <= toMs);
  }

  async counts(): Promise<{ trips: number; chunks: number; points: number }> {
    const trips = await this.tripCount();
    const chunks = this.db.prepare('SELECT COUNT(*) AS n, COALESCE(SUM(point_count), 0) AS points FROM point_chunks').get() as { n: number; points: number };
    return { trips, chunks: chunks.n, points: chunks.points };
  }

  async tripCount(): Promise<number> {
    return (this.stmt.countTrips.get() as { n: number }).n;
  }

  async tripsAfter(afterTripId: string, limit: number): Promise<Array<{ version: number; trip: TripSummary }>> {
    const rows = this.stmt.selectTripsAfter.all(afterTripId, limit) as Array<{ version: number; doc: string }>;
    return rows.map((row) => ({ version: row.version, trip: JSON.parse(row.doc) as TripSummary }));
  }

  async readAfter(seq: number, limit: number): Promise<TripChange[]> {
    const rows = this.stmt.selectChanges.all(seq, limit) as Array<{ seq: number; trip_id: string; version: number; written_at_ms: number; doc: string; traceparents: string | null }>;
    return rows.map((row) => ({
      seq: row.seq,
      tripId: row.trip_id,
      version: row.version,
      writtenAtMs: row.written_at_ms,
      trip: JSON.parse(row.doc) as TripSummary,
      traceparents: row.traceparents ? (JSON.parse(row.traceparents) as string[]) : [],
    }));
  }

  async head(): Promise<{ seq: number; writtenAtMs: number }> {
    const row = this.stmt.selectHead.get() as { seq: number; written_at_ms: number } | undefined;
    return { seq: row?.seq ?? 0, writtenAtMs: row?.written_at_ms ?? 0 };
  }

  async close(): Promise<void> {
    this.db.close();
  }
}

function addColumnIfMissing(db: ReturnType<typeof openSqlite>, table: string, column: string, type: string): void {
  const columns = db.prepare(`PRAGMA table_info(${table})`).all() as Array<{ name: string }>;
  if (!columns.some((c) => c.name === column)) db.exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${type}`);
}
