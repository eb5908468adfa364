import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { before, test } from 'node:test';
import { createTripContext } from '../../src/adapters/enrichment/tripContext.js';
import { onPoints, onSilence, onTick, type StreamStep } from '../../src/domain/deviceStream.js';
import { destination } from '../../src/domain/geo.js';
import type { TelemetryPoint } from '../../src/domain/point.js';
import { DEFAULT_PIPELINE_CONFIG } from '../../src/domain/pipelineConfig.js';
import type { TripSummary } from '../../src/domain/trip.js';
import type { TripContext } from '../../src/domain/tripContext.js';
import { initialState, type DeviceTripState } from '../../src/domain/tripSegmenter.js';

const OSM = fileURLToPath(new URL('../../../test/fixtures/osm/brussels-sample.osm', import.meta.url));
const config = DEFAULT_PIPELINE_CONFIG;
let context: TripContext;
before(async () => {
  context = await createTripContext({ osmExtract: OSM });
});

/** 1 Hz points heading north from a start, at the given speeds, in 5-point messages. */
function northbound(t0: number, speedsMps: number[], start = { lat: 50.841, lon: 4.365 }): TelemetryPoint[] {
  let position = start;
  return speedsMps.map((speedMps, i) => {
    const point: TelemetryPoint = { tsMs: t0 + i * 1000, lat: position.lat, lon: position.lon, speedMps, headingDeg: 0, accelMps2: { x: 0, y: 0, z: 9.81 } };
    position = destination(position.lat, position.lon, 0, speedMps);
    return point;
  });
}

function feed(points: TelemetryPoint[], state: DeviceTripState = initialState('car-1', 'veh-1', 'acme')) {
  const steps: StreamStep[] = [];
  for (let i = 0; i < points.length; i += 5) {
    const batch = points.slice(i, i + 5);
    const step = onPoints(state, batch, batch[batch.length - 1]!.tsMs + 500, config, context);
    steps.push(step);
    state = step.state;
  }
  const completed = (all: StreamStep[]): TripSummary[] => all.flatMap((s) => s.changes).filter((c) => c.status === 'completed');
  return { state, steps, completed: completed(steps), silence: () => completed([onSilence(state, config, context)]) };
}

test('speeding on the motorway of the OSM extract is an event, and the trip is enriched and scored', () => {
  const t0 = Date.UTC(2026, 10, 24, 22, 30); // 23:30 in Brussels: night
  const speeds = [...Array(10).fill(25), ...Array(40).fill(42), ...Array(10).fill(25)];
  const { silence } = feed(northbound(t0, speeds));
  const [trip] = silence();
  assert.ok(trip);
  const speeding = trip.events.filter((e) => e.type === 'speeding');
  assert.equal(speeding.length, 1, JSON.stringify(trip.eventCounts));
  assert.ok(speeding[0]!.details?.limitMps && Math.abs(speeding[0]!.details.limitMps - 120 / 3.6) < 0.01, 'judged against the 120 km/h maxspeed');
  assert.ok(trip.exposure.speedingS >= 35 && trip.exposure.speedingS <= 41, `speedingS ${trip.exposure.speedingS}`);
  assert.equal(trip.timeZone, 'Europe/Brussels');
  assert.ok(trip.exposure.nightS > 50, 'night by the local clock, not UTC');
  assert.equal(trip.startPlace, 'Brussels');
  assert.ok((trip.exposure.roadM.motorway ?? 0) > 1500, 'distance by road type from the map');
  assert.ok(trip.score?.breakdown.some((f) => f.factor === 'road_type'));
  assert.ok(trip.score && trip.score.score < 100);
  const penalty = trip.score.breakdown.reduce((sum, f) => sum + f.points, 0);
  assert.ok(Math.abs(penalty - (100 - trip.score.score)) < 0.05, 'the breakdown explains the whole score');
});

test('a crash is raised on the point that confirms it, before the trip ends', () => {
  const t0 = Date.UTC(2026, 10, 24, 10);
  const points = northbound(t0, [...Array(20).fill(15), 3, 0, 0, 0, 0]);
  points[20] = { ...points[20]!, accelMps2: { x: -60, y: 10, z: 9.81 } };
  const { steps, completed } = feed(points);
  const alerts = steps.flatMap((s) => s.alerts);
  assert.equal(alerts.length, 1);
  assert.equal(alerts[0]!.type, 'crash');
  assert.equal(alerts[0]!.tripId, `car-1.${t0}`);
  assert.deepEqual(completed, [], 'the trip is still open');
  const active = steps.flatMap((s) => s.changes).filter((c) => c.status === 'active' && c.events.some((e) => e.type === 'crash'));
  assert.equal(active.length, 1, 'the open trip is republished with the crash at once');
});

test('cleaning: a (0,0) fix and a teleport are counted and move neither distance nor score', () => {
  const t0 = Date.UTC(2026, 10, 24, 10);
  const clean = northbound(t0, Array(60).fill(15));
  const dirty = clean.map((p, i) => (i === 20 ? { ...p, lat: 0, lon: 0 } : i === 40 ? { ...p, lat: p.lat + 1 } : p));
  const a = feed(clean).silence()[0]!;
  const run = feed(dirty);
  const b = run.silence()[0]!;
  const reasons = run.steps.flatMap((s) => s.rejected.map((r) => r.reason)).sort();
  assert.deepEqual(reasons, ['null_island', 'teleport']);
  assert.ok(Math.abs(a.distanceM - b.distanceM) < 0.02 * a.distanceM, `${a.distanceM} vs ${b.distanceM}`);
  assert.equal(b.pointCount, a.pointCount - 2);
  assert.equal(b.score?.score, a.score?.score);
});

test('a failing enricher is counted and the trip still completes', () => {
  const broken: TripContext = { ...context, placeAt: () => { throw new Error('gazetteer unavailable'); } };
  let state = initialState('car-2', 'veh-2', 'acme');
  const points = northbound(Date.UTC(2026, 10, 24, 10), Array(30).fill(15));
  state = onPoints(state, points, points[29]!.tsMs, config, broken).state;
  const [trip] = onSilence(state, config, broken).changes;
  assert.equal(trip?.status, 'completed');
  assert.deepEqual(trip?.enrichmentFailures, ['place_name']);
  assert.equal(trip?.startPlace, null);
});

test('a trip ended by standing still keeps the events of its last moments', () => {
  const t0 = Date.UTC(2026, 10, 24, 10);
  const speeds = [...Array(30).fill(15), 9.5, 4, 0, ...Array(700).fill(0)];
  const points = northbound(t0, speeds).map((p, i) => (i === 30 || i === 31 ? { ...p, accelMps2: { x: -5.5, y: 0, z: 9.81 } } : p));
  const { completed } = feed(points);
  assert.equal(completed.length, 1);
  assert.equal(completed[0]!.endReason, 'idle');
  assert.equal(completed[0]!.eventCounts.harsh_braking, 1);
  assert.ok(completed[0]!.exposure.movingS >= 30);
});

test('points without a speed still count as moving time', () => {
  const t0 = Date.UTC(2026, 10, 24, 22, 30);
  const points = northbound(t0, Array(60).fill(15)).map(({ speedMps: _, ...p }) => p);
  const [trip] = feed(points).silence();
  assert.ok(trip && trip.exposure.movingS > 50 && trip.exposure.nightS > 50, JSON.stringify(trip?.exposure));
});

test('seqGapWaitS: an ignition-off message that overtook the one before it ends the trip once that one arrives, with all points', () => {
  const waiting = { ...config, cleaning: { ...config.cleaning, seqGapWaitS: 30 } };
  const t0 = Date.UTC(2026, 10, 24, 10);
  const points = northbound(t0, [...Array(40).fill(15), 10, 5, 0, 0, 0, 0]).map((p, i) => ({ ...p, seq: i }));
  points[points.length - 1] = { ...points[points.length - 1]!, ignition: false };
  const messages = [points.slice(0, 20), points.slice(20, 36), points.slice(36)];
  const run = (order: number[], pipeline = waiting) => {
    let state = initialState('car-1', 'veh-1', 'acme');
    const changes: TripSummary[] = [];
    order.forEach((m, i) => {
      const step = onPoints(state, messages[m]!, t0 + 60_000 + i * 1000, pipeline, context);
      changes.push(...step.changes);
      state = step.state;
    });
    return { completed: changes.filter((c) => c.status === 'completed'), state };
  };
  const inOrder = run([0, 1, 2]).completed;
  assert.equal(inOrder.length, 1);
  assert.equal(inOrder[0]!.pointCount, points.length);
  const overtaken = run([0, 2, 1]);
  assert.deepEqual(overtaken.completed, inOrder, 'the same trip');
  const without = run([0, 2, 1], config).completed;
  assert.ok(without[0] && without[0].pointCount < points.length, 'without the wait the late points were lost');
  // The missing message never comes: the trip waits, and the device's silence ends it.
  const lost = run([0, 2]);
  assert.deepEqual(lost.completed, [], 'no trip end while points before it may still come');
  const [ended] = onSilence(lost.state, waiting, context).changes.filter((c) => c.status === 'completed');
  assert.equal(ended?.endReason, 'ignition_off');
  assert.equal(ended?.pointCount, points.length - 16);
});

test('arrivalHoldS: without seqs, an ignition-off message that overtook the one before it ends the trip at the tick after the hold, with all points', () => {
  const holding = { ...config, cleaning: { ...config.cleaning, arrivalHoldS: 1 } };
  const t0 = Date.UTC(2026, 10, 24, 10);
  const points = northbound(t0, [...Array(40).fill(15), 10, 5, 0, 0, 0, 0]);
  points[points.length - 1] = { ...points[points.length - 1]!, ignition: false };
  const messages = [points.slice(0, 20), points.slice(20, 36), points.slice(36)];
  // A backlog sent at once: message m received at 20 ms * m, processed in `order`.
  const run = (order: number[], pipeline = holding) => {
    let state = initialState('car-1', 'veh-1', 'acme');
    const changes: TripSummary[] = [];
    const take = (step: StreamStep) => {
      changes.push(...step.changes);
      state = step.state;
    };
    for (const m of order) take(onPoints(state, messages[m]!, t0 + 60_000 + m * 20, pipeline, context));
    const beforeTick = changes.filter((c) => c.status === 'completed').length;
    take(onTick(state, t0 + 60_000 + 40 + 1000, pipeline, context));
    return { completed: changes.filter((c) => c.status === 'completed'), beforeTick, state };
  };
  const overtaken = run([0, 2, 1]);
  assert.equal(overtaken.beforeTick, 0, 'ignition off waits for the hold');
  assert.equal(overtaken.completed.length, 1);
  assert.equal(overtaken.completed[0]!.pointCount, points.length, 'every point in the trip');
  assert.equal(overtaken.completed[0]!.endReason, 'ignition_off');
  assert.equal(overtaken.state.lastMessageAtMs, t0 + 60_000 + 20, 'a tick is not a message of the device');
  const without = run([0, 2, 1], config).completed;
  assert.ok(without[0] && without[0].pointCount < points.length, 'without the hold the late points were lost');
});
