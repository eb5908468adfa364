import type { NearHit, NearQuery, TrackPoint } from '../../ports/searchIndex.js';
import type { Database } from './sqlite.js';

const M_PER_DEG = 111_320;
const POINTS_PER_PIECE = 20;
/** Room for 2^20 pieces (20 million points) per trip; row ids stay below 2^53 for 2^33 trips. */
export const PIECE_ID_STRIDE = 2 ** 20;

export interface TrackPiece {
  west: number;
  east: number;
  south: number;
  north: number;
  startMs: number;
  endMs: number;
  /** JSON [[tsMs, lat, lon], ...] */
  points: string;
}

/** Cuts a track into short pieces that share their end points, so no segment falls between two pieces. */
export function trackPieces(track: TrackPoint[]): TrackPiece[] {
  return pieceSlices(track).map((part) => ({
    west: Math.min(...part.map((p) => p.lon)),
    east: Math.max(...part.map((p) => p.lon)),
    south: Math.min(...part.map((p) => p.lat)),
    north: Math.max(...part.map((p) => p.lat)),
    startMs: part[0]!.tsMs,
    endMs: part[part.length - 1]!.tsMs,
    points: JSON.stringify(part.map(piecePoint)),
  }));
}

/** The points of each piece (see trackPieces), as they are; a store keeps them as piecePoint. */
export function pieceSlices(track: TrackPoint[]): TrackPoint[][] {
  const slices: TrackPoint[][] = [];
  for (let i = 0; i < track.length; i += POINTS_PER_PIECE - 1) {
    const part = track.slice(i, i + POINTS_PER_PIECE);
    if (part.length === 0 || (part.length === 1 && i > 0)) break;
    slices.push(part);
  }
  return slices;
}

/** A track point as pieces store it: [tsMs, lat, lon], to the 6th decimal (11 cm). */
export const piecePoint = (p: TrackPoint): PiecePoint => [p.tsMs, round6(p.lat), round6(p.lon)];

/**
 * Which trips passed within radiusM of a point during [fromMs, toMs]: the R*Tree finds pieces whose
 * box and time span come near, then each segment is measured exactly (positions interpolated in time,
 * clipped to the window), and each trip keeps its closest approach.
 */
export function nearTracks(db: Database.Database, query: NearQuery): NearHit[] {
  const dLat = query.radiusM / M_PER_DEG;
  const dLon = query.radiusM / (M_PER_DEG * Math.max(0.01, Math.cos((query.lat * Math.PI) / 180)));
  const rows = db
    .prepare(
      `SELECT t.trip_id AS tripId, t.vehicle_id AS vehicleId, p.points AS points FROM track_pieces p JOIN trips t ON t.id = p.trip_id
       WHERE p.west <= @east AND p.east >= @west AND p.south <= @north AND p.north >= @south
         AND p.start_ms <= @toMs AND p.end_ms >= @fromMs AND t.tenant_id = @tenantId`,
    )
    .all({ east: query.lon + dLon, west: query.lon - dLon, north: query.lat + dLat, south: query.lat - dLat, toMs: query.toMs, fromMs: query.fromMs, tenantId: query.tenantId }) as Array<{
    tripId: string;
    vehicleId: string;
    points: string;
  }>;
  return closestApproaches(rows.map((row) => ({ ...row, points: JSON.parse(row.points) as PiecePoint[] })), query);
}

/** [tsMs, lat, lon], as pieces keep their points. */
export type PiecePoint = [number, number, number];

/**
 * Each trip's closest approach among candidate pieces, measured exactly segment by segment (shared by
 * the search stores, so they answer alike): within the radius and window only, nearest first.
 */
export function closestApproaches(pieces: Array<{ tripId: string; vehicleId: string; points: PiecePoint[] }>, query: NearQuery): NearHit[] {
  const best = new Map<string, NearHit>();
  for (const { tripId, vehicleId, points } of pieces) {
    for (let i = 0; i < points.length; i++) {
      const a = points[i]!;
      const b = points[Math.min(i + 1, points.length - 1)]!;
      const hit = closestOnSegment(a, b, query);
      if (!hit || hit.distanceM > query.radiusM) continue;
      const current = best.get(tripId);
      if (!current || hit.distanceM < current.distanceM) best.set(tripId, { tripId, vehicleId, ...hit });
    }
  }
  return [...best.values()].sort((x, y) => x.distanceM - y.distanceM || x.tripId.localeCompare(y.tripId)).slice(0, query.limit);
}

/** The closest point of segment a→b to the query point, within the time window, on a local flat projection (fine over a few km). */
function closestOnSegment(a: PiecePoint, b: PiecePoint, q: NearQuery): Omit<NearHit, 'tripId' | 'vehicleId'> | null {
  const [t0, lat0, lon0] = a;
  const [t1, lat1, lon1] = b;
  const span = t1 - t0;
  const fromT = span > 0 ? Math.max(0, (q.fromMs - t0) / span) : t0 >= q.fromMs && t0 <= q.toMs ? 0 : 1;
  const toT = span > 0 ? Math.min(1, (q.toMs - t0) / span) : fromT;
  if (span <= 0 && (t0 < q.fromMs || t0 > q.toMs)) return null;
  if (fromT > toT) return null;
  const cosLat = Math.cos((q.lat * Math.PI) / 180);
  const ax = (lon0 - q.lon) * cosLat * M_PER_DEG;
  const ay = (lat0 - q.lat) * M_PER_DEG;
  const bx = (lon1 - q.lon) * cosLat * M_PER_DEG;
  const by = (lat1 - q.lat) * M_PER_DEG;
  const dx = bx - ax;
  const dy = by - ay;
  const lengthSq = dx * dx + dy * dy;
  const projected = lengthSq > 0 ? -(ax * dx + ay * dy) / lengthSq : 0;
  const t = Math.min(toT, Math.max(fromT, projected));
  const x = ax + t * dx;
  const y = ay + t * dy;
  return {
    closestMs: Math.round(t0 + t * span),
    distanceM: Math.hypot(x, y),
    lat: lat0 + t * (lat1 - lat0),
    lon: lon0 + t * (lon1 - lon0),
  };
}

const round6 = (value: number): number => Math.round(value * 1e6) / 1e6;
