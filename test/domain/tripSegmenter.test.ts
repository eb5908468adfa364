import assert from 'node:assert/strict';
import { test } from 'node:test';
import { destination } from '../../src/domain/geo.js';
import type { TelemetryPoint } from '../../src/domain/point.js';
import type { TripSummary } from '../../src/domain/trip.js';
import { DEFAULT_TRIP_CONFIG } from '../../src/domain/tripConfig.js';
import { advance, closeIfSilent, initialState, type DeviceTripState } from '../../src/domain/tripSegmenter.js';

const T0 = Date.UTC(2026, 10, 24, 8, 0, 0);

/** 1 Hz points driving north at a constant speed, or standing still at speed 0. */
function drive(fromMs: number, seconds: number, speedMps: number, start = { lat: 50.85, lon: 4.35 }): TelemetryPoint[] {
  const points: TelemetryPoint[] = [];
  let position = start;
  for (let i = 0; i < seconds; i++) {
    points.push({ tsMs: fromMs + i * 1000, lat: position.lat, lon: position.lon, speedMps });
    position = destination(position.lat, position.lon, 0, speedMps);
  }
  return points;
}

function run(points: TelemetryPoint[], state: DeviceTripState = initialState('car-1', 'veh-1', 't1')) {
  const changes: TripSummary[] = [];
  for (const point of points) {
    const step = advance(state, point, DEFAULT_TRIP_CONFIG);
    state = step.state;
    changes.push(...step.changes);
  }
  return { state, changes, completed: changes.filter((c) => c.status === 'completed') };
}

test('a drive that ends with ignition off is one completed trip with its distance', () => {
  const points = drive(T0, 600, 10);
  points.push({ ...points[points.length - 1]!, tsMs: T0 + 600_000, speedMps: 0, ignition: false });
  const { completed, changes } = run(points);
  assert.equal(changes[0]?.status, 'active', 'the trip is announced on its first movement');
  assert.equal(completed.length, 1);
  const trip = completed[0]!;
  assert.equal(trip.endReason, 'ignition_off');
  assert.equal(trip.pointCount, 601);
  assert.ok(Math.abs(trip.distanceM - 5995) < 1, `distance ${trip.distanceM}`);
  assert.equal(trip.tripId, `car-1.${T0}`);
});

test('a 45 s data gap stays inside the trip; a gap over tripGapS splits it', () => {
  const first = drive(T0, 300, 10);
  const afterShortGap = drive(T0 + 345_000, 300, 10);
  const afterLongGap = drive(T0 + 645_000 + 200_000, 300, 10);
  const { completed, state } = run([...first, ...afterShortGap, ...afterLongGap]);
  assert.equal(completed.length, 1);
  assert.equal(completed[0]!.endReason, 'gap');
  assert.equal(completed[0]!.pointCount, 600);
  assert.ok(completed[0]!.gapDistanceM > 400, 'the gap is bridged by straight-line distance, kept apart');
  assert.equal(state.trip?.startMs, T0 + 845_000, 'the third stretch is a new open trip');
});

test('standing still longer than the idle timeout ends the trip at its last moving point', () => {
  const moving = drive(T0, 120, 8);
  const parked = drive(T0 + 120_000, 700, 0, { lat: moving[119]!.lat, lon: moving[119]!.lon });
  const { completed, state } = run([...moving, ...parked]);
  assert.equal(completed.length, 1);
  assert.equal(completed[0]!.endReason, 'idle');
  assert.equal(completed[0]!.endMs, T0 + 119_000);
  assert.equal(state.trip, null);
});

test('a device that never moves produces no trip', () => {
  const { changes } = run(drive(T0, 900, 0));
  assert.deepEqual(changes, []);
});

test('closeIfSilent ends a live trip', () => {
  const { state } = run(drive(T0, 60, 10));
  const step = closeIfSilent(state);
  assert.equal(step.changes[0]?.endReason, 'live_timeout');
  assert.equal(step.state.trip, null);
});

test('a replay of the same points from a checkpoint gives the same trips', () => {
  const points = drive(T0, 500, 12);
  points.push({ ...points[499]!, tsMs: T0 + 500_000, ignition: false, speedMps: 0 });
  const whole = run(points).completed;
  const halfway = run(points.slice(0, 250));
  const resumed = run(points.slice(250), JSON.parse(JSON.stringify(halfway.state)) as DeviceTripState).completed;
  assert.deepEqual(resumed, whole);
});
