/**
 * Shared machinery of harsh braking and harsh acceleration: one axis (vehicle x), opposite signs.
 * Each has its own file and state; this only avoids writing the same 40 lines twice.
 */
import type { HarshConfig } from './detectorConfig.js';
import type { DrivingEvent } from './drivingEvent.js';
import { advanceEpisode, flushEpisode, type Episode, type OverSample } from './episode.js';
import type { Detector, EventPoint } from './eventPoint.js';
import { longitudinalSignal, prevSampleOf, reaches, type PrevSample } from './signals.js';

export interface LongitudinalState {
  prev: PrevSample | null;
  open: Episode | null;
}

export function longitudinalDetector(type: 'harsh_braking' | 'harsh_acceleration'): Detector<LongitudinalState, HarshConfig> {
  const sign = type === 'harsh_braking' ? -1 : 1;
  return {
    initial: () => ({ prev: null, open: null }),

    step(state, point, config) {
      const signal = longitudinalSignal(point, state.prev, config.maxDeriveGapS);
      let sample: OverSample | null = null;
      if (signal && reaches(sign * signal.valueMps2, config.thresholdMps2) && fastEnough(point, config)) {
        sample = { tsMs: point.tsMs, lat: point.lat, lon: point.lon, magnitude: Math.abs(signal.valueMps2), source: signal.source };
      }
      const rule = { type, peakUnit: 'mps2' as const, joinGapS: config.joinGapS, severity: config.severityMps2 };
      const { open, closed } = advanceEpisode(state.open, point.tsMs, sample, rule);
      return { state: { prev: prevSampleOf(point), open }, events: closed };
    },

    flush: (state): DrivingEvent[] => flushEpisode(state.open),
  };
}

/** Speed gate; an unknown speed passes only when there is no gate. */
export function fastEnough(point: EventPoint, config: { minSpeedMps: number }): boolean {
  return config.minSpeedMps <= 0 || (point.speedMps !== undefined && point.speedMps >= config.minSpeedMps);
}
