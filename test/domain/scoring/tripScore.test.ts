import { test } from 'node:test';
import assert from 'node:assert/strict';
import { scoreTrip, DEFAULT_SCORING_CONFIG, type TripScoreInput, type TripScore } from '../../../src/domain/scoring/index.js';

const clean: TripScoreInput = {
  distanceM: 25_000,
  durationS: 1_800,
  nightS: 0,
  rushHourS: 0,
  speedingS: 0,
  movingS: 1_600,
  events: [],
  roadShare: { motorway: 1 },
};

const pointsSum = (s: TripScore): number => Math.round(s.breakdown.reduce((a, f) => a + f.points, 0) * 10) / 10;

function assertAddsUp(s: TripScore): void {
  assert.equal(pointsSum(s), Math.round((100 - s.score) * 10) / 10);
  assert.ok(s.score >= 0 && s.score <= 100, `score ${s.score} in 0..100`);
  for (const f of s.breakdown) assert.ok(f.points >= 0 && Number.isFinite(f.value) && f.explanation.length > 0, f.factor);
}

test('a clean daytime motorway trip scores 100 and lists every factor at 0 points', () => {
  const s = scoreTrip(clean);
  assert.equal(s.score, 100);
  assert.ok(s.breakdown.length >= 10);
  assert.ok(s.breakdown.every((f) => f.points === 0));
  assertAddsUp(s);
});

test('a clean urban trip in rush hour still scores near 100', () => {
  const s = scoreTrip({ ...clean, rushHourS: 900, roadShare: { residential: 0.7, primary: 0.3 } });
  assert.ok(s.score >= 95, `score ${s.score}`);
  assertAddsUp(s);
});

test('penalties grow monotonically with harsh events, severity, speeding and night', () => {
  const brake = (n: number, severity: 'low' | 'medium' | 'high') =>
    Array.from({ length: n }, () => ({ type: 'harsh_braking' as const, severity }));
  const byCount = [0, 1, 2, 4, 8, 16, 64].map((n) => scoreTrip({ ...clean, events: brake(n, 'low') }).score);
  for (let i = 1; i < byCount.length; i++) assert.ok(byCount[i]! <= byCount[i - 1]!, `events: ${byCount.join(' ')}`);
  assert.ok(byCount[1]! < 100);
  const bySeverity = (['low', 'medium', 'high'] as const).map((sev) => scoreTrip({ ...clean, events: brake(1, sev) }).score);
  assert.ok(bySeverity[0]! > bySeverity[1]! && bySeverity[1]! > bySeverity[2]!, `severity: ${bySeverity.join(' ')}`);
  const bySpeeding = [0, 16, 160, 320].map((s) => scoreTrip({ ...clean, speedingS: s }).score);
  for (let i = 1; i < bySpeeding.length; i++) assert.ok(bySpeeding[i]! < bySpeeding[i - 1]!, `speeding: ${bySpeeding.join(' ')}`);
  // Past its cap a factor stops growing: never a reward for more.
  assert.equal(scoreTrip({ ...clean, speedingS: 1600 }).score, 100 - 25);
  const byNight = [0, 60, 600, 1800].map((s) => scoreTrip({ ...clean, nightS: s }).score);
  for (let i = 1; i < byNight.length; i++) assert.ok(byNight[i]! < byNight[i - 1]!, `night: ${byNight.join(' ')}`);
});

test('the same events over a longer distance cost less (rates per 100 km)', () => {
  const events = [{ type: 'harsh_braking' as const, severity: 'medium' as const }];
  const short = scoreTrip({ ...clean, distanceM: 20_000, events });
  const long = scoreTrip({ ...clean, distanceM: 80_000, events });
  assert.ok(long.score > short.score);
  const f = short.breakdown.find((x) => x.factor === 'harsh_braking')!;
  assert.equal(f.value, 10); // 2 (medium) per 20 km
  assert.equal(f.unit, 'weighted_events_per_100km');
  assert.equal(f.points, 10 * DEFAULT_SCORING_CONFIG.events.harsh_braking.pointsPerUnit);
});

test('a very short trip is rated as at least minRateDistanceKm', () => {
  const events = [{ type: 'harsh_braking' as const, severity: 'low' as const }];
  const hop = scoreTrip({ ...clean, distanceM: 500, events }).breakdown.find((x) => x.factor === 'harsh_braking')!;
  assert.equal(hop.value, 100 / DEFAULT_SCORING_CONFIG.minRateDistanceKm);
  assert.match(hop.explanation, /rated as 10 km/);
});

test('a crash costs a fixed penalty whatever the distance', () => {
  const crash = [{ type: 'crash' as const, severity: 'low' as const }];
  const a = scoreTrip({ ...clean, distanceM: 5_000, events: crash });
  const b = scoreTrip({ ...clean, distanceM: 500_000, events: crash });
  assert.equal(a.breakdown.find((f) => f.factor === 'crash')!.points, 40);
  assert.equal(b.breakdown.find((f) => f.factor === 'crash')!.points, 40);
});

test('when penalties exceed 100 the score is 0 and the points still add up to 100', () => {
  const events = [
    ...Array.from({ length: 30 }, () => ({ type: 'harsh_braking' as const, severity: 'high' as const })),
    ...Array.from({ length: 30 }, () => ({ type: 'phone_handling' as const, severity: 'high' as const })),
    { type: 'crash' as const, severity: 'high' as const },
  ];
  const s = scoreTrip({ ...clean, events, speedingS: 1600, nightS: 1800 });
  assert.equal(s.score, 0);
  assert.equal(pointsSum(s), 100);
  assert.match(s.breakdown.find((f) => f.factor === 'crash')!.explanation, /scaled/);
});

test('breakdown points add up to 100 - score on many mixed trips', () => {
  const types = ['harsh_braking', 'harsh_acceleration', 'harsh_cornering', 'speeding', 'phone_handling'] as const;
  const sevs = ['low', 'medium', 'high'] as const;
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (let i = 0; i < 300; i++) {
    const events = Array.from({ length: Math.floor(rnd() * 12) }, () => ({ type: types[Math.floor(rnd() * 5)]!, severity: sevs[Math.floor(rnd() * 3)]! }));
    const durationS = 60 + rnd() * 7200;
    const s = scoreTrip({
      distanceM: rnd() * 300_000, durationS, nightS: rnd() * durationS, rushHourS: rnd() * durationS,
      speedingS: rnd() * durationS * 0.3, movingS: durationS * 0.9, events,
      roadShare: { motorway: rnd(), residential: rnd(), track: rnd() },
    });
    assertAddsUp(s);
  }
});

test('bad numbers never crash the score', () => {
  const s = scoreTrip({ ...clean, distanceM: Number.NaN, durationS: 0, nightS: -5, movingS: 0, speedingS: 10, roadShare: {} });
  assertAddsUp(s);
  assert.equal(s.score, 100);
});
