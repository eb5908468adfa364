/**
 * Speeding against the posted limit, where enrichment or the device supplies one (no limit, no
 * verdict). Issue 3's definition: at least 5 mph over up to a 30 mph limit, 10 mph over from
 * 35 mph, for at least 10 s. The peak is the largest excess over the limit, m/s.
 */
import type { SpeedingConfig } from './detectorConfig.js';
import { advanceEpisode, flushEpisode, type Episode, type OverSample } from './episode.js';
import type { Detector, EventPoint } from './eventPoint.js';

export interface SpeedingState {
  open: Episode | null;
}

/** The margin over `limitMps` that counts as speeding. */
export function speedingMarginMps(limitMps: number, config: SpeedingConfig): number {
  // 0.01 m/s of slack: a 35 mph limit converted from km/h or rounded must still be "from 35 mph".
  return limitMps >= config.highLimitFromMps - 0.01 ? config.highLimitMarginMps : config.lowLimitMarginMps;
}

function overSample(point: EventPoint, config: SpeedingConfig): OverSample | null {
  const limitMps = point.speedLimitMps;
  if (limitMps === undefined || limitMps <= 0 || point.speedMps === undefined) return null;
  const overMps = point.speedMps - limitMps;
  if (overMps < speedingMarginMps(limitMps, config) - 1e-9) return null;
  return {
    tsMs: point.tsMs,
    lat: point.lat,
    lon: point.lon,
    magnitude: overMps,
    source: 'speed',
    details: { limitMps, speedMps: point.speedMps, overMps },
  };
}

export const speeding: Detector<SpeedingState, SpeedingConfig> = {
  initial: () => ({ open: null }),

  step(state, point, config) {
    const rule = {
      type: 'speeding' as const,
      peakUnit: 'mps' as const,
      joinGapS: config.joinGapS,
      severity: config.severityOverMps,
      qualifies: (episode: Episode) => (episode.event.endMs - episode.event.startMs) / 1000 >= config.minDurationS,
    };
    const { open, closed } = advanceEpisode(state.open, point.tsMs, overSample(point, config), rule);
    return { state: { open }, events: closed };
  },

  flush: (state) => flushEpisode(state.open),
};
