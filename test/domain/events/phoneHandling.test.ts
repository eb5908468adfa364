import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_DETECTOR_CONFIG } from '../../../src/domain/events/detectorConfig.js';
import { phoneHandling } from '../../../src/domain/events/phoneHandling.js';
import { T0, runDetector, series } from '../../../testkit/eventHelpers.js';

const config = DEFAULT_DETECTOR_CONFIG.phoneHandling;

test('phone handling while moving is one episode per stretch; its peak is the duration', () => {
  const use = [false, true, true, true, true, false, false, true, false];
  const { events } = runDetector(phoneHandling, series(use.length, (i) => ({ speedMps: 12, phoneUse: use[i]! })), config);
  assert.deepEqual(events.map((e) => [e.startMs - T0, e.endMs - T0]), [[1000, 4000], [7000, 7000]]);
  assert.equal(events[0]!.peak, 3);
  assert.equal(events[0]!.peakUnit, 's');
  assert.equal(events[0]!.severity, 'medium');
});

test('at a standstill it does not count; without reports there is nothing', () => {
  assert.equal(runDetector(phoneHandling, series(10, () => ({ speedMps: 0, phoneUse: true })), config).events.length, 0);
  assert.equal(runDetector(phoneHandling, series(10, () => ({ speedMps: 10 })), config).events.length, 0);
});

test('a long episode is high', () => {
  const { events } = runDetector(phoneHandling, series(20, () => ({ speedMps: 10, phoneUse: true })), config);
  assert.equal(events.length, 1);
  assert.equal(events[0]!.severity, 'high');
});
