import type { Database } from './sqlite.js';
import type { Severity } from '../../domain/events/drivingEvent.js';
import type { TripQuery, TripSortKey } from '../../ports/searchIndex.js';

/** Bumped whenever the tables change: an older search store is dropped and rebuilt by sync from the outbox. */
const SCHEMA_VERSION = 7;

export function migrate(db: Database.Database): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version !== SCHEMA_VERSION) {
    db.exec(`
      DROP TABLE IF EXISTS trips; DROP TABLE IF EXISTS trips_places; DROP TABLE IF EXISTS trips_extent;
      DROP TABLE IF EXISTS trip_event_counts; DROP TABLE IF EXISTS trip_events; DROP TABLE IF EXISTS events_at;
      DROP TABLE IF EXISTS track_pieces; DROP TABLE IF EXISTS trip_ends; DROP TABLE IF EXISTS sync_position;
    `);
  }
  db.exec(`
    CREATE TABLE IF NOT EXISTS trips (
      id INTEGER PRIMARY KEY, trip_id TEXT NOT NULL UNIQUE, tenant_id TEXT NOT NULL, vehicle_id TEXT NOT NULL,
      device_id TEXT NOT NULL, driver_id TEXT, policy_id TEXT, status TEXT NOT NULL, start_ms INTEGER NOT NULL, end_ms INTEGER NOT NULL,
      distance_m REAL NOT NULL, duration_s REAL NOT NULL, score REAL, night_share REAL NOT NULL, speeding_share REAL NOT NULL,
      start_lat REAL NOT NULL, start_lon REAL NOT NULL, end_lat REAL NOT NULL, end_lon REAL NOT NULL,
      version INTEGER NOT NULL, doc TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS trips_by_time ON trips (tenant_id, start_ms, trip_id);
    CREATE INDEX IF NOT EXISTS trips_by_vehicle ON trips (tenant_id, vehicle_id, start_ms, trip_id);
    CREATE INDEX IF NOT EXISTS trips_by_driver ON trips (tenant_id, driver_id, start_ms, trip_id);
    CREATE INDEX IF NOT EXISTS trips_by_policy ON trips (tenant_id, policy_id, start_ms, trip_id);
    -- The same expression as the score sort, so ORDER BY walks the index instead of sorting.
    CREATE INDEX IF NOT EXISTS trips_by_score ON trips (tenant_id, COALESCE(score, -1), trip_id);
    CREATE INDEX IF NOT EXISTS trips_by_distance ON trips (tenant_id, distance_m, trip_id);
    CREATE TABLE IF NOT EXISTS trip_events (
      id INTEGER PRIMARY KEY, trip_id INTEGER NOT NULL, tenant_id TEXT NOT NULL, type TEXT NOT NULL, severity INTEGER NOT NULL,
      start_ms INTEGER NOT NULL, doc TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS trip_events_by_trip ON trip_events (trip_id, type, severity);
    -- Event searches start from the tenant's events in time order, not from all its trips.
    CREATE INDEX IF NOT EXISTS trip_events_by_time ON trip_events (tenant_id, start_ms, id);
    CREATE INDEX IF NOT EXISTS trip_events_by_type ON trip_events (tenant_id, type, start_ms, id);
    -- Start (id = trip row id × 2) and end (× 2 + 1) positions, for "started or ended in this box".
    CREATE VIRTUAL TABLE IF NOT EXISTS trip_ends USING rtree (id, west, east, south, north);
    CREATE VIRTUAL TABLE IF NOT EXISTS events_at USING rtree (id, west, east, south, north);
    -- Pieces of each completed trip's track: a box, a time span and the points, for "who passed near here".
    CREATE VIRTUAL TABLE IF NOT EXISTS track_pieces USING rtree (id, west, east, south, north, +trip_id INTEGER, +start_ms INTEGER, +end_ms INTEGER, +points TEXT);
    CREATE VIRTUAL TABLE IF NOT EXISTS trips_places USING fts5 (places, content='', contentless_delete=1);
    CREATE TABLE IF NOT EXISTS sync_position (id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER NOT NULL, written_at_ms INTEGER NOT NULL);
  `);
  db.pragma(`user_version = ${SCHEMA_VERSION}`);
}

export const SEVERITY_RANK: Record<Severity, number> = { low: 1, medium: 2, high: 3 };

/** Sort keys as SQL; a trip without a score yet sorts as -1, so keyset paging never meets NULL. */
export const SORT_EXPRESSIONS: Record<TripSortKey, string> = {
  startMs: 'start_ms',
  distanceM: 'distance_m',
  durationS: 'duration_s',
  score: 'COALESCE(score, -1)',
  nightShare: 'night_share',
  speedingShare: 'speeding_share',
};

/** The WHERE clause of a trip query, always scoped to the tenant. */
export function tripFilter(query: TripQuery): { where: string[]; params: Record<string, unknown> } {
  const where = ['tenant_id = @tenantId'];
  const params: Record<string, unknown> = { tenantId: query.tenantId };
  const add = (clause: string, values: Record<string, unknown>): void => {
    where.push(clause);
    Object.assign(params, values);
  };
  if (query.vehicleId !== undefined) add('vehicle_id = @vehicleId', { vehicleId: query.vehicleId });
  if (query.driverId !== undefined) add('driver_id = @driverId', { driverId: query.driverId });
  if (query.policyId !== undefined) add('policy_id = @policyId', { policyId: query.policyId });
  if (query.fromMs !== undefined) add('end_ms >= @fromMs', { fromMs: query.fromMs });
  if (query.toMs !== undefined) add('start_ms <= @toMs', { toMs: query.toMs });
  if (query.status !== undefined) add('status = @status', { status: query.status });
  const ranges = { distanceM: 'distance_m', durationS: 'duration_s', score: 'score', nightShare: 'night_share', speedingShare: 'speeding_share' } as const;
  for (const [key, column] of Object.entries(ranges) as Array<[keyof typeof ranges, string]>) {
    const range = query[key];
    if (range?.min !== undefined) add(`${column} >= @${key}Min`, { [`${key}Min`]: range.min });
    if (range?.max !== undefined) add(`${column} <= @${key}Max`, { [`${key}Max`]: range.max });
  }
  if (query.events) {
    const types = query.events.types ?? [];
    const typeParams = Object.fromEntries(types.map((type, i) => [`eventType${i}`, type]));
    const typeClause = types.length > 0 ? `AND e.type IN (${types.map((_, i) => `@eventType${i}`).join(', ')})` : '';
    add(
      `(SELECT COUNT(*) FROM trip_events e WHERE e.trip_id = trips.id ${typeClause} AND e.severity >= @minSeverity) >= @minEvents`,
      { ...typeParams, minSeverity: query.events.severity ? SEVERITY_RANK[query.events.severity] : 1, minEvents: query.events.minEvents ?? 1 },
    );
  }
  const fts = ftsPrefixQuery(query.placeText);
  if (fts) add('id IN (SELECT rowid FROM trips_places WHERE trips_places MATCH @fts)', { fts });
  if (query.bbox) {
    const [west, south, east, north] = query.bbox;
    add('id IN (SELECT id >> 1 FROM trip_ends WHERE west >= @west AND east <= @east AND south >= @south AND north <= @north)', { west, south, east, north });
  }
  if (query.endsNear) {
    // The R*Tree narrows to a box; the exact test is plain arithmetic on a local flat projection (no trig in SQL).
    const { lat, lon, radiusM } = query.endsNear;
    const ky = 111_320;
    const kx = ky * Math.max(0.01, Math.cos((lat * Math.PI) / 180));
    const near = (prefix: 'start' | 'end') =>
      `((${prefix}_lon - @nearLon) * @kx * (${prefix}_lon - @nearLon) * @kx + (${prefix}_lat - @nearLat) * @ky * (${prefix}_lat - @nearLat) * @ky <= @r2)`;
    add(
      `id IN (SELECT id >> 1 FROM trip_ends WHERE west >= @nearWest AND east <= @nearEast AND south >= @nearSouth AND north <= @nearNorth) AND (${near('start')} OR ${near('end')})`,
      { nearLat: lat, nearLon: lon, kx, ky, r2: radiusM * radiusM, nearWest: lon - radiusM / kx, nearEast: lon + radiusM / kx, nearSouth: lat - radiusM / ky, nearNorth: lat + radiusM / ky },
    );
  }
  return { where, params };
}

/** Words of user text as an FTS5 query of quoted prefixes: no operator or quote of the user's reaches FTS5. */
function ftsPrefixQuery(text: string | undefined): string | null {
  const words = (text ?? '').match(/[\p{L}\p{N}]+/gu) ?? [];
  return words.length > 0 ? words.map((word) => `"${word}"*`).join(' ') : null;
}
