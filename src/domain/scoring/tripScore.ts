/**
 * The trip score: 100 minus capped penalties for behaviour (harsh events, speeding, phone
 * handling, crash) and exposure (night, rush hour, distance, road mix). Each factor says what it
 * measured, in which unit, and how many points it cost, so the score can be explained line by line.
 */
import { DRIVING_EVENT_TYPES, type DrivingEventType, type Severity } from '../events/drivingEvent.js';
import { DEFAULT_SCORING_CONFIG, type ScoringConfig, type ShareWeights } from './scoringConfig.js';
import { apportionTenths, toTenths } from './apportion.js';

export interface TripScoreInput {
  distanceM: number;
  durationS: number;
  /** Seconds driven at night, local time. */
  nightS: number;
  /** Seconds driven in rush hours, local time. */
  rushHourS: number;
  /** Seconds driven above the posted limit. */
  speedingS: number;
  /** Seconds moving: the base of the speeding share. */
  movingS: number;
  events: ReadonlyArray<{ type: DrivingEventType; severity: Severity }>;
  /** Share of distance per OSM highway type, e.g. { motorway: 0.6, residential: 0.4 }. */
  roadShare?: Readonly<Record<string, number>>;
}

export interface ScoreFactor {
  factor: string;
  group: 'behaviour' | 'exposure';
  value: number;
  unit: string;
  /** Points subtracted from 100, in tenths; all factors' points add up to 100 − score. */
  points: number;
  explanation: string;
}

export interface TripScore {
  score: number;
  breakdown: ScoreFactor[];
}

type RawFactor = Omit<ScoreFactor, 'points'> & { raw: number };

const nonNeg = (x: number): number => (Number.isFinite(x) && x > 0 ? x : 0);
const round2 = (x: number): number => Math.round(x * 100) / 100;
const label = (type: string): string => type.replace(/_/g, ' ');

function eventFactors(input: TripScoreInput, config: ScoringConfig): RawFactor[] {
  const km = nonNeg(input.distanceM) / 1000;
  const rateKm = Math.max(km, config.minRateDistanceKm);
  return DRIVING_EVENT_TYPES.map((type) => {
    const w = config.events[type];
    const mine = input.events.filter((e) => e.type === type);
    const weighted = mine.reduce((s, e) => s + (config.severityWeights[e.severity] ?? 1), 0);
    const bySeverity = (['low', 'medium', 'high'] as const)
      .map((sev) => [sev, mine.filter((e) => e.severity === sev).length] as const)
      .filter(([, n]) => n > 0)
      .map(([sev, n]) => `${n} ${sev}`)
      .join(', ');
    const counted = mine.length === 0 ? `no ${label(type)}` : `${mine.length} ${label(type)} (${bySeverity})`;
    const pts = (n: number): string => `${n} point${n === 1 ? '' : 's'}`;
    const factor = type === 'speeding' ? 'speeding_events' : type;
    if (w.basis === 'per_event') {
      const raw = Math.min(w.maxPoints, weighted * w.pointsPerUnit);
      return { factor, group: 'behaviour', value: mine.length, unit: 'events', raw,
        explanation: `${counted}: ${pts(w.pointsPerUnit)} per severity-weighted event, at most ${w.maxPoints}` };
    }
    const per100Km = (weighted / rateKm) * 100;
    const raw = Math.min(w.maxPoints, per100Km * w.pointsPerUnit);
    return { factor, group: 'behaviour', value: round2(per100Km), unit: 'weighted_events_per_100km', raw,
      explanation: mine.length === 0 ? `${counted} in ${km.toFixed(1)} km`
        : `${counted} in ${km.toFixed(1)} km${km < config.minRateDistanceKm ? ` (rated as ${config.minRateDistanceKm} km)` : ''}` +
          ` = ${per100Km.toFixed(1)} severity-weighted per 100 km × ${pts(w.pointsPerUnit)}, at most ${w.maxPoints}` };
  });
}

function shareFactor(factor: string, group: ScoreFactor['group'], partS: number, wholeS: number, w: ShareWeights, what: string, of: string): RawFactor {
  const percent = nonNeg(wholeS) > 0 ? Math.min(100, (nonNeg(partS) / wholeS) * 100) : 0;
  const raw = Math.min(w.maxPoints, percent * w.pointsPerPercent);
  return { factor, group, value: round2(percent), unit: `percent_of_${of}`, raw,
    explanation: `${percent.toFixed(1)}% of ${of.replace(/_/g, ' ')} ${what} × ${w.pointsPerPercent} per %, at most ${w.maxPoints} points` };
}

function exposureFactors(input: TripScoreInput, config: ScoringConfig): RawFactor[] {
  const km = nonNeg(input.distanceM) / 1000;
  const d = config.distance;
  const beyondKm = Math.max(0, km - d.freeKm);
  const distance: RawFactor = { factor: 'distance', group: 'exposure', value: round2(km), unit: 'km',
    raw: Math.min(d.maxPoints, (beyondKm / 100) * d.pointsPer100Km),
    explanation: `${km.toFixed(1)} km: ${d.pointsPer100Km} points per 100 km beyond ${d.freeKm} km, at most ${d.maxPoints}` };
  const r = config.roadType;
  const shares = Object.entries(input.roadShare ?? {}).filter(([, s]) => nonNeg(s) > 0);
  const total = shares.reduce((s, [, x]) => s + x, 0);
  const risk = shares.reduce((s, [type, x]) => s + (x / total) * (r.pointsAtFullShare[type] ?? r.other), 0);
  const mix = shares.sort((a, b) => b[1] - a[1]).map(([type, x]) => `${Math.round((x / total) * 100)}% ${type}`).join(', ');
  const road: RawFactor = { factor: 'road_type', group: 'exposure', value: round2(risk), unit: 'points_by_road_mix',
    raw: Math.min(r.maxPoints, risk),
    explanation: shares.length === 0 ? 'road types unknown' : `${mix}: each road type's risk weighted by its share, at most ${r.maxPoints}` };
  return [
    shareFactor('night', 'exposure', input.nightS, input.durationS, config.night, 'at night', 'duration'),
    shareFactor('rush_hour', 'exposure', input.rushHourS, input.durationS, config.rushHour, 'in rush hours', 'duration'),
    distance,
    road,
  ];
}

export function scoreTrip(input: TripScoreInput, config: ScoringConfig = DEFAULT_SCORING_CONFIG): TripScore {
  const raw: RawFactor[] = [
    ...eventFactors(input, config),
    shareFactor('speeding_time', 'behaviour', input.speedingS, input.movingS, config.speedingTime, 'above the limit', 'moving_time'),
    ...exposureFactors(input, config),
  ];
  const rounded = raw.map((f) => toTenths(f.raw));
  const sumTenths = rounded.reduce((s, t) => s + t, 0);
  // Penalties beyond 100 are scaled down together, so each keeps its share of the blame.
  const scaled = sumTenths > 1000;
  const points = scaled ? apportionTenths(raw.map((f) => f.raw), 1000) : rounded.map((t) => t / 10);
  const breakdown = raw.map(({ raw: _raw, ...f }, i) => ({
    ...f,
    points: points[i] ?? 0,
    explanation: scaled && (points[i] ?? 0) > 0 ? `${f.explanation} (scaled: penalties exceed 100)` : f.explanation,
  }));
  const spentTenths = breakdown.reduce((s, f) => s + toTenths(f.points), 0);
  return { score: (1000 - spentTenths) / 10, breakdown };
}
