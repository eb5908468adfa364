import type { DrivingEvent, DrivingEventType } from '../../domain/events/drivingEvent.js';
import type { EventPage, EventQuery, FleetStats, StatsQuery, VehicleStats } from '../../ports/searchIndex.js';
import { decodeTripCursor, encodeTripCursor } from '../../ports/tripCursor.js';
import { SEVERITY_RANK } from './searchSchema.js';
import type { Database } from './sqlite.js';

/** Events, newest first, with their trip and vehicle: by type, severity, vehicle, time and box (hotspots). */
export function searchEvents(db: Database.Database, query: EventQuery): EventPage {
  // The tenant on the event row itself, so the index on (tenant_id, start_ms) drives the search.
  const where = ['e.tenant_id = @tenantId'];
  const params: Record<string, unknown> = { tenantId: query.tenantId, limit: query.limit + 1 };
  if (query.types?.length) {
    where.push(`e.type IN (${query.types.map((_, i) => `@type${i}`).join(', ')})`);
    query.types.forEach((type, i) => (params[`type${i}`] = type));
  }
  if (query.severity) (where.push('e.severity >= @severity'), (params.severity = SEVERITY_RANK[query.severity]));
  if (query.vehicleId) (where.push('t.vehicle_id = @vehicleId'), (params.vehicleId = query.vehicleId));
  if (query.fromMs !== undefined) (where.push('e.start_ms >= @fromMs'), (params.fromMs = query.fromMs));
  if (query.toMs !== undefined) (where.push('e.start_ms <= @toMs'), (params.toMs = query.toMs));
  if (query.bbox) {
    const [west, south, east, north] = query.bbox;
    where.push('e.id IN (SELECT id FROM events_at WHERE west >= @west AND east <= @east AND south >= @south AND north <= @north)');
    Object.assign(params, { west, south, east, north });
  }
  const after = query.cursor ? decodeTripCursor(query.cursor) : null;
  if (after && after.sort === 'event' && after.value !== null) {
    where.push('(e.start_ms < @afterMs OR (e.start_ms = @afterMs AND e.id < @afterId))');
    Object.assign(params, { afterMs: after.value, afterId: Number(after.tripId) });
  }
  const rows = db
    .prepare(
      `SELECT e.id, e.start_ms, e.doc, t.trip_id, t.vehicle_id FROM trip_events e JOIN trips t ON t.id = e.trip_id
       WHERE ${where.join(' AND ')} ORDER BY e.start_ms DESC, e.id DESC LIMIT @limit`,
    )
    .all(params) as Array<{ id: number; start_ms: number; doc: string; trip_id: string; vehicle_id: string }>;
  const page = rows.slice(0, query.limit);
  const last = page[page.length - 1];
  return {
    events: page.map((row) => ({ tripId: row.trip_id, vehicleId: row.vehicle_id, event: JSON.parse(row.doc) as DrivingEvent })),
    nextCursor: rows.length > query.limit && last ? encodeTripCursor({ sort: 'event', value: last.start_ms, tripId: String(last.id) }) : null,
  };
}

function statsFilter(query: StatsQuery): { where: string; params: Record<string, unknown> } {
  const where = ["t.tenant_id = @tenantId", "t.status = 'completed'"];
  const params: Record<string, unknown> = { tenantId: query.tenantId };
  if (query.vehicleId) (where.push('t.vehicle_id = @vehicleId'), (params.vehicleId = query.vehicleId));
  if (query.driverId) (where.push('t.driver_id = @driverId'), (params.driverId = query.driverId));
  if (query.fromMs !== undefined) (where.push('t.start_ms >= @fromMs'), (params.fromMs = query.fromMs));
  if (query.toMs !== undefined) (where.push('t.start_ms <= @toMs'), (params.toMs = query.toMs));
  return { where: where.join(' AND '), params };
}

/** Per vehicle or driver: trips, distance, distance-weighted mean score and events per 100 km, of completed trips. */
export function groupStats(db: Database.Database, query: StatsQuery, by: 'vehicle' | 'driver'): VehicleStats[] {
  const { where, params } = statsFilter(query);
  const column = by === 'vehicle' ? 't.vehicle_id' : 't.driver_id';
  const rows = db
    .prepare(
      `SELECT ${column} AS id, COUNT(*) AS trips, SUM(t.distance_m) AS distanceM,
         SUM(t.score * t.distance_m) / NULLIF(SUM(CASE WHEN t.score IS NOT NULL THEN t.distance_m END), 0) AS meanScore,
         SUM((SELECT COUNT(*) FROM trip_events e WHERE e.trip_id = t.id)) AS events
       FROM trips t WHERE ${where} AND ${column} IS NOT NULL GROUP BY ${column} ORDER BY ${column}`,
    )
    .all(params) as Array<Omit<VehicleStats, 'eventsPer100Km'>>;
  return rows.map((row) => ({ ...row, eventsPer100Km: row.distanceM > 0 ? (row.events / row.distanceM) * 100_000 : null }));
}

/** Fleet figures: a score histogram, events by type and kilometres per day. */
export function fleetStats(db: Database.Database, query: StatsQuery): FleetStats {
  const { where, params } = statsFilter(query);
  const totals = db.prepare(`SELECT COUNT(*) AS trips, COALESCE(SUM(t.distance_m), 0) AS distanceM FROM trips t WHERE ${where}`).get(params) as { trips: number; distanceM: number };
  const bands = db
    .prepare(`SELECT MIN(CAST(t.score / 10 AS INTEGER), 9) AS band, COUNT(*) AS trips FROM trips t WHERE ${where} AND t.score IS NOT NULL GROUP BY band`)
    .all(params) as Array<{ band: number; trips: number }>;
  const scoreHistogram = Array.from({ length: 10 }, (_, band) => ({ from: band * 10, to: band * 10 + 10, trips: bands.find((b) => b.band === band)?.trips ?? 0 }));
  const byType = db
    .prepare(`SELECT e.type, COUNT(*) AS n FROM trip_events e JOIN trips t ON t.id = e.trip_id WHERE ${where} GROUP BY e.type`)
    .all(params) as Array<{ type: DrivingEventType; n: number }>;
  const days = db
    .prepare(`SELECT date(t.start_ms / 1000, 'unixepoch') AS day, SUM(t.distance_m) / 1000.0 AS km FROM trips t WHERE ${where} GROUP BY day ORDER BY day`)
    .all(params) as Array<{ day: string; km: number }>;
  return { ...totals, scoreHistogram, eventsByType: Object.fromEntries(byType.map((row) => [row.type, row.n])), kmPerDay: days };
}
