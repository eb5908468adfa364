/**
 * Reads an OpenStreetMap `maxspeed` value into m/s. OSM tags a number in km/h by default
 * ("50"), a number with a unit ("30 mph", "10 knots"), or an implicit limit by country and road
 * kind ("BE:urban", "RU:rural", "DE:zone30", "GB:nsl_single"). Values without a fixed limit
 * ("none", "signals", "variable") give null, so the caller falls back to the road-type default.
 */

const MPH_TO_KMH = 1.609344;
const KNOT_TO_KMH = 1.852;

/**
 * Implicit limits in km/h, as commonly listed for OSM's "COUNTRY:kind" values (national codes;
 * configurable). Keys are "CC:kind" or a bare "kind" used for any country not listed.
 * Where a code has several values we keep the higher one (see roadTypeDefaults.ts for why).
 */
export const DEFAULT_IMPLICIT_MAXSPEEDS_KMH: Readonly<Record<string, number>> = {
  urban: 50,
  rural: 90,
  trunk: 100,
  motorway: 120,
  living_street: 20,
  walk: 7,
  'BE:rural': 90,
  'BE-VLG:rural': 70,
  'BE-BRU:urban': 30,
  'DE:rural': 100,
  'DE:living_street': 7,
  'DE:bicycle_road': 30,
  'FR:rural': 80,
  'FR:trunk': 110,
  'FR:motorway': 130,
  'NL:rural': 80,
  'NL:motorway': 130,
  'AT:rural': 100,
  'AT:motorway': 130,
  'CH:rural': 80,
  'CH:motorway': 120,
  'IT:trunk': 110,
  'IT:motorway': 130,
  'LU:motorway': 130,
  'RU:urban': 60,
  'RU:motorway': 110,
  'GB:urban': 30 * MPH_TO_KMH,
  'GB:nsl_single': 60 * MPH_TO_KMH,
  'GB:nsl_dual': 70 * MPH_TO_KMH,
  'GB:motorway': 70 * MPH_TO_KMH,
};

/** Countries whose zone numbers ("GB:zone20") are in mph. */
const MPH_COUNTRIES = new Set(['GB', 'US', 'LR', 'MM']);

const NUMERIC = /^(\d+(?:\.\d+)?)\s*(km\/h|kmh|kph|mph|knots)?$/;
const IMPLICIT = /^([A-Z]{2})(-[A-Z0-9]+)?:([a-z_:0-9]+)$/;
const ZONE = /^zone:?(\d+)$/;

function parseOneKmh(value: string, implicit: Readonly<Record<string, number>>): number | null {
  const v = value.trim();
  const num = NUMERIC.exec(v.toLowerCase());
  if (num) {
    const n = Number(num[1]);
    const unit = num[2];
    return unit === 'mph' ? n * MPH_TO_KMH : unit === 'knots' ? n * KNOT_TO_KMH : n;
  }
  if (v === 'walk') return implicit.walk ?? null;
  const imp = IMPLICIT.exec(v);
  if (!imp) return null;
  const country = imp[1] ?? '';
  const region = imp[2] ?? '';
  const kind = imp[3] ?? '';
  const known = implicit[`${country}${region}:${kind}`] ?? implicit[`${country}:${kind}`] ?? implicit[kind];
  if (known !== undefined) return known;
  const zone = ZONE.exec(kind);
  if (zone) return Number(zone[1]) * (MPH_COUNTRIES.has(country) ? MPH_TO_KMH : 1);
  return null;
}

/** The limit a `maxspeed` value states, in m/s, or null when it states none we can use. */
export function parseMaxspeedMps(
  raw: string | undefined,
  implicit: Readonly<Record<string, number>> = DEFAULT_IMPLICIT_MAXSPEEDS_KMH,
): number | null {
  if (raw === undefined) return null;
  // "50;30" lists several limits (e.g. by time or vehicle): take the highest, never accuse wrongly.
  let best: number | null = null;
  for (const part of raw.split(';')) {
    const kmh = parseOneKmh(part, implicit);
    if (kmh !== null && kmh > 0 && (best === null || kmh > best)) best = kmh;
  }
  return best === null ? null : best / 3.6;
}
