import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_DETECTOR_CONFIG } from '../../../src/domain/events/detectorConfig.js';
import { speeding } from '../../../src/domain/events/speeding.js';
import { MPH, T0, runDetector, series } from '../../../testkit/eventHelpers.js';

const config = DEFAULT_DETECTOR_CONFIG.speeding;
/** `seconds` at speedMph under limitMph, framed by a second at the limit on each side. */
const drive = (seconds: number, speedMph: number, limitMph: number | undefined) =>
  series(seconds + 2, (i) => ({
    speedMps: (i === 0 || i === seconds + 1 ? (limitMph ?? 30) : speedMph) * MPH,
    ...(limitMph === undefined ? {} : { speedLimitMps: limitMph * MPH }),
  }));

test('5 mph over a 30 mph limit for 10 s is speeding; for 9 s it is not', () => {
  const events = runDetector(speeding, drive(11, 35, 30), config).events; // samples 1..11: 10 s
  assert.equal(events.length, 1);
  assert.equal(events[0]!.startMs, T0 + 1000);
  assert.equal(events[0]!.endMs, T0 + 11_000);
  assert.ok(Math.abs(events[0]!.peak - 5 * MPH) < 1e-9);
  assert.equal(events[0]!.peakUnit, 'mps');
  assert.equal(events[0]!.details?.durationS, 10);
  assert.ok(Math.abs(events[0]!.details!.limitMps! - 30 * MPH) < 1e-9);
  assert.equal(runDetector(speeding, drive(10, 35, 30), config).events.length, 0);
});

test('from a 35 mph limit the margin is 10 mph', () => {
  assert.equal(runDetector(speeding, drive(20, 44, 35), config).events.length, 0);
  assert.equal(runDetector(speeding, drive(20, 45, 35), config).events.length, 1);
});

test('severity follows how far over; no limit, no verdict', () => {
  assert.equal(runDetector(speeding, drive(20, 47, 30), config).events[0]!.severity, 'medium');
  assert.equal(runDetector(speeding, drive(20, 75, 55), config).events[0]!.severity, 'high');
  assert.equal(runDetector(speeding, drive(20, 90, undefined), config).events.length, 0);
});

test('an episode still open at the end is emitted on flush', () => {
  const points = series(15, () => ({ speedMps: 50 * MPH, speedLimitMps: 30 * MPH }));
  const { events, emittedAt } = runDetector(speeding, points, config);
  assert.equal(events.length, 1);
  assert.deepEqual(emittedAt, [Infinity]);
});
