import type { TripSummary } from '../../domain/trip.js';
import type { SearchIndex, TripPage, TripQuery } from '../../ports/searchIndex.js';
import type { TripChange } from '../../ports/writeStore.js';
import { decodeTripCursor, encodeTripCursor } from '../../ports/tripCursor.js';
import { openSqlite, type SqliteSynchronous } from './sqlite.js';

/**
 * The embedded search store, a separate SQLite database: trip documents with indexed
 * columns for filters and sorting, FTS5 over place names and an R*Tree over track extents.
 */
export class SqliteSearchIndex implements SearchIndex {
  private readonly db;
  private readonly stmt;

  constructor(path: string, synchronous: SqliteSynchronous) {
    this.db = openSqlite(path, synchronous);
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS trips (
        id INTEGER PRIMARY KEY, trip_id TEXT NOT NULL UNIQUE, tenant_id TEXT NOT NULL, vehicle_id TEXT NOT NULL,
        device_id TEXT NOT NULL, status TEXT NOT NULL, start_ms INTEGER NOT NULL, end_ms INTEGER NOT NULL,
        distance_m REAL NOT NULL, duration_s REAL NOT NULL, version INTEGER NOT NULL, doc TEXT NOT NULL
      );
      CREATE INDEX IF NOT EXISTS trips_by_time ON trips (tenant_id, start_ms DESC, trip_id DESC);
      CREATE INDEX IF NOT EXISTS trips_by_vehicle ON trips (tenant_id, vehicle_id, start_ms DESC, trip_id DESC);
      CREATE VIRTUAL TABLE IF NOT EXISTS trips_places USING fts5 (places, content='', contentless_delete=1);
      CREATE VIRTUAL TABLE IF NOT EXISTS trips_extent USING rtree (id, west, east, south, north);
      CREATE TABLE IF NOT EXISTS sync_position (id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER NOT NULL, written_at_ms INTEGER NOT NULL);
    `);
    this.stmt = {
      current: this.db.prepare('SELECT id, version FROM trips WHERE trip_id = ?'),
      insert: this.db.prepare(
        `INSERT INTO trips (trip_id, tenant_id, vehicle_id, device_id, status, start_ms, end_ms, distance_m, duration_s, version, doc)
         VALUES (@tripId, @tenantId, @vehicleId, @deviceId, @status, @startMs, @endMs, @distanceM, @durationS, @version, @doc)`,
      ),
      update: this.db.prepare(
        `UPDATE trips SET status = @status, start_ms = @startMs, end_ms = @endMs, distance_m = @distanceM,
         duration_s = @durationS, version = @version, doc = @doc WHERE id = @id`,
      ),
      deletePlaces: this.db.prepare('DELETE FROM trips_places WHERE rowid = ?'),
      insertPlaces: this.db.prepare('INSERT INTO trips_places (rowid, places) VALUES (?, ?)'),
      upsertExtent: this.db.prepare('INSERT OR REPLACE INTO trips_extent VALUES (?, ?, ?, ?, ?)'),
      position: this.db.prepare('SELECT seq, written_at_ms FROM sync_position WHERE id = 1'),
      setPosition: this.db.prepare('INSERT OR REPLACE INTO sync_position VALUES (1, ?, ?)'),
      trip: this.db.prepare('SELECT doc FROM trips WHERE tenant_id = ? AND trip_id = ?'),
    };
  }

  async apply(changes: TripChange[]): Promise<void> {
    const last = changes[changes.length - 1];
    if (!last) return;
    this.db.transaction(() => {
      for (const change of changes) this.upsert(change);
      this.stmt.setPosition.run(last.seq, last.writtenAtMs);
    })();
  }

  async position(): Promise<{ seq: number; writtenAtMs: number }> {
    const row = this.stmt.position.get() as { seq: number; written_at_ms: number } | undefined;
    return { seq: row?.seq ?? 0, writtenAtMs: row?.written_at_ms ?? 0 };
  }

  async searchTrips(query: TripQuery): Promise<TripPage> {
    const where = ['tenant_id = @tenantId'];
    const params: Record<string, unknown> = { tenantId: query.tenantId, limit: query.limit + 1 };
    if (query.vehicleId !== undefined) (where.push('vehicle_id = @vehicleId'), (params.vehicleId = query.vehicleId));
    // A trip matches a window when it overlaps it.
    if (query.fromMs !== undefined) (where.push('end_ms >= @fromMs'), (params.fromMs = query.fromMs));
    if (query.toMs !== undefined) (where.push('start_ms <= @toMs'), (params.toMs = query.toMs));
    if (query.status !== undefined) (where.push('status = @status'), (params.status = query.status));
    const after = query.cursor ? decodeTripCursor(query.cursor) : null;
    if (after) {
      where.push('(start_ms < @afterStartMs OR (start_ms = @afterStartMs AND trip_id < @afterTripId))');
      params.afterStartMs = after.startMs;
      params.afterTripId = after.tripId;
    }
    const rows = this.db
      .prepare(`SELECT doc FROM trips WHERE ${where.join(' AND ')} ORDER BY start_ms DESC, trip_id DESC LIMIT @limit`)
      .all(params) as Array<{ doc: string }>;
    const trips = rows.slice(0, query.limit).map((row) => JSON.parse(row.doc) as TripSummary);
    const lastTrip = trips[trips.length - 1];
    return { trips, nextCursor: rows.length > query.limit && lastTrip ? encodeTripCursor(lastTrip) : null };
  }

  async trip(tenantId: string, tripId: string): Promise<TripSummary | null> {
    const row = this.stmt.trip.get(tenantId, tripId) as { doc: string } | undefined;
    return row ? (JSON.parse(row.doc) as TripSummary) : null;
  }

  async count(): Promise<number> {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM trips').get() as { n: number }).n;
  }

  async reset(): Promise<void> {
    this.db.exec('DELETE FROM trips; DELETE FROM trips_places; DELETE FROM trips_extent; DELETE FROM sync_position;');
  }

  async close(): Promise<void> {
    this.db.close();
  }

  private upsert(change: TripChange): void {
    const trip = change.trip;
    const current = this.stmt.current.get(change.tripId) as { id: number; version: number } | undefined;
    if (current && current.version >= change.version) return; // already indexed: replays change nothing
    const row = {
      tripId: trip.tripId, tenantId: trip.tenantId, vehicleId: trip.vehicleId, deviceId: trip.deviceId,
      status: trip.status, startMs: trip.startMs, endMs: trip.endMs, distanceM: trip.distanceM,
      durationS: trip.durationS, version: change.version, doc: JSON.stringify(trip),
    };
    let id: number;
    if (current) {
      id = current.id;
      this.stmt.update.run({ ...row, id });
      this.stmt.deletePlaces.run(id);
    } else {
      id = Number(this.stmt.insert.run(row).lastInsertRowid);
    }
    this.stmt.insertPlaces.run(id, placesOf(trip));
    const [west, south, east, north] = trip.bbox;
    this.stmt.upsertExtent.run(id, west, east, south, north);
  }
}

/** Place text indexed for full-text search. */
function placesOf(trip: TripSummary): string {
  return [trip.startPlace, trip.endPlace].filter(Boolean).join(' ');
}
