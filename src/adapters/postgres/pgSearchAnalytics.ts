import type { DrivingEvent, DrivingEventType } from '../../domain/events/drivingEvent.js';
import type { EventPage, EventQuery, FleetStats, StatsQuery, VehicleStats } from '../../ports/searchIndex.js';
import { decodeTripCursor, encodeTripCursor } from '../../ports/tripCursor.js';
import { SEVERITY_RANK } from '../embedded/searchSchema.js';
import type { SearchTables } from './pgSearchSchema.js';
import { SqlParams } from './pgTripFilters.js';
import type { Pool } from './pool.js';

/** Events, newest first, with their trip and vehicle: by type, severity, vehicle, time and box (hotspots). */
export async function searchEvents(pool: Pool, t: SearchTables, query: EventQuery): Promise<EventPage> {
  const params = new SqlParams();
  const p = (value: unknown) => params.add(value);
  // The tenant on the event row itself, so the index on (tenant_id, start_ms) drives the search.
  const where = [`e.tenant_id = ${p(query.tenantId)}`];
  if (query.types?.length) where.push(`e.type = ANY(${p(query.types)}::text[])`);
  if (query.severity) where.push(`e.severity >= ${p(SEVERITY_RANK[query.severity])}::smallint`);
  if (query.vehicleId) where.push(`t.vehicle_id = ${p(query.vehicleId)}`);
  if (query.fromMs !== undefined) where.push(`e.start_ms >= ${p(query.fromMs)}::float8`);
  if (query.toMs !== undefined) where.push(`e.start_ms <= ${p(query.toMs)}::float8`);
  if (query.bbox) {
    const [west, south, east, north] = query.bbox;
    where.push(`ST_Intersects(e.at, ST_MakeEnvelope(${p(west)}::float8, ${p(south)}::float8, ${p(east)}::float8, ${p(north)}::float8, 4326))`);
  }
  const after = query.cursor ? decodeTripCursor(query.cursor) : null;
  // The cursor carries the last event's row id; one this store never made (not an integer) starts from the top.
  const afterId = Number(after?.tripId);
  if (after?.sort === 'event' && after.value !== null && Number.isSafeInteger(afterId)) {
    where.push(`(e.start_ms, e.id) < (${p(after.value)}::float8, ${p(afterId)}::bigint)`);
  }
  const { rows } = await pool.query<{ id: number; start_ms: number; doc: DrivingEvent; trip_id: string; vehicle_id: string }>(
    `SELECT e.id, e.start_ms, e.doc, t.trip_id, t.vehicle_id FROM ${t.events} e JOIN ${t.trips} t ON t.trip_id = e.trip_id
     WHERE ${where.join(' AND ')} ORDER BY e.start_ms DESC, e.id DESC LIMIT ${p(query.limit + 1)}`,
    params.values,
  );
  const page = rows.slice(0, query.limit);
  const last = page[page.length - 1];
  return {
    events: page.map((row) => ({ tripId: row.trip_id, vehicleId: row.vehicle_id, event: row.doc })),
    nextCursor: rows.length > query.limit && last ? encodeTripCursor({ sort: 'event', value: last.start_ms, tripId: String(last.id) }) : null,
  };
}

/** Completed trips of the tenant in the window, as `t`. */
function statsFilter(query: StatsQuery): { where: string; params: SqlParams } {
  const params = new SqlParams();
  const where = [`t.tenant_id = ${params.add(query.tenantId)}`, "t.status = 'completed'"];
  if (query.vehicleId) where.push(`t.vehicle_id = ${params.add(query.vehicleId)}`);
  if (query.driverId) where.push(`t.driver_id = ${params.add(query.driverId)}`);
  if (query.fromMs !== undefined) where.push(`t.start_ms >= ${params.add(query.fromMs)}::float8`);
  if (query.toMs !== undefined) where.push(`t.start_ms <= ${params.add(query.toMs)}::float8`);
  return { where: where.join(' AND '), params };
}

/** Per vehicle or driver: trips, distance, distance-weighted mean score and events per 100 km, of completed trips. */
export async function groupStats(pool: Pool, t: SearchTables, query: StatsQuery, by: 'vehicle' | 'driver'): Promise<VehicleStats[]> {
  const { where, params } = statsFilter(query);
  const column = by === 'vehicle' ? 't.vehicle_id' : 't.driver_id';
  const { rows } = await pool.query<Omit<VehicleStats, 'eventsPer100Km'>>(
    `SELECT ${column} AS id, count(*) AS trips, sum(t.distance_m) AS "distanceM",
       sum(t.score * t.distance_m) / NULLIF(sum(CASE WHEN t.score IS NOT NULL THEN t.distance_m END), 0) AS "meanScore",
       sum((SELECT count(*) FROM ${t.events} e WHERE e.trip_id = t.trip_id))::bigint AS events
     FROM ${t.trips} t WHERE ${where} AND ${column} IS NOT NULL GROUP BY ${column} ORDER BY ${column}`,
    params.values,
  );
  return rows.map((row) => ({ ...row, eventsPer100Km: row.distanceM > 0 ? (row.events / row.distanceM) * 100_000 : null }));
}

/** Fleet figures: a score histogram, events by type and kilometres per UTC day. */
export async function fleetStats(pool: Pool, t: SearchTables, query: StatsQuery): Promise<FleetStats> {
  const { where, params } = statsFilter(query);
  const [totals, bands, byType, days] = await Promise.all([
    pool.query<{ trips: number; distanceM: number }>(`SELECT count(*) AS trips, COALESCE(sum(t.distance_m), 0) AS "distanceM" FROM ${t.trips} t WHERE ${where}`, params.values),
    pool.query<{ band: number; trips: number }>(
      `SELECT LEAST(floor(t.score / 10), 9)::int AS band, count(*) AS trips FROM ${t.trips} t WHERE ${where} AND t.score IS NOT NULL GROUP BY band`,
      params.values,
    ),
    pool.query<{ type: DrivingEventType; n: number }>(
      `SELECT e.type, count(*) AS n FROM ${t.events} e JOIN ${t.trips} t ON t.trip_id = e.trip_id WHERE ${where} GROUP BY e.type`,
      params.values,
    ),
    pool.query<{ day: string; km: number }>(
      `SELECT to_char(to_timestamp(t.start_ms / 1000) AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, sum(t.distance_m) / 1000 AS km
       FROM ${t.trips} t WHERE ${where} GROUP BY day ORDER BY day`,
      params.values,
    ),
  ]);
  const scoreHistogram = Array.from({ length: 10 }, (_, band) => ({ from: band * 10, to: band * 10 + 10, trips: bands.rows.find((b) => b.band === band)?.trips ?? 0 }));
  return { ...totals.rows[0]!, scoreHistogram, eventsByType: Object.fromEntries(byType.rows.map((row) => [row.type, row.n])), kmPerDay: days.rows };
}
