/**
 * Posted speed limits from an OpenStreetMap extract the user supplies (e.g. a region from
 * Geofabrik, converted to XML with `osmium cat region.osm.pbf -o region.osm`, and best clipped to
 * the insured area: see docs/scoring.md). Every drivable `highway=*` way gets its `maxspeed`
 * (per direction when `maxspeed:forward/backward` is tagged), else its road type's default.
 */
import { readOsmXml } from './osmXmlReader.js';
import { SegmentIndex } from './segmentIndex.js';
import { parseMaxspeedMps, DEFAULT_IMPLICIT_MAXSPEEDS_KMH } from '../../domain/enrichment/maxspeed.js';
import {
  DEFAULT_ROAD_TYPE_LIMITS_KMH,
  isDrivableHighway,
  roadTypeDefaultLimitMps,
  type RoadTypeLimitsKmh,
} from '../../domain/enrichment/roadTypeDefaults.js';
import type { OsmLimit } from '../../domain/enrichment/speedLimit.js';

export interface OsmLimitAt extends OsmLimit {
  highway: string;
  wayId: number;
  distanceM: number;
}

export interface SpeedLimitIndex {
  /** The limit of the nearest drivable way within maxDistanceM, preferring ways along headingDeg. */
  limitAt(lat: number, lon: number, headingDeg?: number): OsmLimitAt | null;
  stats: { nodes: number; ways: number; pieces: number; loadMs: number };
}

export interface SpeedLimitOptions {
  roadTypeLimitsKmh?: RoadTypeLimitsKmh;
  implicitMaxspeedsKmh?: Readonly<Record<string, number>>;
  /** A position further than this from every way lies on no known road (GPS error is ~5–15 m). */
  maxDistanceM?: number;
  /** A way counts as "along the heading" within this angle, in either direction of travel. */
  headingToleranceDeg?: number;
}

interface WayLimits {
  wayId: number;
  highway: string;
  forward: { limitMps: number; source: OsmLimit['source'] };
  backward: { limitMps: number; source: OsmLimit['source'] };
}

/** Smallest angle between two bearings, 0–180°. */
function angleDiffDeg(a: number, b: number): number {
  return Math.abs((((a - b) % 360) + 540) % 360 - 180);
}

export async function loadSpeedLimits(file: string, options: SpeedLimitOptions = {}): Promise<SpeedLimitIndex> {
  const started = performance.now();
  const roadLimits = options.roadTypeLimitsKmh ?? DEFAULT_ROAD_TYPE_LIMITS_KMH;
  const implicit = options.implicitMaxspeedsKmh ?? DEFAULT_IMPLICIT_MAXSPEEDS_KMH;
  const maxDistanceM = options.maxDistanceM ?? 25;
  const toleranceDeg = options.headingToleranceDeg ?? 45;

  const extract = await readOsmXml(
    file,
    (tags) => tags.highway !== undefined && tags.area !== 'yes' && isDrivableHighway(tags.highway, roadLimits),
  );

  const ways: WayLimits[] = [];
  const tracks: Array<Array<{ lat: number; lon: number }>> = [];
  let pieces = 0;
  for (const way of extract.ways) {
    const highway = way.tags.highway ?? '';
    const fallback = roadTypeDefaultLimitMps(highway, roadLimits) ?? 0;
    const both = parseMaxspeedMps(way.tags.maxspeed, implicit);
    const limit = (directed: string | undefined) => {
      const mps = parseMaxspeedMps(directed, implicit) ?? both;
      return mps === null ? { limitMps: fallback, source: 'road_type_default' as const } : { limitMps: mps, source: 'osm_maxspeed' as const };
    };
    const track = way.refs.map((ref) => extract.nodePosition(ref)).filter((p) => p !== undefined);
    if (track.length < 2) continue;
    ways.push({ wayId: way.id, highway, forward: limit(way.tags['maxspeed:forward']), backward: limit(way.tags['maxspeed:backward']) });
    tracks.push(track);
    for (let i = 1; i < track.length; i++) {
      const a = track[i - 1]!;
      const b = track[i]!;
      pieces += SegmentIndex.piecesOf(a.lat, a.lon, b.lat, b.lon);
    }
  }

  const index = new SegmentIndex(pieces);
  tracks.forEach((track, w) => {
    for (let i = 1; i < track.length; i++) {
      const a = track[i - 1]!;
      const b = track[i]!;
      index.addSegment(w, a.lat, a.lon, b.lat, b.lon);
    }
  });
  index.finish();

  return {
    stats: { nodes: extract.nodeCount, ways: ways.length, pieces: index.pieceCount, loadMs: Math.round(performance.now() - started) },
    limitAt(lat, lon, headingDeg) {
      const hits = index.near(lat, lon, maxDistanceM);
      if (hits.length === 0) return null;
      const hasHeading = headingDeg !== undefined && Number.isFinite(headingDeg);
      // Along the heading either way (a two-way road), so a bridge over a motorway names the bridge.
      const along = hasHeading ? hits.filter((h) => Math.min(angleDiffDeg(h.bearingDeg, headingDeg), 180 - angleDiffDeg(h.bearingDeg, headingDeg)) <= toleranceDeg) : [];
      const pool = along.length > 0 ? along : hits;
      const best = pool.reduce((a, b) => (b.distanceM < a.distanceM ? b : a));
      const way = ways[best.way]!;
      let chosen = way.forward;
      if (hasHeading) {
        if (angleDiffDeg(best.bearingDeg, headingDeg) > 90) chosen = way.backward;
      } else if (way.backward.limitMps > way.forward.limitMps) {
        // Direction unknown: the higher of the two, never a false accusation.
        chosen = way.backward;
      }
      return { ...chosen, highway: way.highway, wayId: way.wayId, distanceM: Math.round(best.distanceM * 10) / 10 };
    },
  };
}
