import assert from 'node:assert/strict';
import { test } from 'node:test';
import { crash } from '../../../src/domain/events/crash.js';
import { DEFAULT_DETECTOR_CONFIG } from '../../../src/domain/events/detectorConfig.js';
import { T0, accel, runDetector, series } from '../../../testkit/eventHelpers.js';

const config = DEFAULT_DETECTOR_CONFIG.crash;

test('a 5 g spike followed by a stop is a crash, emitted on the point that confirms it', () => {
  const speeds = [15, 15, 8, 3, 0.5, 0, 0, 0];
  const points = series(speeds.length, (i) => ({ speedMps: speeds[i]!, ...accel(i === 1 ? -4.2 : 0, i === 1 ? 2.8 : 0) }));
  const { events, emittedAt } = runDetector(crash, points, config);
  assert.equal(events.length, 1);
  assert.deepEqual(emittedAt, [T0 + 4000]);
  assert.equal(events[0]!.severity, 'high');
  assert.equal(events[0]!.startMs, T0 + 1000);
  assert.ok(Math.abs(events[0]!.peak - Math.hypot(4.2, 2.8) * 9.80665) < 1e-9);
});

test('a spike the car drives on from is not a crash; nor is hard braking', () => {
  const pothole = series(20, (i) => ({ speedMps: 15, ...accel(0, i === 2 ? 4.5 : 0) }));
  assert.equal(runDetector(crash, pothole, config).events.length, 0);
  const late = series(20, (i) => ({ speedMps: i < 15 ? 15 : 0, ...accel(i === 2 ? 4.5 : 0) })); // stop after 13 s
  assert.equal(runDetector(crash, late, config).events.length, 0);
  const hardStop = series(10, (i) => ({ speedMps: Math.max(0, 15 - 9 * i), ...accel(-0.9) }));
  assert.equal(runDetector(crash, hardStop, config).events.length, 0);
});

test('the many spikes of one impact are one crash', () => {
  const points = series(12, (i) => ({ speedMps: i < 4 ? 10 : 0, ...accel(i % 2 === 0 ? 4.5 : 0) }));
  assert.equal(runDetector(crash, points, config).events.length, 1);
});
