import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DrivingEvent, DrivingEventType } from '../../../src/domain/events/drivingEvent.js';
import { matchEventPairs, matchEvents, type LabelledEvent } from '../../../src/domain/evaluation/matchEvents.js';
import { matchTrips } from '../../../src/domain/evaluation/matchTrips.js';

const label = (type: DrivingEventType, startS: number, endS = startS): LabelledEvent => ({ type, startMs: startS * 1000, endMs: endS * 1000 });
const found = (type: DrivingEventType, startS: number, endS = startS): DrivingEvent => ({
  type,
  startMs: startS * 1000,
  endMs: endS * 1000,
  lat: 0,
  lon: 0,
  peak: 4,
  peakUnit: 'mps2',
  severity: 'low',
  source: 'accelerometer',
});

test('events match one-to-one by type within the tolerance', () => {
  const expected = [label('harsh_braking', 10), label('harsh_braking', 50), label('harsh_cornering', 100, 103)];
  const detected = [
    found('harsh_braking', 11), // 1 s away: match
    found('harsh_braking', 12), // the same label cannot match twice
    found('harsh_acceleration', 50), // wrong type
    found('harsh_cornering', 104, 106), // 1 s after the label ends
  ];
  const stats = matchEvents(expected, detected);
  assert.deepEqual(stats.harsh_braking, { tp: 1, fp: 1, fn: 1, precision: 0.5, recall: 0.5 });
  assert.deepEqual(stats.harsh_cornering, { tp: 1, fp: 0, fn: 0, precision: 1, recall: 1 });
  assert.deepEqual(stats.harsh_acceleration, { tp: 0, fp: 1, fn: 0, precision: 0, recall: 1 });
  assert.equal(stats.speeding, undefined);
});

test('the closest candidate wins, so a near pair is not stolen by a farther one', () => {
  const { pairs } = matchEventPairs([label('harsh_braking', 10), label('harsh_braking', 12)], [found('harsh_braking', 12)]);
  assert.equal(pairs.length, 1);
  assert.equal(pairs[0]!.expected.startMs, 12_000);
  assert.equal(matchEvents([label('speeding', 0)], [found('speeding', 3)], 2000).speeding?.tp, 0);
});

test('trips match when both ends are within the tolerance, each once', () => {
  const expected = [{ startMs: 0, endMs: 600_000 }, { startMs: 1_000_000, endMs: 1_500_000 }, { startMs: 2_000_000, endMs: 2_100_000 }];
  const got = [{ startMs: 30_000, endMs: 640_000 }, { startMs: 1_000_000, endMs: 1_300_000 }, { startMs: 2_010_000, endMs: 2_100_000 }];
  assert.deepEqual(matchTrips(expected, got), { expected: 3, found: 3, matched: 2 });
  assert.deepEqual(matchTrips(expected.slice(0, 1), [got[0]!, got[0]!]), { expected: 1, found: 2, matched: 1 });
});
