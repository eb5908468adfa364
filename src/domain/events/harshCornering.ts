/**
 * Harsh cornering: lateral acceleration at or above the threshold. From the accelerometer's y when
 * the point has one; else speed × yaw rate from the heading change, where the published definition
 * (issue 3: ≈ 0.36 g through more than 30° above 11 mph) also asks for the turn, because a derived
 * lateral value from one noisy GPS heading step is not a corner on its own.
 */
import type { CorneringConfig } from './detectorConfig.js';
import { advanceEpisode, flushEpisode, type Episode, type OverSample } from './episode.js';
import type { Detector } from './eventPoint.js';
import { fastEnough } from './longitudinalDetector.js';
import { lateralSignal, prevSampleOf, reaches, turnSinceDeg, type PrevSample } from './signals.js';

export interface HarshCorneringState {
  prev: PrevSample | null;
  open: Episode | null;
}

export const harshCornering: Detector<HarshCorneringState, CorneringConfig> = {
  initial: () => ({ prev: null, open: null }),

  step(state, point, config) {
    const signal = lateralSignal(point, state.prev, config.maxDeriveGapS);
    const threshold = signal?.source === 'heading' ? config.derivedThresholdMps2 : config.thresholdMps2;
    let sample: OverSample | null = null;
    if (signal && reaches(Math.abs(signal.valueMps2), threshold) && fastEnough(point, config)) {
      sample = { tsMs: point.tsMs, lat: point.lat, lon: point.lon, magnitude: Math.abs(signal.valueMps2), source: signal.source };
      const turnDeg = turnSinceDeg(point, state.prev, config.maxDeriveGapS);
      if (turnDeg !== null) sample.turnDeg = turnDeg;
    }
    const rule = {
      type: 'harsh_cornering' as const,
      peakUnit: 'mps2' as const,
      joinGapS: config.joinGapS,
      severity: config.severityMps2,
      // The turn is checked only where the lateral value itself came from the heading.
      qualifies: (episode: Episode) => episode.event.source !== 'heading' || Math.abs(episode.turnDeg) > config.minTurnDeg,
    };
    const { open, closed } = advanceEpisode(state.open, point.tsMs, sample, rule);
    return { state: { prev: prevSampleOf(point), open }, events: closed };
  },

  flush: (state) => flushEpisode(state.open),
};
