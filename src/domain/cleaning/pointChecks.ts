/**
 * Checks that judge one point on its own, before it meets the others. Pure: the arrival time is
 * passed in. Order matters only for which single reason a point is counted under: the first that fails.
 */
import type { TelemetryPoint } from '../point.js';
import type { CleaningConfig, CleaningReason } from './cleaningConfig.js';

export function checkPoint(point: TelemetryPoint, receivedAtMs: number, config: CleaningConfig): CleaningReason | null {
  if (!isValid(point)) return 'invalid';
  if (Math.abs(point.lat) < config.nullIslandEpsDeg && Math.abs(point.lon) < config.nullIslandEpsDeg) return 'null_island';
  if (point.tsMs > receivedAtMs + config.maxFutureS * 1000) return 'future';
  if (config.maxPastS > 0 && point.tsMs < receivedAtMs - config.maxPastS * 1000) return 'past';
  if (point.accuracyM !== undefined && point.accuracyM > config.maxAccuracyM) return 'poor_accuracy';
  return null;
}

/** Finite time and a position on the globe; ingest validates too, but the domain trusts no caller. */
function isValid(point: TelemetryPoint): boolean {
  return (
    Number.isFinite(point.tsMs) &&
    Number.isFinite(point.lat) &&
    Number.isFinite(point.lon) &&
    Math.abs(point.lat) <= 90 &&
    Math.abs(point.lon) <= 180
  );
}
