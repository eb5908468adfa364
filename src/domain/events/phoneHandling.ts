/**
 * Phone handling, when the device reports it (EventPoint.phoneUse): episodes of phoneUse true while
 * moving. The device decides what handling is; this only groups its samples and drops those at
 * rest (handling a phone at a standstill is not a driving risk). Points that do not report phoneUse
 * neither extend nor end an episode by themselves; time does, through joinGapS. Peak = duration, s.
 */
import type { PhoneConfig } from './detectorConfig.js';
import { advanceEpisode, flushEpisode, type Episode, type OverSample } from './episode.js';
import type { Detector } from './eventPoint.js';

export interface PhoneHandlingState {
  open: Episode | null;
}

export const phoneHandling: Detector<PhoneHandlingState, PhoneConfig> = {
  initial: () => ({ open: null }),

  step(state, point, config) {
    if (point.phoneUse === undefined && state.open === null) return { state, events: [] };
    const moving = point.speedMps !== undefined && point.speedMps >= config.movingSpeedMps;
    const sample: OverSample | null =
      point.phoneUse === true && moving ? { tsMs: point.tsMs, lat: point.lat, lon: point.lon, magnitude: 0, source: 'device' } : null;
    // An explicit "not handling" or a stop ends the episode now rather than after the join gap.
    const ends = point.phoneUse === false || (point.phoneUse === true && !moving);
    const rule = {
      type: 'phone_handling' as const,
      peakUnit: 's' as const,
      joinGapS: ends ? 0 : config.joinGapS,
      severity: config.severityDurationS,
      peakIsDuration: true,
      qualifies: (episode: Episode) => (episode.event.endMs - episode.event.startMs) / 1000 >= config.minDurationS,
    };
    const { open, closed } = advanceEpisode(state.open, point.tsMs, sample, rule);
    return { state: { open }, events: closed };
  },

  flush: (state) => flushEpisode(state.open),
};
