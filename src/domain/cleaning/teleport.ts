/**
 * Implied-speed jumps ("teleports"), judged in timestamp order against the last accepted fix.
 * A single wild fix is rejected. But when the anchor itself was the wild one, every later fix looks
 * like a jump; so after a run of `teleportRunToReanchor` consecutive jumps the next fix is accepted
 * and becomes the anchor. Simple by design: the rejected run is not revisited.
 */
import { haversineM } from '../geo.js';
import type { TelemetryPoint } from '../point.js';
import type { CleaningConfig } from './cleaningConfig.js';

export interface TeleportState {
  anchor: { tsMs: number; lat: number; lon: number } | null;
  /** Consecutive jumps rejected since the anchor was set. */
  run: number;
}

export function initialTeleportState(): TeleportState {
  return { anchor: null, run: 0 };
}

export function judgeTeleport(
  state: TeleportState,
  point: TelemetryPoint,
  config: CleaningConfig,
): { state: TeleportState; teleport: boolean } {
  if (state.anchor && isJump(state.anchor, point, config) && state.run < config.teleportRunToReanchor) {
    return { state: { anchor: state.anchor, run: state.run + 1 }, teleport: true };
  }
  return { state: { anchor: { tsMs: point.tsMs, lat: point.lat, lon: point.lon }, run: 0 }, teleport: false };
}

function isJump(anchor: NonNullable<TeleportState['anchor']>, point: TelemetryPoint, config: CleaningConfig): boolean {
  const dtS = (point.tsMs - anchor.tsMs) / 1000;
  if (dtS <= 0 || dtS > config.teleportMaxGapS) return false;
  return haversineM(anchor.lat, anchor.lon, point.lat, point.lon) / dtS > config.maxImpliedSpeedMps;
}
