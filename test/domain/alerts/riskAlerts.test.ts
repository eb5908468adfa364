import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { createTripContext } from '../../../src/adapters/enrichment/tripContext.js';
import { onPoints, type StreamStep } from '../../../src/domain/deviceStream.js';
import { destination } from '../../../src/domain/geo.js';
import type { TelemetryPoint } from '../../../src/domain/point.js';
import { DEFAULT_PIPELINE_CONFIG, type PipelineConfig } from '../../../src/domain/pipelineConfig.js';
import type { TripContext } from '../../../src/domain/tripContext.js';
import { initialState } from '../../../src/domain/tripSegmenter.js';

const config: PipelineConfig = { ...DEFAULT_PIPELINE_CONFIG, alerts: { sustainedSpeeding: { enabled: true, minDurationS: 20, minOverKmh: 20 } } };
let context: TripContext;
before(async () => {
  context = await createTripContext({});
});

/** 1 Hz points on a 50 km/h road at the given speeds, sent one a message (as a live device does). */
function drive(t0: number, speedsMps: number[], pipeline = config): StreamStep[] {
  let position = { lat: 50.841, lon: 4.365 };
  let state = initialState('car-1', 'veh-1', 'acme');
  const steps: StreamStep[] = [];
  speedsMps.forEach((speedMps, i) => {
    const point: TelemetryPoint = { tsMs: t0 + i * 1000, lat: position.lat, lon: position.lon, speedMps, speedLimitMps: 50 / 3.6, headingDeg: 0 };
    position = destination(position.lat, position.lon, 0, speedMps);
    const step = onPoints(state, [point], point.tsMs + 200, pipeline, context);
    steps.push(step);
    state = step.state;
  });
  return steps;
}

test('sustained speeding is raised once, on the live stream, as soon as the episode is long and fast enough', () => {
  const t0 = Date.UTC(2026, 10, 24, 10);
  // 10 s at the limit, 40 s at 80 km/h (30 over), 10 s at the limit, then 40 s more over it.
  const speeds = [...Array(10).fill(13), ...Array(40).fill(80 / 3.6), ...Array(10).fill(13), ...Array(40).fill(80 / 3.6)];
  const steps = drive(t0, speeds);
  const raised = steps.flatMap((step, i) => step.alerts.map((alert) => ({ alert, i })));
  assert.equal(raised.length, 2, 'one alert per episode');
  const [first, second] = raised as [(typeof raised)[0], (typeof raised)[0]];
  assert.equal(first.alert.type, 'sustained_speeding');
  assert.equal(first.alert.alertId, `car-1:sustained_speeding:${first.alert.startMs}`);
  assert.equal(first.alert.tenantId, 'acme');
  // The cleaning's 2 s reorder window releases a point once a point 2 s newer arrives.
  const lastingS = (first.alert.raisedAtPointMs - first.alert.startMs) / 1000;
  assert.equal(lastingS, 20, 'raised on the point where the episode reaches 20 s');
  assert.ok(first.i < 50, 'while the episode is still going');
  assert.ok(first.alert.peak * 3.6 >= 29.9);
  assert.notEqual(second.alert.alertId, first.alert.alertId);
});

test('not raised below the thresholds, nor when disabled', () => {
  const t0 = Date.UTC(2026, 10, 24, 10);
  const slow = drive(t0, Array(60).fill(65 / 3.6)); // 15 km/h over for a minute
  assert.equal(slow.flatMap((s) => s.alerts).length, 0);
  const short = drive(t0, [...Array(15).fill(90 / 3.6), ...Array(10).fill(13)]); // 15 s at 40 over
  assert.equal(short.flatMap((s) => s.alerts).length, 0);
  const off: PipelineConfig = { ...config, alerts: { sustainedSpeeding: { ...config.alerts.sustainedSpeeding, enabled: false } } };
  assert.equal(drive(t0, Array(60).fill(90 / 3.6), off).flatMap((s) => s.alerts).length, 0);
});

test('a replay of the same points raises the same alert ids', () => {
  const t0 = Date.UTC(2026, 10, 24, 10);
  const speeds = Array(40).fill(80 / 3.6);
  assert.deepEqual(drive(t0, speeds).flatMap((s) => s.alerts), drive(t0, speeds).flatMap((s) => s.alerts));
});

test('a crash is raised on the message that carries its confirming stop, even as its last point (no reorder wait)', () => {
  const t0 = Date.UTC(2026, 10, 24, 10);
  let position = { lat: 50.841, lon: 4.365 };
  const points: TelemetryPoint[] = Array.from({ length: 22 }, (_, i) => {
    const speedMps = i < 19 ? 15 : i === 19 ? 4 : 0;
    const point: TelemetryPoint = { tsMs: t0 + i * 1000, lat: position.lat, lon: position.lon, speedMps, headingDeg: 0, accelMps2: { x: i === 19 ? -60 : 0, y: 0, z: 9.81 } };
    position = destination(position.lat, position.lon, 0, speedMps);
    return point;
  });
  // Batches of 5 as the demo devices send them; the impact is the last point of one message and the
  // stop the first of the next, with nothing after it in that message.
  let state = initialState('car-1', 'veh-1', 'acme');
  const messages = [points.slice(0, 5), points.slice(5, 10), points.slice(10, 15), points.slice(15, 20), points.slice(20, 21), points.slice(21)];
  const alertsPerMessage = messages.map((batch) => {
    const step = onPoints(state, batch, batch[batch.length - 1]!.tsMs + 200, config, context);
    state = step.state;
    return step.alerts.map((a) => a.type);
  });
  assert.deepEqual(alertsPerMessage, [[], [], [], [], ['crash'], []]);
});
