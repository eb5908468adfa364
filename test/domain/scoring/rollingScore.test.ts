import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_SCORING_CONFIG, rollingScore, scoreTrip, type ScoredTrip, type TripScoreInput } from '../../../src/domain/scoring/index.js';

const DAY_MS = 86_400_000;
const NOW = Date.UTC(2026, 10, 24, 12);

const trip = (daysAgo: number, distanceM: number, score: number): ScoredTrip => ({ startMs: NOW - daysAgo * DAY_MS, distanceM, score });

test('the rolling score weights trips by distance', () => {
  const r = rollingScore([trip(1, 90_000, 100), trip(2, 10_000, 50)], NOW);
  assert.equal(r.score, 95);
  assert.equal(r.trips, 2);
  assert.equal(r.distanceM, 100_000);
});

test('trips outside the window, or in the future, do not count', () => {
  const r = rollingScore([trip(1, 10_000, 80), trip(31, 10_000, 0), trip(-1, 10_000, 0)], NOW);
  assert.equal(r.score, 80);
  assert.equal(r.trips, 1);
  assert.equal(r.windowDays, 30);
});

test('no trips gives no score; zero-distance trips weigh the same', () => {
  assert.equal(rollingScore([], NOW).score, null);
  assert.equal(rollingScore([trip(1, 0, 100), trip(1, 0, 50)], NOW).score, 75);
});

test('the rolling breakdown is the distance-weighted mean of the trips and adds up to 100 - score', () => {
  const base: TripScoreInput = { distanceM: 0, durationS: 1800, nightS: 0, rushHourS: 0, speedingS: 0, movingS: 1700, events: [] };
  const a = { ...base, distanceM: 30_000, events: [{ type: 'harsh_braking' as const, severity: 'high' as const }] };
  const b = { ...base, distanceM: 70_000, nightS: 900, speedingS: 100 };
  const trips: ScoredTrip[] = [a, b].map((input, i) => ({ startMs: NOW - (i + 1) * DAY_MS, distanceM: input.distanceM, ...scoreTrip(input) }));
  const r = rollingScore(trips, NOW);
  const expected = (0.3 * trips[0]!.score + 0.7 * trips[1]!.score);
  assert.ok(Math.abs(r.score! - expected) <= 0.05, `${r.score} vs ${expected}`);
  const sum = Math.round(r.breakdown.reduce((s, f) => s + f.points, 0) * 10) / 10;
  assert.equal(sum, Math.round((100 - r.score!) * 10) / 10);
  const braking = r.breakdown.find((f) => f.factor === 'harsh_braking')!;
  assert.ok(Math.abs(braking.value - 0.3 * 10) < 1e-9, `${braking.value}`);
  assert.match(braking.explanation, /2 trips \(100\.0 km\) in the last 30 days/);
});

test('the window is configurable', () => {
  const r = rollingScore([trip(5, 10_000, 60), trip(10, 10_000, 100)], NOW, {
    ...DEFAULT_SCORING_CONFIG,
    rolling: { windowDays: 7 },
  });
  assert.equal(r.score, 60);
});
