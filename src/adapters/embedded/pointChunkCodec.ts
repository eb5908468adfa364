import type { TelemetryPoint, Vector3 } from '../../domain/point.js';

/**
 * Points of a chunk as JSON arrays in a fixed column order, several times smaller than
 * objects with keys: [tsMs, lat, lon, speedMps, headingDeg, accuracyM, accel, gyro, ignition, seq, speedLimitMps, phoneUse];
 * the last two are optional, so chunks written before they existed still decode.
 */
type Row = [number, number, number, number | null, number | null, number | null, number[] | null, number[] | null, boolean | null, number | null, (number | null)?, (boolean | null)?];

const vec = (v: Vector3 | undefined): number[] | null => (v ? [v.x, v.y, v.z] : null);
const unvec = (v: number[] | null): Vector3 | undefined => (v ? { x: v[0]!, y: v[1]!, z: v[2]! } : undefined);

export function encodeChunk(points: TelemetryPoint[]): string {
  const rows: Row[] = points.map((p) => [
    p.tsMs, p.lat, p.lon, p.speedMps ?? null, p.headingDeg ?? null, p.accuracyM ?? null,
    vec(p.accelMps2), vec(p.gyroRadps), p.ignition ?? null, p.seq ?? null, p.speedLimitMps ?? null, p.phoneUse ?? null,
  ]);
  return JSON.stringify(rows);
}

export function decodeChunk(json: string): TelemetryPoint[] {
  return (JSON.parse(json) as Row[]).map(([tsMs, lat, lon, speed, heading, accuracy, accel, gyro, ignition, seq, speedLimit, phoneUse]) => {
    const point: TelemetryPoint = { tsMs, lat, lon };
    if (speed !== null) point.speedMps = speed;
    if (heading !== null) point.headingDeg = heading;
    if (accuracy !== null) point.accuracyM = accuracy;
    const accelMps2 = unvec(accel);
    if (accelMps2) point.accelMps2 = accelMps2;
    const gyroRadps = unvec(gyro);
    if (gyroRadps) point.gyroRadps = gyroRadps;
    if (ignition !== null) point.ignition = ignition;
    if (seq !== null) point.seq = seq;
    if (speedLimit != null) point.speedLimitMps = speedLimit;
    if (phoneUse != null) point.phoneUse = phoneUse;
    return point;
  });
}
