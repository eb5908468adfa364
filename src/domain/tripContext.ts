import type { TelemetryPoint } from './point.js';
import type { OsmLimit } from './enrichment/speedLimit.js';

/**
 * The lookups trip processing needs from the outside world, injected so the domain stays pure:
 * deterministic functions over data loaded at start (map extract, time-zone and town tables).
 * Any of them may throw; callers treat each as best-effort.
 */
export interface TripContext {
  /** The map's limit at a point (OSM maxspeed or road-type default), null when no road is near or no map is loaded. */
  speedLimitAt(point: TelemetryPoint): OsmLimit | null;
  /** IANA time zone at a position. */
  timeZoneAt(lat: number, lon: number): string;
  /** UTC offset in force in a zone at an instant, minutes east of Greenwich. */
  utcOffsetMinutes(timeZone: string, tsMs: number): number;
  /** The nearest town's name, null when none is near. */
  placeAt(lat: number, lon: number): string | null;
}

/** No enrichment at all: no map, UTC clock, no place names. */
export const NO_ENRICHMENT: TripContext = {
  speedLimitAt: () => null,
  timeZoneAt: () => 'UTC',
  utcOffsetMinutes: () => 0,
  placeAt: () => null,
};

export type Enricher = 'speed_limit' | 'time_zone' | 'place_name';

/** Runs one lookup; a failure is reported to `failed` and yields the fallback, so a trip always completes. */
export function bestEffort<T>(enricher: Enricher, lookup: () => T, fallback: T, failed: (enricher: Enricher) => void): T {
  try {
    return lookup();
  } catch {
    failed(enricher);
    return fallback;
  }
}
