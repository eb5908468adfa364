/**
 * The production detectors against the simulator's injected harsh events (src/sim): every
 * injected event must be found (recall ≥ 0.95) and little else (precision ≥ 0.9), per type.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DrivingEvent } from '../../../src/domain/events/drivingEvent.js';
import { DEFAULT_DETECTOR_CONFIG, flushDetectors, initialDetectorsState, stepDetectors } from '../../../src/domain/events/detectors.js';
import { matchEvents, type LabelledEvent } from '../../../src/domain/evaluation/matchEvents.js';
import type { TelemetryPoint } from '../../../src/domain/point.js';
import { simulateTrip } from '../../../src/sim/vehicleModel.js';

const T0 = Date.UTC(2026, 10, 24, 8, 0, 0);
const TRIPS = 40;

function simulate(trips: number, strip: (point: TelemetryPoint) => TelemetryPoint = (p) => p) {
  const expected: LabelledEvent[] = [];
  const found: DrivingEvent[] = [];
  let startMs = T0;
  for (let i = 0; i < trips; i++) {
    const trip = simulateTrip({ deviceId: 'sim-1', seed: 1000 + i, startMs });
    expected.push(...trip.truth.events.map((e) => ({ type: e.type, startMs: e.startMs, endMs: e.endMs })));
    found.push(...detect(trip.points.map(strip)));
    startMs = trip.truth.trip.endMs + 3_600_000;
  }
  return { found, stats: matchEvents(expected, found, 2000) };
}

function detect(points: TelemetryPoint[]): DrivingEvent[] {
  const events: DrivingEvent[] = [];
  let state = initialDetectorsState();
  for (const point of points) {
    const step = stepDetectors(state, point, DEFAULT_DETECTOR_CONFIG);
    state = step.state;
    events.push(...step.events);
  }
  return [...events, ...flushDetectors(state)];
}

test(`on ${TRIPS} simulated trips every harsh event type has recall ≥ 0.95 and precision ≥ 0.9`, (t) => {
  const { found, stats } = simulate(TRIPS);
  for (const type of ['harsh_braking', 'harsh_acceleration', 'harsh_cornering'] as const) {
    const s = stats[type];
    assert.ok(s, `no ${type} injected or found`);
    t.diagnostic(`${type}: tp ${s.tp} fp ${s.fp} fn ${s.fn} precision ${s.precision.toFixed(3)} recall ${s.recall.toFixed(3)}`);
    assert.ok(s.tp > 5, `too few ${type} injected to judge`);
    assert.ok(s.recall >= 0.95, `${type} recall ${s.recall}`);
    assert.ok(s.precision >= 0.9, `${type} precision ${s.precision}`);
  }
  const other = found.filter((e) => !e.type.startsWith('harsh_'));
  assert.deepEqual(other, [], 'no speeding, crash or phone events without limits, impacts or phone data');
});

test('without an accelerometer, speed change finds braking and acceleration; heading-derived cornering is reported', (t) => {
  const { stats } = simulate(TRIPS, ({ accelMps2: _, ...rest }) => rest);
  for (const type of ['harsh_braking', 'harsh_acceleration', 'harsh_cornering'] as const) {
    const s = stats[type];
    assert.ok(s);
    t.diagnostic(`${type} (derived): tp ${s.tp} fp ${s.fp} fn ${s.fn} precision ${s.precision.toFixed(3)} recall ${s.recall.toFixed(3)}`);
    // Cornering from heading also needs a turn of more than 30° (the published definition); the
    // simulator's 2 s corners at motorway speed turn less, so its recall is reported, not asserted.
    if (type === 'harsh_cornering') continue;
    assert.ok(s.recall >= 0.95 && s.precision >= 0.9, type);
  }
});
