import type { DrivingEvent } from '../../domain/events/drivingEvent.js';
import type { TripSummary } from '../../domain/trip.js';
import type { TrackPoint } from '../../ports/searchIndex.js';
import type { TripChange } from '../../ports/writeStore.js';
import { SEVERITY_RANK } from '../embedded/searchSchema.js';
import { piecePoint, pieceSlices } from '../embedded/trackPieces.js';
import { placeWords } from './placeWords.js';
import type { PoolClient } from './pool.js';
import type { SearchTables } from './pgSearchSchema.js';

/**
 * Writes one batch of changes inside the caller's transaction, a few statements whatever its size:
 * each statement takes all its rows as one JSON array (json_to_recordset), not one round trip per row.
 */
export async function writeChanges(client: PoolClient, t: SearchTables, changes: TripChange[], tracks: ReadonlyMap<string, TrackPoint[]> | undefined): Promise<void> {
  const last = changes[changes.length - 1];
  if (!last) return;
  const latest = latestPerTrip(changes);
  const upserted = await client.query<{ trip_id: string }>(upsertTripsSql(t), [JSON.stringify(latest.map(({ version, trip }) => tripRow(trip, version)))]);
  const tripIds = upserted.rows.map((row) => row.trip_id);
  if (tripIds.length > 0) {
    const written = new Set(tripIds);
    const trips = latest.filter((change) => written.has(change.tripId)).map((change) => change.trip);
    await client.query(`DELETE FROM ${t.events} WHERE trip_id = ANY($1)`, [tripIds]);
    const events = trips.flatMap((trip) => trip.events.map((event) => eventRow(trip, event)));
    if (events.length > 0) await client.query(insertEventsSql(t), [JSON.stringify(events)]);
    // A new track replaces the old pieces; without one (an active trip, say) the old pieces stay, as in SQLite.
    const tracked = tripIds.filter((tripId) => tracks?.has(tripId));
    if (tracked.length > 0) {
      await client.query(`DELETE FROM ${t.pieces} WHERE trip_id = ANY($1)`, [tracked]);
      const pieces = tracked.flatMap((tripId) => pieceRows(tripId, tracks!.get(tripId)!));
      if (pieces.length > 0) await client.query(insertPiecesSql(t), [JSON.stringify(pieces)]);
    }
  }
  await client.query(
    `INSERT INTO ${t.position} (id, seq, written_at_ms) VALUES (1, $1, $2) ON CONFLICT (id) DO UPDATE SET seq = GREATEST(${t.position}.seq, EXCLUDED.seq), written_at_ms = EXCLUDED.written_at_ms`,
    [last.seq, last.writtenAtMs],
  );
}

/**
 * The newest version of each trip in the batch (the first of equal versions, as replays change nothing),
 * in trip id order: concurrent writers (sync beside a reindex) then lock rows in the same order and never deadlock.
 */
function latestPerTrip(changes: TripChange[]): TripChange[] {
  const latest = new Map<string, TripChange>();
  for (const change of changes) {
    const current = latest.get(change.tripId);
    if (!current || change.version > current.version) latest.set(change.tripId, change);
  }
  return [...latest.values()].sort((a, b) => (a.tripId < b.tripId ? -1 : a.tripId > b.tripId ? 1 : 0));
}

function tripRow(trip: TripSummary, version: number) {
  const movingS = trip.exposure.movingS;
  return {
    trip_id: trip.tripId, tenant_id: trip.tenantId, vehicle_id: trip.vehicleId, device_id: trip.deviceId,
    driver_id: trip.driverId ?? null, policy_id: trip.policyId ?? null, status: trip.status,
    start_ms: trip.startMs, end_ms: trip.endMs, distance_m: trip.distanceM, duration_s: trip.durationS, score: trip.score?.score ?? null,
    night_share: movingS > 0 ? trip.exposure.nightS / movingS : 0,
    speeding_share: movingS > 0 ? trip.exposure.speedingS / movingS : 0,
    start_lat: trip.start.lat, start_lon: trip.start.lon, end_lat: trip.end.lat, end_lon: trip.end.lon,
    places: [...placeWords(trip.startPlace), ...placeWords(trip.endPlace)], version, doc: trip,
  };
}

function eventRow(trip: TripSummary, event: DrivingEvent) {
  return {
    trip_id: trip.tripId, tenant_id: trip.tenantId, type: event.type, severity: SEVERITY_RANK[event.severity],
    start_ms: event.startMs, lat: event.lat, lon: event.lon, doc: event,
  };
}

/** The embedded store's pieces (20 points sharing their ends), each with its path for the GiST index. */
function pieceRows(tripId: string, track: TrackPoint[]) {
  const usable = track.filter((p) => Number.isFinite(p.tsMs) && Number.isFinite(p.lat) && Number.isFinite(p.lon));
  return pieceSlices(usable).map((part, index) => {
    const points = part.map(piecePoint);
    const coordinates = points.map(([, lat, lon]) => `${lon} ${lat}`);
    const times = points.map(([tsMs]) => tsMs);
    return {
      trip_id: tripId, piece: index, from_ms: Math.min(...times), to_ms: Math.max(...times), points,
      wkt: coordinates.length === 1 ? `POINT(${coordinates[0]})` : `LINESTRING(${coordinates.join(',')})`,
    };
  });
}

const upsertTripsSql = (t: SearchTables) => `
  INSERT INTO ${t.trips} AS cur (trip_id, tenant_id, vehicle_id, device_id, driver_id, policy_id, status, start_ms, end_ms,
    distance_m, duration_s, score, night_share, speeding_share, ends, places, version, doc)
  SELECT trip_id, tenant_id, vehicle_id, device_id, driver_id, policy_id, status, start_ms, end_ms,
    distance_m, duration_s, score, night_share, speeding_share,
    ST_Collect(ST_SetSRID(ST_MakePoint(start_lon, start_lat), 4326), ST_SetSRID(ST_MakePoint(end_lon, end_lat), 4326)),
    array_to_tsvector(places), version, doc
  FROM json_to_recordset($1::json) AS r(trip_id text, tenant_id text, vehicle_id text, device_id text, driver_id text, policy_id text,
    status text, start_ms float8, end_ms float8, distance_m float8, duration_s float8, score float8, night_share float8,
    speeding_share float8, start_lat float8, start_lon float8, end_lat float8, end_lon float8, places text[], version bigint, doc json)
  ON CONFLICT (trip_id) DO UPDATE SET tenant_id = EXCLUDED.tenant_id, vehicle_id = EXCLUDED.vehicle_id, device_id = EXCLUDED.device_id,
    driver_id = EXCLUDED.driver_id, policy_id = EXCLUDED.policy_id, status = EXCLUDED.status, start_ms = EXCLUDED.start_ms,
    end_ms = EXCLUDED.end_ms, distance_m = EXCLUDED.distance_m, duration_s = EXCLUDED.duration_s, score = EXCLUDED.score,
    night_share = EXCLUDED.night_share, speeding_share = EXCLUDED.speeding_share, ends = EXCLUDED.ends, places = EXCLUDED.places,
    version = EXCLUDED.version, doc = EXCLUDED.doc
  WHERE cur.version < EXCLUDED.version -- an older version or a replay changes nothing
  RETURNING trip_id`;

const insertEventsSql = (t: SearchTables) => `
  INSERT INTO ${t.events} (trip_id, tenant_id, type, severity, start_ms, at, doc)
  SELECT trip_id, tenant_id, type, severity, start_ms, ST_SetSRID(ST_MakePoint(lon, lat), 4326), doc
  FROM json_to_recordset($1::json) AS r(trip_id text, tenant_id text, type text, severity smallint, start_ms float8, lat float8, lon float8, doc json)`;

const insertPiecesSql = (t: SearchTables) => `
  INSERT INTO ${t.pieces} (trip_id, piece, span, path, points)
  SELECT trip_id, piece, int8range(floor(from_ms)::bigint, ceil(to_ms)::bigint, '[]'), ST_GeogFromText(wkt), points
  FROM json_to_recordset($1::json) AS r(trip_id text, piece integer, from_ms float8, to_ms float8, wkt text, points json)`;
