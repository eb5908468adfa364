import type { TripSummary } from '../../domain/trip.js';
import type {
  EventPage, EventQuery, FleetStats, NearHit, NearQuery, SearchIndex, StatsQuery, TrackPoint, TripPage, TripQuery, VehicleStats,
} from '../../ports/searchIndex.js';
import { decodeTripCursor, encodeTripCursor } from '../../ports/tripCursor.js';
import type { TripChange } from '../../ports/writeStore.js';
import { SORT_EXPRESSIONS } from '../embedded/searchSchema.js';
import { closestApproaches, type PiecePoint } from '../embedded/trackPieces.js';
import { fleetStats, groupStats, searchEvents } from './pgSearchAnalytics.js';
import { migrate, searchTables, type SearchTables } from './pgSearchSchema.js';
import { writeChanges } from './pgSearchWrites.js';
import { geographyPoint, SqlParams, tripFilter } from './pgTripFilters.js';
import { inTransaction, openWithPool, type Pool } from './pool.js';

export interface PgSearchIndexOptions {
  /** The PostgreSQL schema of the store's tables, so it can share a database with the write store (default `tripline_search`). */
  schema?: string;
  /** Connections of the pool (default 10). */
  poolSize?: number;
}

/**
 * The candidate pieces are found by the GiST index with a radius a little wider than asked, because
 * the exact measure (shared with the embedded store) is a local flat projection, which differs from
 * PostGIS's spheroid by up to about 1% (measured: 50 km away at 79° of latitude).
 */
const CANDIDATE_RADIUS_FACTOR = 1.1;
const CANDIDATE_RADIUS_EXTRA_M = 10;

/** Milliseconds within bigint's range, for the time spans of track pieces. */
const wholeMs = (ms: number): number => Math.min(Number.MAX_SAFE_INTEGER, Math.max(Number.MIN_SAFE_INTEGER, ms));

/** Opens the PostgreSQL/PostGIS search store at `url`, creating its schema if needed. */
export async function openPgSearchIndex(url: string, options: PgSearchIndexOptions = {}): Promise<PgSearchIndex> {
  const tables = searchTables(options.schema ?? 'tripline_search');
  return openWithPool(url, options.poolSize ?? 10, async (pool) => {
    await migrate(pool, tables);
    return new PgSearchIndex(pool, tables);
  });
}

/**
 * The cluster's search store: trip documents with indexed columns for filters and keyset sorting,
 * a GIN index over place words (tsvector), GiST indexes over trip ends, events and track pieces
 * (PostGIS geometry and geography). It answers exactly as the embedded SQLite store does.
 */
export class PgSearchIndex implements SearchIndex {
  constructor(
    private readonly pool: Pool,
    private readonly t: SearchTables,
  ) {}

  async apply(changes: TripChange[], tracks?: ReadonlyMap<string, TrackPoint[]>): Promise<void> {
    if (changes.length === 0) return;
    await inTransaction(this.pool, (client) => writeChanges(client, this.t, changes, tracks));
  }

  async position(): Promise<{ seq: number; writtenAtMs: number }> {
    const { rows } = await this.pool.query<{ seq: number; written_at_ms: number }>(`SELECT seq, written_at_ms FROM ${this.t.position} WHERE id = 1`);
    return { seq: rows[0]?.seq ?? 0, writtenAtMs: rows[0]?.written_at_ms ?? 0 };
  }

  async searchTrips(query: TripQuery): Promise<TripPage> {
    const params = new SqlParams();
    const where = tripFilter(query, this.t, params);
    const sort = query.sort ?? 'startMs';
    const order = query.order ?? 'desc';
    const expr = SORT_EXPRESSIONS[sort];
    const after = query.cursor ? decodeTripCursor(query.cursor) : null;
    // A cursor of another sort or order is ignored (the API refuses it before it gets here), as in SQLite.
    if (after && after.sort === `${sort}:${order}`) {
      // A row comparison, which the (tenant_id, sort key, trip_id) indexes answer directly.
      where.push(`(${expr}, trip_id) ${order === 'desc' ? '<' : '>'} (${params.add(after.value)}::float8, ${params.add(after.tripId)})`);
    }
    const { rows } = await this.pool.query<{ doc: TripSummary; sort_value: number }>(
      `SELECT doc, ${expr} AS sort_value FROM ${this.t.trips} trips WHERE ${where.join(' AND ')}
       ORDER BY ${expr} ${order}, trip_id ${order} LIMIT ${params.add(query.limit + 1)}`,
      params.values,
    );
    const page = rows.slice(0, query.limit);
    const last = page[page.length - 1];
    const nextCursor = rows.length > query.limit && last
      ? encodeTripCursor({ sort: `${sort}:${order}`, value: last.sort_value, tripId: last.doc.tripId })
      : null;
    return { trips: page.map((row) => row.doc), nextCursor };
  }

  async trip(tenantId: string, tripId: string): Promise<TripSummary | null> {
    const params = new SqlParams();
    const { rows } = await this.pool.query<{ doc: TripSummary }>(
      `SELECT doc FROM ${this.t.trips} WHERE tenant_id = ${params.add(tenantId)} AND trip_id = ${params.add(tripId)}`,
      params.values,
    );
    return rows[0]?.doc ?? null;
  }

  /**
   * Which trips passed within radiusM of a point during [fromMs, toMs]: the GiST index over each piece's
   * path and time span finds the candidates, then each segment is measured exactly as the embedded store does.
   */
  async nearTracks(query: NearQuery): Promise<NearHit[]> {
    if (!(query.fromMs <= query.toMs)) return [];
    const params = new SqlParams();
    const candidateRadiusM = query.radiusM * CANDIDATE_RADIUS_FACTOR + CANDIDATE_RADIUS_EXTRA_M;
    const { rows } = await this.pool.query<{ tripId: string; vehicleId: string; points: PiecePoint[] }>(
      `SELECT p.trip_id AS "tripId", t.vehicle_id AS "vehicleId", p.points FROM ${this.t.pieces} p JOIN ${this.t.trips} t ON t.trip_id = p.trip_id
       WHERE ST_DWithin(p.path, ${geographyPoint(params, query.lat, query.lon)}, ${params.add(candidateRadiusM)}::float8)
         AND p.span && int8range(${params.add(wholeMs(Math.floor(query.fromMs)))}, ${params.add(wholeMs(Math.ceil(query.toMs)))}, '[]')
         AND t.tenant_id = ${params.add(query.tenantId)}`,
      params.values,
    );
    return closestApproaches(rows, query);
  }

  async searchEvents(query: EventQuery): Promise<EventPage> {
    return searchEvents(this.pool, this.t, query);
  }

  async groupStats(query: StatsQuery, by: 'vehicle' | 'driver'): Promise<VehicleStats[]> {
    return groupStats(this.pool, this.t, query, by);
  }

  async fleetStats(query: StatsQuery): Promise<FleetStats> {
    return fleetStats(this.pool, this.t, query);
  }

  async count(): Promise<number> {
    const { rows } = await this.pool.query<{ n: number }>(`SELECT count(*) AS n FROM ${this.t.trips}`);
    return rows[0]!.n;
  }

  async reset(): Promise<void> {
    await this.pool.query(`TRUNCATE ${this.t.trips}, ${this.t.events}, ${this.t.pieces}, ${this.t.position}`);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
