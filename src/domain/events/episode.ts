/**
 * The shared shape of threshold detectors: an episode is a run of samples over a threshold, where
 * samples at most `joinGapS` apart join (so a short dip does not split one manoeuvre in two). The
 * event carries the peak, its position and its severity; it is emitted once the episode can no
 * longer be extended, or on flush.
 */
import type { DrivingEvent, DrivingEventType, Severity } from './drivingEvent.js';
import type { SeveritySteps } from './detectorConfig.js';

export interface Episode {
  /** The event as it stands so far. */
  event: DrivingEvent;
  /** Time of the last sample over the threshold. */
  lastOverMs: number;
  /** Heading change summed over the episode's samples, degrees (cornering). */
  turnDeg: number;
  /** Whether it is an event if it ended now: decided while the config is at hand, so flush needs none. */
  qualified: boolean;
}

/** One sample over the threshold. */
export interface OverSample {
  tsMs: number;
  lat: number;
  lon: number;
  /** |value| compared for the peak. */
  magnitude: number;
  source: string;
  turnDeg?: number;
  /** Figures recorded with the peak (e.g. the limit while speeding). */
  details?: Record<string, number>;
}

export interface EpisodeRule {
  type: DrivingEventType;
  peakUnit: DrivingEvent['peakUnit'];
  joinGapS: number;
  severity: SeveritySteps;
  /** The peak is the episode's duration (phone handling), not a sample's magnitude. */
  peakIsDuration?: boolean;
  qualifies?: (episode: Episode) => boolean;
}

export function severityOf(peak: number, steps: SeveritySteps): Severity {
  if (peak >= steps.highAt - 1e-9) return 'high';
  if (peak >= steps.mediumAt - 1e-9) return 'medium';
  return 'low';
}

/**
 * Advances an episode by one point at tsMs: `sample` is the point's over-threshold reading, or null
 * when the point is under the threshold (or has no reading). Returns the events that closed.
 */
export function advanceEpisode(
  open: Episode | null,
  tsMs: number,
  sample: OverSample | null,
  rule: EpisodeRule,
): { open: Episode | null; closed: DrivingEvent[] } {
  const closed: DrivingEvent[] = [];
  let episode = open;
  if (episode) {
    const elapsedMs = tsMs - episode.lastOverMs;
    const joinMs = rule.joinGapS * 1000;
    const joins = sample !== null && elapsedMs <= joinMs;
    // Under the threshold, the episode stays open until no later sample could still join it.
    if (!joins && (sample !== null || elapsedMs >= joinMs)) {
      if (episode.qualified) closed.push(episode.event);
      episode = null;
    }
  }
  if (sample) episode = episode ? extend(episode, sample, rule) : extend(start(sample, rule), sample, rule);
  return { open: episode, closed };
}

export function flushEpisode(open: Episode | null): DrivingEvent[] {
  return open?.qualified ? [open.event] : [];
}

function start(sample: OverSample, rule: EpisodeRule): Episode {
  const event: DrivingEvent = {
    type: rule.type,
    startMs: sample.tsMs,
    endMs: sample.tsMs,
    lat: sample.lat,
    lon: sample.lon,
    peak: -Infinity,
    peakUnit: rule.peakUnit,
    severity: 'low',
    source: sample.source,
  };
  return { event, lastOverMs: sample.tsMs, turnDeg: 0, qualified: false };
}

function extend(prev: Episode, sample: OverSample, rule: EpisodeRule): Episode {
  const event = { ...prev.event, endMs: sample.tsMs };
  const durationS = (event.endMs - event.startMs) / 1000;
  const turnDeg = prev.turnDeg + (sample.turnDeg ?? 0);
  let details = { ...prev.event.details };
  if (rule.peakIsDuration) event.peak = durationS;
  else if (sample.magnitude > event.peak) {
    Object.assign(event, { peak: sample.magnitude, lat: sample.lat, lon: sample.lon, source: sample.source });
    details = { ...details, ...sample.details };
  }
  event.severity = severityOf(event.peak, rule.severity);
  event.details = { ...details, durationS };
  if (rule.type === 'harsh_cornering') event.details.turnDeg = turnDeg;
  const episode: Episode = { event, lastOverMs: sample.tsMs, turnDeg, qualified: true };
  episode.qualified = rule.qualifies ? rule.qualifies(episode) : true;
  return episode;
}
