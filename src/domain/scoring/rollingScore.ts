/**
 * The rolling score of a vehicle or driver: the distance-weighted mean of its trip scores over
 * the last `rolling.windowDays`, so a 300 km week of motorway driving outweighs a 2 km hop to the
 * shop, and one bad short trip does not sink a month. Its breakdown is the same weighted mean of
 * each factor's points, so it still adds up to 100 minus the score.
 */
import { DEFAULT_SCORING_CONFIG, type ScoringConfig } from './scoringConfig.js';
import { apportionTenths, toTenths } from './apportion.js';
import type { ScoreFactor } from './tripScore.js';

export interface ScoredTrip {
  startMs: number;
  distanceM: number;
  score: number;
  /** The trip's breakdown; trips without one still count in the score, not in the breakdown. */
  breakdown?: readonly ScoreFactor[];
}

export interface RollingScore {
  /** Null when no trip started in the window. */
  score: number | null;
  trips: number;
  distanceM: number;
  windowDays: number;
  breakdown: ScoreFactor[];
}

const DAY_MS = 86_400_000;

export function rollingScore(
  trips: readonly ScoredTrip[],
  nowMs: number,
  config: ScoringConfig = DEFAULT_SCORING_CONFIG,
): RollingScore {
  const windowDays = config.rolling.windowDays;
  const fromMs = nowMs - windowDays * DAY_MS;
  const inWindow = trips.filter((t) => t.startMs >= fromMs && t.startMs <= nowMs && Number.isFinite(t.score));
  const distanceM = inWindow.reduce((s, t) => s + Math.max(0, t.distanceM), 0);
  if (inWindow.length === 0) return { score: null, trips: 0, distanceM: 0, windowDays, breakdown: [] };

  // With no distance at all (parked-car trips), every trip weighs the same.
  const weightOf = (t: ScoredTrip): number => (distanceM > 0 ? Math.max(0, t.distanceM) / distanceM : 1 / inWindow.length);
  const score = toTenths(inWindow.reduce((s, t) => s + weightOf(t) * t.score, 0)) / 10;

  const withBreakdown = inWindow.every((t) => t.breakdown !== undefined);
  if (!withBreakdown) return { score, trips: inWindow.length, distanceM, windowDays, breakdown: [] };

  const factors = new Map<string, { group: ScoreFactor['group']; unit: string; value: number; points: number }>();
  for (const t of inWindow) {
    const w = weightOf(t);
    for (const f of t.breakdown ?? []) {
      const acc = factors.get(f.factor) ?? { group: f.group, unit: f.unit, value: 0, points: 0 };
      acc.value += w * f.value;
      acc.points += w * f.points;
      factors.set(f.factor, acc);
    }
  }
  const entries = [...factors.entries()];
  // The weighted means of points add up to 100 minus the weighted mean score; rounding may not.
  const points = apportionTenths(entries.map(([, f]) => f.points), 1000 - toTenths(score));
  const km = (distanceM / 1000).toFixed(1);
  const breakdown = entries.map(([factor, f], i): ScoreFactor => ({
    factor,
    group: f.group,
    value: Math.round(f.value * 100) / 100,
    unit: f.unit,
    points: points[i] ?? 0,
    explanation: `distance-weighted mean over ${inWindow.length} trip${inWindow.length === 1 ? '' : 's'} (${km} km) in the last ${windowDays} days`,
  }));
  return { score, trips: inWindow.length, distanceM, windowDays, breakdown };
}
