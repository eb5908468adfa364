import type { Episode } from '../events/episode.js';

/** Thresholds of the risk alerts raised on the live stream (not at trip end). */
export interface AlertConfig {
  sustainedSpeeding: {
    enabled: boolean;
    /** How long the speeding episode must have lasted, from its first sample over the margin. */
    minDurationS: number;
    /** How far over the limit its peak must be, km/h. */
    minOverKmh: number;
  };
}

export const DEFAULT_ALERT_CONFIG: AlertConfig = {
  // A minute at 30 km/h over: well past the 10 s that make a speeding event, and the band where
  // many jurisdictions treat speeding as reckless (e.g. 20 mph ≈ 32 km/h over in Virginia).
  sustainedSpeeding: { enabled: true, minDurationS: 60, minOverKmh: 30 },
};

/**
 * Whether the speeding episode open after this point meets the sustained-speeding condition for
 * the first time: it did not before this point (the same episode, or none), it does now. Pure, so
 * a replay raises the alert on the same point again (and its stable id deduplicates it).
 */
export function sustainedSpeedingReached(before: Episode | null, after: Episode | null, config: AlertConfig['sustainedSpeeding']): boolean {
  if (!config.enabled || !after) return false;
  const meets = (episode: Episode | null): boolean =>
    episode !== null &&
    (episode.event.endMs - episode.event.startMs) / 1000 >= config.minDurationS - 1e-9 &&
    episode.event.peak * 3.6 >= config.minOverKmh - 1e-9;
  const sameEpisode = before !== null && before.event.startMs === after.event.startMs;
  return meets(after) && !(sameEpisode && meets(before));
}
