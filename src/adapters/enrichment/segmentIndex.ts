/**
 * A static spatial index over road segments: which way a position lies on. Long segments are cut
 * into pieces of at most PIECE_M so that a kd-tree over piece midpoints finds every piece within
 * the search radius (radius + PIECE_M/2 around the query). Pieces are kept in flat typed arrays
 * (≈ 56 bytes each with the tree) so a regional extract's millions of segments stay compact.
 */
import KDBush from 'kdbush';
import { bearingDeg } from '../../domain/geo.js';

const PIECE_M = 50;
const M_PER_DEG_LAT = 111_320;

export interface SegmentHit {
  /** Index of the way (as given to addWay). */
  way: number;
  distanceM: number;
  /** Bearing of the piece in the way's direction (first node → last), degrees from north. */
  bearingDeg: number;
}

export class SegmentIndex {
  private readonly tree: KDBush;
  private readonly coords: Float64Array;
  private readonly wayOf: Uint32Array;
  private count = 0;
  private pieces = 0;

  /** maxPieces: an upper bound of the pieces to come (sum of piecesOf over the segments). */
  constructor(maxPieces: number) {
    this.tree = new KDBush(Math.max(1, maxPieces));
    this.coords = new Float64Array(Math.max(1, maxPieces) * 4);
    this.wayOf = new Uint32Array(Math.max(1, maxPieces));
  }

  /** How many pieces a segment is cut into. */
  static piecesOf(lat1: number, lon1: number, lat2: number, lon2: number): number {
    const dy = (lat2 - lat1) * M_PER_DEG_LAT;
    const dx = (lon2 - lon1) * M_PER_DEG_LAT * Math.cos((((lat1 + lat2) / 2) * Math.PI) / 180);
    return Math.max(1, Math.ceil(Math.hypot(dx, dy) / PIECE_M));
  }

  addSegment(way: number, lat1: number, lon1: number, lat2: number, lon2: number): void {
    const n = SegmentIndex.piecesOf(lat1, lon1, lat2, lon2);
    for (let k = 0; k < n; k++) {
      const aLat = lat1 + ((lat2 - lat1) * k) / n;
      const aLon = lon1 + ((lon2 - lon1) * k) / n;
      const bLat = lat1 + ((lat2 - lat1) * (k + 1)) / n;
      const bLon = lon1 + ((lon2 - lon1) * (k + 1)) / n;
      const i = this.count++;
      this.pieces++;
      this.coords.set([aLat, aLon, bLat, bLon], i * 4);
      this.wayOf[i] = way;
      this.tree.add((aLon + bLon) / 2, (aLat + bLat) / 2);
    }
  }

  finish(): this {
    // KDBush insists on exactly numItems points: pad unused slots far outside the globe.
    while (this.tree.numItems > this.count) {
      this.wayOf[this.count++] = 0xffffffff;
      this.tree.add(1e9, 1e9);
    }
    this.tree.finish();
    return this;
  }

  /** Every piece within radiusM of a position, with its distance (local flat-earth, fine at tens of metres). */
  near(lat: number, lon: number, radiusM: number): SegmentHit[] {
    const cosLat = Math.cos((lat * Math.PI) / 180);
    const reachM = radiusM + PIECE_M / 2;
    const dLat = reachM / M_PER_DEG_LAT;
    const dLon = reachM / (M_PER_DEG_LAT * Math.max(cosLat, 0.01));
    const hits: SegmentHit[] = [];
    for (const i of this.tree.range(lon - dLon, lat - dLat, lon + dLon, lat + dLat)) {
      const way = this.wayOf[i] ?? 0xffffffff;
      if (way === 0xffffffff) continue;
      const c = this.coords.subarray(i * 4, i * 4 + 4);
      const [aLat = 0, aLon = 0, bLat = 0, bLon = 0] = c;
      // Project onto a plane around the query point (metres east/north).
      const ax = (aLon - lon) * M_PER_DEG_LAT * cosLat;
      const ay = (aLat - lat) * M_PER_DEG_LAT;
      const bx = (bLon - lon) * M_PER_DEG_LAT * cosLat;
      const by = (bLat - lat) * M_PER_DEG_LAT;
      const len2 = (bx - ax) ** 2 + (by - ay) ** 2;
      const t = len2 === 0 ? 0 : Math.max(0, Math.min(1, -(ax * (bx - ax) + ay * (by - ay)) / len2));
      const distanceM = Math.hypot(ax + t * (bx - ax), ay + t * (by - ay));
      if (distanceM <= radiusM) hits.push({ way, distanceM, bearingDeg: bearingDeg(aLat, aLon, bLat, bLon) });
    }
    return hits;
  }

  get pieceCount(): number {
    return this.pieces;
  }
}
