import type { TripQuery } from '../../ports/searchIndex.js';
import { SEVERITY_RANK } from '../embedded/searchSchema.js';
import type { SearchTables } from './pgSearchSchema.js';
import { prefixTsQuery } from './placeWords.js';

/** Positional parameters of one statement: each value added gives back its placeholder, so no value is ever spliced into SQL. */
export class SqlParams {
  readonly values: unknown[] = [];

  add(value: unknown): string {
    // PostgreSQL text cannot hold NUL, so nothing stored has one: such a value (from a URL, say) becomes
    // NULL, which equals nothing, instead of failing the query.
    this.values.push(typeof value === 'string' && value.includes('\0') ? null : value);
    return `$${this.values.length}`;
  }
}

/** The point of a radius query, on the spheroid. */
export const geographyPoint = (params: SqlParams, lat: number, lon: number): string =>
  `ST_SetSRID(ST_MakePoint(${params.add(lon)}::float8, ${params.add(lat)}::float8), 4326)::geography`;

/** The WHERE conditions of a trip query over `trips`, always scoped to the tenant. */
export function tripFilter(query: TripQuery, t: SearchTables, params: SqlParams): string[] {
  const p = (value: unknown) => params.add(value);
  const where = [`trips.tenant_id = ${p(query.tenantId)}`];
  if (query.vehicleId !== undefined) where.push(`trips.vehicle_id = ${p(query.vehicleId)}`);
  if (query.driverId !== undefined) where.push(`trips.driver_id = ${p(query.driverId)}`);
  if (query.policyId !== undefined) where.push(`trips.policy_id = ${p(query.policyId)}`);
  if (query.fromMs !== undefined) where.push(`trips.end_ms >= ${p(query.fromMs)}::float8`);
  if (query.toMs !== undefined) where.push(`trips.start_ms <= ${p(query.toMs)}::float8`);
  if (query.status !== undefined) where.push(`trips.status = ${p(query.status)}`);
  const ranges = { distanceM: 'distance_m', durationS: 'duration_s', score: 'score', nightShare: 'night_share', speedingShare: 'speeding_share' } as const;
  for (const [key, column] of Object.entries(ranges) as Array<[keyof typeof ranges, string]>) {
    const range = query[key];
    // A trip without a score yet (NULL) never matches a score range.
    if (range?.min !== undefined) where.push(`trips.${column} >= ${p(range.min)}::float8`);
    if (range?.max !== undefined) where.push(`trips.${column} <= ${p(range.max)}::float8`);
  }
  if (query.events) {
    const types = query.events.types ?? [];
    const ofType = types.length > 0 ? `AND e.type = ANY(${p(types)}::text[])` : '';
    const minSeverity = query.events.severity ? SEVERITY_RANK[query.events.severity] : 1;
    where.push(
      `(SELECT count(*) FROM ${t.events} e WHERE e.trip_id = trips.trip_id ${ofType} AND e.severity >= ${p(minSeverity)}::smallint) >= ${p(query.events.minEvents ?? 1)}::bigint`,
    );
  }
  const tsQuery = prefixTsQuery(query.placeText);
  if (tsQuery) where.push(`trips.places @@ ${p(tsQuery)}::tsquery`); // GIN
  if (query.bbox) {
    const [west, south, east, north] = query.bbox;
    // The envelope's edges and corners count as inside, as in SQLite.
    where.push(`ST_Intersects(trips.ends, ST_MakeEnvelope(${p(west)}::float8, ${p(south)}::float8, ${p(east)}::float8, ${p(north)}::float8, 4326))`);
  }
  if (query.endsNear) {
    const { lat, lon, radiusM } = query.endsNear;
    // The same expression as the geography GiST index, so the index answers; metres on the spheroid.
    where.push(`ST_DWithin(trips.ends::geography, ${geographyPoint(params, lat, lon)}, ${p(radiusM)}::float8)`);
  }
  return where;
}
