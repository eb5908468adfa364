/**
 * The physical signals the harsh detectors threshold: from the accelerometer when the point has
 * one, else differentiated from the previous point's speed and heading.
 */
import type { EventPoint } from './eventPoint.js';

/** What a detector keeps of the previous point to differentiate (JSON-serialisable). */
export interface PrevSample {
  tsMs: number;
  speedMps?: number;
  headingDeg?: number;
}

export interface Signal {
  /** Signed value, m/s²: x forward, y left (vehicle frame, as TelemetryPoint.accelMps2). */
  valueMps2: number;
  source: 'accelerometer' | 'speed' | 'heading';
}

export function prevSampleOf(point: EventPoint): PrevSample {
  const sample: PrevSample = { tsMs: point.tsMs };
  if (point.speedMps !== undefined) sample.speedMps = point.speedMps;
  if (point.headingDeg !== undefined) sample.headingDeg = point.headingDeg;
  return sample;
}

/** Seconds since prev, if it is recent enough to differentiate over. */
function deriveGapS(point: EventPoint, prev: PrevSample | null, maxDeriveGapS: number): number | null {
  if (!prev) return null;
  const dtS = (point.tsMs - prev.tsMs) / 1000;
  return dtS > 0 && dtS <= maxDeriveGapS ? dtS : null;
}

/** Longitudinal acceleration: accelerometer x, else speed change per second. */
export function longitudinalSignal(point: EventPoint, prev: PrevSample | null, maxDeriveGapS: number): Signal | null {
  if (point.accelMps2) return { valueMps2: point.accelMps2.x, source: 'accelerometer' };
  const dtS = deriveGapS(point, prev, maxDeriveGapS);
  if (dtS === null || point.speedMps === undefined || prev?.speedMps === undefined) return null;
  return { valueMps2: (point.speedMps - prev.speedMps) / dtS, source: 'speed' };
}

/** Signed heading change from a to b, degrees in (-180, 180]; positive = clockwise (a right turn). */
export function headingChangeDeg(fromDeg: number, toDeg: number): number {
  const d = (((toDeg - fromDeg) % 360) + 360) % 360;
  return d > 180 ? d - 360 : d;
}

/** Heading change since prev, degrees, when both points carry a heading and are close in time. */
export function turnSinceDeg(point: EventPoint, prev: PrevSample | null, maxDeriveGapS: number): number | null {
  const dtS = deriveGapS(point, prev, maxDeriveGapS);
  if (dtS === null || point.headingDeg === undefined || prev?.headingDeg === undefined) return null;
  return headingChangeDeg(prev.headingDeg, point.headingDeg);
}

/**
 * Lateral acceleration: accelerometer y, else speed × yaw rate, the yaw rate being the heading
 * change per second. Heading turns clockwise and y points left, hence the minus sign.
 */
export function lateralSignal(point: EventPoint, prev: PrevSample | null, maxDeriveGapS: number): Signal | null {
  if (point.accelMps2) return { valueMps2: point.accelMps2.y, source: 'accelerometer' };
  const turnDeg = turnSinceDeg(point, prev, maxDeriveGapS);
  if (turnDeg === null || point.speedMps === undefined || prev?.speedMps === undefined) return null;
  const dtS = (point.tsMs - prev.tsMs) / 1000;
  const yawRadps = -((turnDeg * Math.PI) / 180) / dtS;
  return { valueMps2: ((point.speedMps + prev.speedMps) / 2) * yawRadps, source: 'heading' };
}

/**
 * Threshold comparison tolerant of float noise: the nds logger prints g to 3 decimals, and a row
 * printed as exactly 0.350 g must count as reaching a 0.35 g threshold.
 */
export function reaches(magnitude: number, threshold: number): boolean {
  return magnitude >= threshold - 1e-9;
}
