/**
 * Which posted speed limit applies at a point. A limit the device sends (read from traffic-sign
 * recognition or its own map) wins because it is the freshest and nearest to the car; then the
 * road's OSM `maxspeed`; then the default of the road's type. No road nearby means no limit:
 * speeding is then not judged at all, rather than judged against a guess.
 */

export type SpeedLimitSource = 'device' | 'osm_maxspeed' | 'road_type_default';

/** What an OSM lookup found at a point (see adapters/enrichment/osmSpeedLimits.ts). */
export interface OsmLimit {
  limitMps: number;
  source: 'osm_maxspeed' | 'road_type_default';
  highway?: string;
  wayId?: number;
}

export interface ChosenSpeedLimit {
  limitMps: number;
  source: SpeedLimitSource;
}

export interface SpeedLimitCandidates {
  /** The limit the device reported with the point, in m/s, if any. */
  deviceLimitMps?: number | null;
  /** The OSM lookup's result, null when no road is near or no extract is loaded. */
  osm?: OsmLimit | null;
}

/** Plausible posted limits: anything outside is a bad value, never a limit (m/s; 5–200 km/h). */
const MIN_LIMIT_MPS = 5 / 3.6;
const MAX_LIMIT_MPS = 200 / 3.6;

function plausible(limitMps: number | null | undefined): limitMps is number {
  return typeof limitMps === 'number' && Number.isFinite(limitMps) && limitMps >= MIN_LIMIT_MPS && limitMps <= MAX_LIMIT_MPS;
}

export function chooseSpeedLimit(candidates: SpeedLimitCandidates): ChosenSpeedLimit | null {
  if (plausible(candidates.deviceLimitMps)) return { limitMps: candidates.deviceLimitMps, source: 'device' };
  const osm = candidates.osm;
  if (osm && plausible(osm.limitMps)) return { limitMps: osm.limitMps, source: osm.source };
  return null;
}
