/**
 * Reader of the nds naturalistic-driving CSV (test/fixtures/nds/README.md): 1 Hz rows of a real
 * black-box logger, turned into TelemetryPoints so real data can be replayed and used as test truth.
 * The file has no quoted fields (checked: no '"' anywhere), so a plain split on ',' is exact.
 */
import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import type { TelemetryPoint, Vector3 } from '../domain/point.js';

const MPH_TO_MPS = 0.44704;
const G_TO_MPS2 = 9.80665;
const DEG_TO_RAD = Math.PI / 180;
/**
 * The logger reports HDOP, not an accuracy in metres. HDOP × ~5 m (a typical user-range error)
 * is the usual rough conversion; it is an approximation, good enough for a fix-quality filter.
 */
const HDOP_TO_ACCURACY_M = 5;

export type NdsEventCategory = 'low' | 'med' | 'high';

export interface NdsRow {
  drive: number;
  point: TelemetryPoint;
  /** Id of the device-flagged harsh event this row belongs to, numbered within its drive (ids restart per drive). */
  accelEventId?: number;
  accelEventCat?: NdsEventCategory;
  cumulativeDriveDistMi: number;
}

/** Reads a .csv or .csv.gz file; gzip is recognised by its magic bytes, not the name. */
export async function readNdsCsv(file: string | URL): Promise<NdsRow[]> {
  const bytes = await readFile(file);
  const text = bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes).toString('utf8') : bytes.toString('utf8');
  return parseNdsCsv(text);
}

/** Parses the CSV text (header row first) into rows in file order; seq is the row index. */
export function parseNdsCsv(text: string): NdsRow[] {
  const lines = text.split(/\r?\n/);
  const header = (lines[0] ?? '').split(',');
  const index = new Map(header.map((name, i) => [name, i]));
  const column = (name: string): number => {
    const i = index.get(name);
    if (i === undefined) throw new Error(`nds CSV: missing column ${name}`);
    return i;
  };
  const col = {
    drive: column('drive'),
    time: column('time_utc'),
    lat: column('gps_lat'),
    lon: column('gps_long'),
    heading: column('gps_heading_raw'),
    hdop: column('gps_hdop'),
    speed: column('speed_mph'),
    accel: [column('accel_x'), column('accel_y'), column('accel_z')] as const,
    gyro: [column('gyro_x'), column('gyro_y'), column('gyro_z')] as const,
    eventId: column('accel_event'),
    eventCat: column('accel_event_cat'),
    cumDist: column('cumulative_drive_dist_mi'),
  };

  const rows: NdsRow[] = [];
  for (let lineNo = 1; lineNo < lines.length; lineNo++) {
    const line = lines[lineNo]!;
    if (line === '') continue;
    const cells = line.split(',');
    if (cells.length !== header.length) throw new Error(`nds CSV line ${lineNo + 1}: ${cells.length} fields, expected ${header.length}`);
    // Empty and "NA" cells are missing values (one row has no IMU data at all).
    const num = (i: number): number | undefined => {
      const cell = cells[i];
      return cell === undefined || cell === '' || cell === 'NA' ? undefined : Number(cell);
    };
    const vector = (cols: readonly [number, number, number], scale: number): Vector3 | undefined => {
      const [x, y, z] = cols.map(num);
      return x === undefined || y === undefined || z === undefined ? undefined : { x: x * scale, y: y * scale, z: z * scale };
    };

    const tsMs = Date.parse(cells[col.time] ?? '');
    const lat = num(col.lat);
    const lon = num(col.lon);
    const drive = num(col.drive);
    if (Number.isNaN(tsMs) || lat === undefined || lon === undefined || drive === undefined) {
      throw new Error(`nds CSV line ${lineNo + 1}: missing time, position or drive`);
    }
    // No ignition: the logger does not record it; a drive's bounds come from the data gaps.
    const point: TelemetryPoint = { tsMs, lat, lon, seq: rows.length };
    const speedMph = num(col.speed);
    if (speedMph !== undefined) point.speedMps = speedMph * MPH_TO_MPS;
    const headingDeg = num(col.heading);
    if (headingDeg !== undefined) point.headingDeg = ((headingDeg % 360) + 360) % 360;
    const hdop = num(col.hdop);
    if (hdop !== undefined) point.accuracyM = hdop * HDOP_TO_ACCURACY_M;
    const accel = vector(col.accel, G_TO_MPS2);
    if (accel) point.accelMps2 = accel;
    const gyro = vector(col.gyro, DEG_TO_RAD);
    if (gyro) point.gyroRadps = gyro;

    const row: NdsRow = { drive, point, cumulativeDriveDistMi: num(col.cumDist) ?? 0 };
    const eventId = num(col.eventId);
    if (eventId !== undefined) row.accelEventId = eventId;
    const cat = cells[col.eventCat];
    if (cat === 'low' || cat === 'med' || cat === 'high') row.accelEventCat = cat;
    rows.push(row);
  }
  return rows;
}
