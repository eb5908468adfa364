import type { TripSummary } from '../../domain/trip.js';
import type {
  EventPage, EventQuery, FleetStats, NearHit, NearQuery, SearchIndex, StatsQuery, TrackPoint, TripPage, TripQuery, VehicleStats,
} from '../../ports/searchIndex.js';
import { fleetStats, groupStats, searchEvents } from './searchAnalytics.js';
import { nearTracks, PIECE_ID_STRIDE, trackPieces } from './trackPieces.js';
import type { TripChange } from '../../ports/writeStore.js';
import { decodeTripCursor, encodeTripCursor } from '../../ports/tripCursor.js';
import { migrate, SEVERITY_RANK, SORT_EXPRESSIONS, tripFilter } from './searchSchema.js';
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
    migrate(this.db);
    this.stmt = {
      current: this.db.prepare('SELECT id, version FROM trips WHERE trip_id = ?'),
      insert: this.db.prepare(
        `INSERT INTO trips (trip_id, tenant_id, vehicle_id, device_id, driver_id, policy_id, status, start_ms, end_ms, distance_m, duration_s, score,
           night_share, speeding_share, start_lat, start_lon, end_lat, end_lon, version, doc)
         VALUES (@tripId, @tenantId, @vehicleId, @deviceId, @driverId, @policyId, @status, @startMs, @endMs, @distanceM, @durationS, @score,
           @nightShare, @speedingShare, @startLat, @startLon, @endLat, @endLon, @version, @doc)`,
      ),
      update: this.db.prepare(
        `UPDATE trips SET driver_id = @driverId, policy_id = @policyId, status = @status, start_ms = @startMs, end_ms = @endMs, distance_m = @distanceM, duration_s = @durationS,
           score = @score, night_share = @nightShare, speeding_share = @speedingShare, start_lat = @startLat, start_lon = @startLon,
           end_lat = @endLat, end_lon = @endLon, version = @version, doc = @doc WHERE id = @id`,
      ),
      deleteEventBoxes: this.db.prepare('DELETE FROM events_at WHERE id IN (SELECT id FROM trip_events WHERE trip_id = ?)'),
      deleteEvents: this.db.prepare('DELETE FROM trip_events WHERE trip_id = ?'),
      insertEvent: this.db.prepare('INSERT INTO trip_events (trip_id, tenant_id, type, severity, start_ms, doc) VALUES (?, ?, ?, ?, ?, ?)'),
      upsertEnd: this.db.prepare('INSERT OR REPLACE INTO trip_ends VALUES (?, ?, ?, ?, ?)'),
      insertEventBox: this.db.prepare('INSERT INTO events_at VALUES (?, ?, ?, ?, ?)'),
      // Piece ids are the trip's row id times PIECE_ID_STRIDE plus the piece's index, numbered from 0: an
      // R*Tree finds a row fast only by rowid equality (by the auxiliary trip_id, or a rowid range, it scans).
      deletePiece: this.db.prepare('DELETE FROM track_pieces WHERE id = ?'),
      insertPiece: this.db.prepare('INSERT INTO track_pieces (id, west, east, south, north, trip_id, start_ms, end_ms, points) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)'),
      deletePlaces: this.db.prepare('DELETE FROM trips_places WHERE rowid = ?'),
      insertPlaces: this.db.prepare('INSERT INTO trips_places (rowid, places) VALUES (?, ?)'),
      position: this.db.prepare('SELECT seq, written_at_ms FROM sync_position WHERE id = 1'),
      setPosition: this.db.prepare('INSERT OR REPLACE INTO sync_position VALUES (1, ?, ?)'),
      trip: this.db.prepare('SELECT doc FROM trips WHERE tenant_id = ? AND trip_id = ?'),
    };
  }

  async apply(changes: TripChange[], tracks?: ReadonlyMap<string, TrackPoint[]>): Promise<void> {
    const last = changes[changes.length - 1];
    if (!last) return;
    // IMMEDIATE: take the write lock first, so a second writer (a reindex beside sync) waits for it instead of failing.
    this.db.transaction(() => {
      for (const change of changes) this.upsert(change, tracks?.get(change.tripId));
      this.stmt.setPosition.run(last.seq, last.writtenAtMs);
    }).immediate();
  }

  async position(): Promise<{ seq: number; writtenAtMs: number }> {
    const row = this.stmt.position.get() as { seq: number; written_at_ms: number } | undefined;
    return { seq: row?.seq ?? 0, writtenAtMs: row?.written_at_ms ?? 0 };
  }

  async searchTrips(query: TripQuery): Promise<TripPage> {
    const { where, params } = tripFilter(query);
    const sort = query.sort ?? 'startMs';
    const order = query.order ?? 'desc';
    const expr = SORT_EXPRESSIONS[sort];
    const after = query.cursor ? decodeTripCursor(query.cursor) : null;
    if (after && after.sort === `${sort}:${order}`) {
      const cmp = order === 'desc' ? '<' : '>';
      where.push(`(${expr} ${cmp} @afterValue OR (${expr} = @afterValue AND trip_id ${cmp} @afterTripId))`);
      params.afterValue = after.value;
      params.afterTripId = after.tripId;
    }
    params.limit = query.limit + 1;
    const rows = this.db
      .prepare(`SELECT doc, ${expr} AS sort_value FROM trips WHERE ${where.join(' AND ')} ORDER BY ${expr} ${order}, trip_id ${order} LIMIT @limit`)
      .all(params) as Array<{ doc: string; sort_value: number }>;
    const page = rows.slice(0, query.limit);
    const last = page[page.length - 1];
    const trips = page.map((row) => JSON.parse(row.doc) as TripSummary);
    const nextCursor = rows.length > query.limit && last
      ? encodeTripCursor({ sort: `${sort}:${order}`, value: last.sort_value, tripId: trips[trips.length - 1]!.tripId })
      : null;
    return { trips, nextCursor };
  }

  async trip(tenantId: string, tripId: string): Promise<TripSummary | null> {
    const row = this.stmt.trip.get(tenantId, tripId) as { doc: string } | undefined;
    return row ? (JSON.parse(row.doc) as TripSummary) : null;
  }

  async nearTracks(query: NearQuery): Promise<NearHit[]> {
    return nearTracks(this.db, query);
  }

  async searchEvents(query: EventQuery): Promise<EventPage> {
    return searchEvents(this.db, query);
  }

  async groupStats(query: StatsQuery, by: 'vehicle' | 'driver'): Promise<VehicleStats[]> {
    return groupStats(this.db, query, by);
  }

  async fleetStats(query: StatsQuery): Promise<FleetStats> {
    return fleetStats(this.db, query);
  }

  async count(): Promise<number> {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM trips').get() as { n: number }).n;
  }

  async reset(): Promise<void> {
    this.db.exec(`DELETE FROM trips; DELETE FROM trips_places; DELETE FROM trip_events; DELETE FROM events_at;
      DELETE FROM track_pieces; DELETE FROM trip_ends; DELETE FROM sync_position;`);
  }

  async close(): Promise<void> {
    this.db.close();
  }

  private upsert(change: TripChange, track: TrackPoint[] | undefined): void {
    const trip = change.trip;
    const current = this.stmt.current.get(change.tripId) as { id: number; version: number } | undefined;
    if (current && current.version >= change.version) return; // already indexed: replays change nothing
    const movingS = trip.exposure.movingS;
    const row = {
      tripId: trip.tripId, tenantId: trip.tenantId, vehicleId: trip.vehicleId, deviceId: trip.deviceId,
      driverId: trip.driverId ?? null, policyId: trip.policyId ?? null,
      status: trip.status, startMs: trip.startMs, endMs: trip.endMs, distanceM: trip.distanceM,
      durationS: trip.durationS, score: trip.score?.score ?? null,
      nightShare: movingS > 0 ? trip.exposure.nightS / movingS : 0,
      speedingShare: movingS > 0 ? trip.exposure.speedingS / movingS : 0,
      startLat: trip.start.lat, startLon: trip.start.lon, endLat: trip.end.lat, endLon: trip.end.lon,
      version: change.version, doc: JSON.stringify(trip),
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
    this.stmt.deleteEventBoxes.run(id);
    this.stmt.deleteEvents.run(id);
    for (const event of trip.events) {
      const eventId = Number(this.stmt.insertEvent.run(id, trip.tenantId, event.type, SEVERITY_RANK[event.severity], event.startMs, JSON.stringify(event)).lastInsertRowid);
      this.stmt.insertEventBox.run(eventId, event.lon, event.lon, event.lat, event.lat);
    }
    if (track) {
      const firstPieceId = id * PIECE_ID_STRIDE;
      if (current) for (let k = 0; k < PIECE_ID_STRIDE && this.stmt.deletePiece.run(firstPieceId + k).changes > 0; k++);
      trackPieces(track).slice(0, PIECE_ID_STRIDE).forEach((piece, k) => {
        this.stmt.insertPiece.run(firstPieceId + k, piece.west, piece.east, piece.south, piece.north, id, piece.startMs, piece.endMs, piece.points);
      });
    }
    this.stmt.upsertEnd.run(id * 2, trip.start.lon, trip.start.lon, trip.start.lat, trip.start.lat);
    this.stmt.upsertEnd.run(id * 2 + 1, trip.end.lon, trip.end.lon, trip.end.lat, trip.end.lat);
  }
}

/** Place text indexed for full-text search. */
function placesOf(trip: TripSummary): string {
  return [trip.startPlace, trip.endPlace].filter(Boolean).join(' ');
}
