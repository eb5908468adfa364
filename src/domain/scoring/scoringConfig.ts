/**
 * Every weight of the trip and rolling scores, in one place (docs/scoring.md explains each and
 * where it comes from). A score starts at 100 and each factor subtracts penalty points: a rate or
 * share times a weight, capped. The defaults are a documented starting point, not fitted to claims;
 * an insurer is expected to calibrate them on its own loss data.
 */
import type { DrivingEventType, Severity } from '../events/drivingEvent.js';

export interface EventWeights {
  /**
   * 'per_100km': points grow with the trip's severity-weighted events per 100 km (exposure-fair);
   * 'per_event': a fixed penalty per event, however long the trip (a crash is not diluted by distance).
   */
  basis: 'per_100km' | 'per_event';
  /** Points per weighted event per 100 km, or per weighted event. */
  pointsPerUnit: number;
  maxPoints: number;
}

export interface ShareWeights {
  /** Points per percent of the trip's time. */
  pointsPerPercent: number;
  maxPoints: number;
}

export interface ScoringConfig {
  /** How much one event of each severity counts. */
  severityWeights: Readonly<Record<Severity, number>>;
  events: Readonly<Record<DrivingEventType, EventWeights>>;
  /** Rates use at least this distance, so one event in a 1 km trip is not 100 events per 100 km. */
  minRateDistanceKm: number;
  /** Share of moving time above the posted limit. */
  speedingTime: ShareWeights;
  /** Share of the trip's duration at night (local time). */
  night: ShareWeights;
  /** Share of the trip's duration in rush hours (local time). */
  rushHour: ShareWeights;
  /** Long trips: points per 100 km beyond freeKm (fatigue, exposure). */
  distance: { freeKm: number; pointsPer100Km: number; maxPoints: number };
  /** Road mix: points a trip driven entirely on a road type would get; unknown types use `other`. */
  roadType: { pointsAtFullShare: Readonly<Record<string, number>>; other: number; maxPoints: number };
  /** The rolling score averages the trips that started in the last windowDays, weighted by distance. */
  rolling: { windowDays: number };
}

export const DEFAULT_SCORING_CONFIG: ScoringConfig = {
  severityWeights: { low: 1, medium: 2, high: 3 },
  events: {
    // Hard braking is the harsh event most consistently linked to claims; cornering events are the
    // most frequent (69 of the 107 flagged in the nds drives), so each weighs least.
    harsh_braking: { basis: 'per_100km', pointsPerUnit: 1.5, maxPoints: 25 },
    harsh_acceleration: { basis: 'per_100km', pointsPerUnit: 0.75, maxPoints: 15 },
    harsh_cornering: { basis: 'per_100km', pointsPerUnit: 0.5, maxPoints: 15 },
    // Speeding time is scored below; the events add how far over the limit (their severity).
    speeding: { basis: 'per_100km', pointsPerUnit: 1, maxPoints: 10 },
    phone_handling: { basis: 'per_100km', pointsPerUnit: 3, maxPoints: 20 },
    crash: { basis: 'per_event', pointsPerUnit: 40, maxPoints: 40 },
  },
  minRateDistanceKm: 10,
  speedingTime: { pointsPerPercent: 1, maxPoints: 25 },
  night: { pointsPerPercent: 0.15, maxPoints: 15 },
  rushHour: { pointsPerPercent: 0.05, maxPoints: 5 },
  distance: { freeKm: 100, pointsPer100Km: 2, maxPoints: 5 },
  roadType: {
    // Motorways have the fewest casualties per km, rural single-carriageway roads the most.
    pointsAtFullShare: {
      motorway: 0,
      motorway_link: 0,
      trunk: 1,
      trunk_link: 1,
      primary: 3,
      secondary: 4,
      tertiary: 4,
      unclassified: 5,
      residential: 2,
      living_street: 1,
      service: 1,
    },
    other: 2,
    maxPoints: 5,
  },
  rolling: { windowDays: 30 },
};
