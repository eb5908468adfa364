/**
 * Crash / impact: a horizontal acceleration spike far beyond driving (default 4 g) followed by the
 * car stopping within a few seconds. Emitted on the point that confirms it, never held to trip end,
 * so the alert can go out at once. A spike without an observed stop is not reported (flush drops it):
 * the stop is what tells an impact from a pothole or a dropped phone.
 */
import type { CrashConfig } from './detectorConfig.js';
import type { DrivingEvent } from './drivingEvent.js';
import type { Detector } from './eventPoint.js';
import { reaches } from './signals.js';

interface Spike {
  tsMs: number;
  lat: number;
  lon: number;
  peakMps2: number;
}

export interface CrashState {
  /** The unconfirmed spike, waiting for the stop. */
  spike: Spike | null;
  /** End of the last confirmed crash: later spikes within the cooldown belong to it. */
  lastCrashMs: number | null;
}

export const crash: Detector<CrashState, CrashConfig> = {
  initial: () => ({ spike: null, lastCrashMs: null }),

  step(state, point, config) {
    let spike = state.spike;
    if (spike && point.tsMs - spike.tsMs > config.confirmWithinS * 1000) spike = null; // drove on: not a crash
    const horizontalMps2 = point.accelMps2 ? Math.hypot(point.accelMps2.x, point.accelMps2.y) : 0;
    const coolingDown = state.lastCrashMs !== null && point.tsMs - state.lastCrashMs < config.cooldownS * 1000;
    if (!coolingDown && reaches(horizontalMps2, config.thresholdMps2)) {
      // Later, bigger spikes of the same impact raise the peak but keep the first time and place.
      spike = spike
        ? { ...spike, peakMps2: Math.max(spike.peakMps2, horizontalMps2) }
        : { tsMs: point.tsMs, lat: point.lat, lon: point.lon, peakMps2: horizontalMps2 };
    }
    if (spike && point.speedMps !== undefined && point.speedMps < config.stopSpeedMps) {
      const event: DrivingEvent = {
        type: 'crash',
        startMs: spike.tsMs,
        endMs: point.tsMs,
        lat: spike.lat,
        lon: spike.lon,
        peak: spike.peakMps2,
        peakUnit: 'mps2',
        severity: 'high',
        source: 'accelerometer',
        details: { stopAfterS: (point.tsMs - spike.tsMs) / 1000 },
      };
      return { state: { spike: null, lastCrashMs: point.tsMs }, events: [event] };
    }
    return { state: { spike, lastCrashMs: state.lastCrashMs }, events: [] };
  },

  flush: () => [],
};
