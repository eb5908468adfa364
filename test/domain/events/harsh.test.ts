import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_DETECTOR_CONFIG, NDS_DEVICE_RULE } from '../../../src/domain/events/detectorConfig.js';
import { harshAcceleration } from '../../../src/domain/events/harshAcceleration.js';
import { harshBraking } from '../../../src/domain/events/harshBraking.js';
import { harshCornering } from '../../../src/domain/events/harshCornering.js';
import { MPH, T0, accel, runDetector, series } from '../../../testkit/eventHelpers.js';

const braking = DEFAULT_DETECTOR_CONFIG.harshBraking;
const cornering = DEFAULT_DETECTOR_CONFIG.harshCornering;

test('harsh braking from the accelerometer: one episode, its peak and severity', () => {
  const xs = [0, -0.1, -0.35, -0.42, -0.2, 0, 0];
  const { events } = runDetector(harshBraking, series(xs.length, (i) => ({ speedMps: 15, ...accel(xs[i]!) })), braking);
  assert.equal(events.length, 1);
  const [event] = events;
  assert.equal(event!.startMs, T0 + 2000);
  assert.equal(event!.endMs, T0 + 3000);
  assert.ok(Math.abs(event!.peak - 0.42 * 9.80665) < 1e-9);
  assert.equal(event!.severity, 'medium'); // ≥ 9 mph/s ≈ 0.41 g
  assert.equal(event!.source, 'accelerometer');
});

test('acceleration is not braking, and braking is not acceleration', () => {
  const points = series(5, (i) => accel([0, 0.5, 0, -0.5, 0][i]!));
  assert.deepEqual(runDetector(harshAcceleration, points, braking).events.map((e) => e.startMs), [T0 + 1000]);
  assert.deepEqual(runDetector(harshBraking, points, braking).events.map((e) => e.startMs), [T0 + 3000]);
});

test('a one-second dip does not split an episode by default; the nds rule splits it', () => {
  const points = series(6, (i) => accel([0, -0.4, -0.2, -0.4, 0, 0][i]!));
  assert.equal(runDetector(harshBraking, points, braking).events.length, 1);
  assert.equal(runDetector(harshBraking, points, NDS_DEVICE_RULE.harshBraking).events.length, 2);
});

test('without an accelerometer, braking is the speed drop per second (7 mph/s)', () => {
  const speedsMph = [40, 40, 32.5, 25, 25, 25];
  const { events } = runDetector(harshBraking, series(6, (i) => ({ speedMps: speedsMph[i]! * MPH })), braking);
  assert.equal(events.length, 1);
  assert.equal(events[0]!.source, 'speed');
  assert.equal(events[0]!.startMs, T0 + 2000);
  assert.ok(Math.abs(events[0]!.peak - 7.5 * MPH) < 1e-9);
  // A gap of 5 s says nothing about one second.
  const gappy = [{ tsMs: T0, lat: 0.1, lon: 0.1, speedMps: 20 }, { tsMs: T0 + 5000, lat: 0.1, lon: 0.1, speedMps: 0 }];
  assert.equal(runDetector(harshBraking, gappy, braking).events.length, 0);
});

test('cornering from the accelerometer needs the speed gate (11 mph) by default', () => {
  const ys = [0, 0.4, 0.45, 0.1, 0];
  assert.equal(runDetector(harshCornering, series(5, (i) => ({ speedMps: 15, ...accel(0, ys[i]!) })), cornering).events.length, 1);
  assert.equal(runDetector(harshCornering, series(5, (i) => ({ speedMps: 3, ...accel(0, ys[i]!) })), cornering).events.length, 0);
  assert.equal(runDetector(harshCornering, series(5, (i) => ({ speedMps: 3, ...accel(0, ys[i]!) })), NDS_DEVICE_RULE.harshCornering).events.length, 1);
});

test('cornering from heading: speed × yaw rate over 0.36 g through more than 30°', () => {
  // 15 m/s turning 15°/s: 15 × 0.262 = 3.9 m/s² ≈ 0.40 g.
  const turn = (seconds: number) => series(seconds + 3, (i) => ({ speedMps: 15, headingDeg: (90 + 15 * Math.max(0, Math.min(i - 1, seconds))) % 360 }));
  const long = runDetector(harshCornering, turn(3), cornering).events; // 45°
  assert.equal(long.length, 1);
  assert.equal(long[0]!.source, 'heading');
  assert.equal(long[0]!.details?.turnDeg, 45);
  assert.equal(runDetector(harshCornering, turn(2), cornering).events.length, 0); // 30° is not more than 30°
});

test('cornering heading arithmetic wraps through north and keeps the sign of the turn', () => {
  const headings = [350, 350, 5, 20, 35, 35];
  const events = runDetector(harshCornering, series(6, (i) => ({ speedMps: 15, headingDeg: headings[i]! })), cornering).events;
  assert.equal(events.length, 1);
  assert.equal(events[0]!.details?.turnDeg, 45);
});
