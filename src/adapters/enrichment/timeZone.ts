/**
 * Local time zone and UTC offset at a position, offline: geo-tz ships the time-zone boundaries
 * (timezone-boundary-builder, built from OpenStreetMap) and reads only the parts a lookup needs.
 *
 * Costs (measured on this machine, see docs/scoring.md): importing geo-tz ≈ 40 ms and 10 MB;
 * a lookup ≈ 2–3 µs near earlier lookups, ≈ 20 µs in a new region. We also cache per 0.1° cell
 * (≈ 0.1 µs a hit), but only cells whose four corners share one zone, so a hit never crosses a
 * zone border.
 */
import { find, setCache } from 'geo-tz';

/**
 * geo-tz keeps every boundary tile it decodes, forever: ≈ 80 KB a tile, 1.5 GB for the world.
 * A fleet in one region touches a few dozen tiles, so we bound the cache and evict the least
 * recently used (≤ 40 MB).
 */
class LruStore<V> {
  private readonly map = new Map<string, V>();
  constructor(private readonly maxEntries: number) {}
  get(key: string): V | undefined {
    const v = this.map.get(key);
    if (v !== undefined) {
      this.map.delete(key);
      this.map.set(key, v);
    }
    return v;
  }
  set(key: string, value: V): void {
    this.map.delete(key);
    this.map.set(key, value);
    if (this.map.size > this.maxEntries) this.map.delete(this.map.keys().next().value as string);
  }
}
setCache({ store: new LruStore<unknown>(500) });

const CELL_DEG = 0.1;
const MAX_CACHE_ENTRIES = 50_000;
/** Cell → its zone, or null for a cell that a zone border crosses (always looked up exactly). */
const cellCache = new Map<number, string | null>();
const offsetCache = new Map<string, number>();
const formatters = new Map<string, Intl.DateTimeFormat>();

/** Oceans and lookups that fail fall back to the nautical zone of the longitude (Etc/GMT±h). */
function nauticalZone(lon: number): string {
  const h = Math.round(lon / 15);
  if (h === 0) return 'Etc/GMT';
  // POSIX sign convention: Etc/GMT-1 is one hour east of Greenwich.
  return h > 0 ? `Etc/GMT-${h}` : `Etc/GMT+${-h}`;
}

function lookup(lat: number, lon: number): string {
  const clampedLat = Math.max(-90, Math.min(90, lat));
  const wrappedLon = ((((lon + 180) % 360) + 360) % 360) - 180;
  return find(clampedLat, wrappedLon)[0] ?? nauticalZone(wrappedLon);
}

/** The IANA time zone at a WGS84 position, e.g. "Europe/Brussels". */
export function timeZoneAt(lat: number, lon: number): string {
  if (!Number.isFinite(lat) || !Number.isFinite(lon)) throw new RangeError(`no time zone at ${lat},${lon}`);
  const row = Math.floor(lat / CELL_DEG);
  const col = Math.floor(lon / CELL_DEG);
  const key = row * 4000 + col;
  const cached = cellCache.get(key);
  if (cached) return cached;
  if (cached === null) return lookup(lat, lon);
  const s = row * CELL_DEG;
  const w = col * CELL_DEG;
  const corners = [lookup(s, w), lookup(s + CELL_DEG, w), lookup(s, w + CELL_DEG), lookup(s + CELL_DEG, w + CELL_DEG)];
  const uniform = corners.every((z) => z === corners[0]);
  if (cellCache.size >= MAX_CACHE_ENTRIES) cellCache.clear();
  cellCache.set(key, uniform ? (corners[0] ?? null) : null);
  return uniform && corners[0] !== undefined ? corners[0] : lookup(lat, lon);
}

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    // Throws a RangeError for an unknown zone: the caller's enrichment is best-effort and counts it.
    f = new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'longOffset' });
    formatters.set(timeZone, f);
  }
  return f;
}

/** "GMT+05:45" → 345, "GMT" → 0. */
function parseGmtOffset(name: string): number {
  const m = /^GMT(?:([+-])(\d{1,2})(?::(\d{2}))?)?$/.exec(name);
  if (!m || m[1] === undefined) return 0;
  const minutes = Number(m[2]) * 60 + Number(m[3] ?? 0);
  return m[1] === '-' ? -minutes : minutes;
}

/**
 * The UTC offset in force in a zone at an instant, in minutes east of Greenwich (Brussels in
 * winter: 60). Cached per zone and quarter hour of UTC: today's offsets are whole quarter hours
 * and the tz database's transitions since 1972 fall on quarter hours, so a bucket never straddles a change.
 */
export function utcOffsetMinutes(timeZone: string, tsMs: number): number {
  const key = `${timeZone}|${Math.floor(tsMs / 900_000)}`;
  const cached = offsetCache.get(key);
  if (cached !== undefined) return cached;
  const part = formatterFor(timeZone)
    .formatToParts(tsMs)
    .find((p) => p.type === 'timeZoneName');
  const offset = parseGmtOffset(part?.value ?? 'GMT');
  if (offsetCache.size >= MAX_CACHE_ENTRIES) offsetCache.clear();
  offsetCache.set(key, offset);
  return offset;
}
