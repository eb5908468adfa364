/**
 * Default speed limits per OpenStreetMap `highway=*` type, used when a way carries no usable
 * `maxspeed` tag. They are typical European urban/rural defaults (national rules differ: Flanders
 * allows 70 km/h outside built-up areas, Wallonia 90, France 80, Germany 100; many cities such as
 * Brussels and Paris now default to 30 km/h) and are meant to be overridden per deployment.
 *
 * Where a type is ambiguous we take the higher common value, because a default that is too low
 * would accuse a customer of speeding on a road where they were not.
 */
export type RoadTypeLimitsKmh = Readonly<Record<string, number>>;

export const DEFAULT_ROAD_TYPE_LIMITS_KMH: RoadTypeLimitsKmh = {
  motorway: 120,
  motorway_link: 80,
  trunk: 90,
  trunk_link: 70,
  primary: 70,
  primary_link: 50,
  secondary: 70,
  secondary_link: 50,
  tertiary: 50,
  tertiary_link: 50,
  unclassified: 50,
  // 30 in many city centres (zone 30), 50 in most national codes: we take 50 (see above).
  residential: 50,
  road: 50,
  living_street: 20,
  service: 20,
};

/** Highway types a car drives on; others (footway, cycleway, track, construction…) are ignored. */
export function isDrivableHighway(highway: string, limits: RoadTypeLimitsKmh = DEFAULT_ROAD_TYPE_LIMITS_KMH): boolean {
  return Object.hasOwn(limits, highway);
}

/** The default limit of a highway type in m/s, or null for a type we do not drive on. */
export function roadTypeDefaultLimitMps(
  highway: string,
  limits: RoadTypeLimitsKmh = DEFAULT_ROAD_TYPE_LIMITS_KMH,
): number | null {
  const kmh = Object.hasOwn(limits, highway) ? limits[highway] : undefined;
  return kmh === undefined ? null : kmh / 3.6;
}
