import { test } from 'node:test';
import assert from 'node:assert/strict';
import { haversineM } from '../../src/domain/geo.js';
import { MAX_SPEED_MPS, simulateTrip, type SimulatedTrip } from '../../src/sim/vehicleModel.js';

const START_MS = Date.UTC(2025, 0, 6, 8, 0, 0);
const trip = (seed: number, extra: Partial<Parameters<typeof simulateTrip>[0]> = {}): SimulatedTrip =>
  simulateTrip({ deviceId: 'veh-1', seed, startMs: START_MS, ...extra });
const seeds = [1, 2, 3, 4, 5, 6, 7, 8];

test('the same seed gives the same trip; another seed gives another', () => {
  assert.deepEqual(trip(42), trip(42));
  assert.notDeepEqual(trip(42).points, trip(43).points);
});

test('points are 1 Hz, seq continues from firstSeq, ignition goes off on the last point only', () => {
  const { points, nextSeq, truth } = trip(7, { firstSeq: 1000 });
  points.forEach((p, i) => {
    assert.equal(p.tsMs, START_MS + i * 1000);
    assert.equal(p.seq, 1000 + i);
    assert.equal(p.ignition, i < points.length - 1);
  });
  assert.equal(nextSeq, 1000 + points.length);
  assert.equal(truth.trip.pointCount, points.length);
  assert.equal(truth.trip.endMs, points[points.length - 1]!.tsMs);
  assert.equal(points[0]!.speedMps, 0);
  assert.equal(points[points.length - 1]!.speedMps, 0);
});

test('speeds stay within bounds and the trip lasts its duration plus the final stop', () => {
  for (const seed of seeds) {
    const { points } = trip(seed, { durationS: 600 });
    for (const p of points) assert.ok(p.speedMps! >= 0 && p.speedMps! <= MAX_SPEED_MPS, `speed ${p.speedMps}`);
    assert.ok(Math.max(...points.map((p) => p.speedMps!)) > 10, 'the car actually drives');
    assert.ok(points.length >= 600 && points.length < 600 + 60, `${points.length} points`);
  }
});

test('positions are consistent with speed, distance is the trapezoid of speed', () => {
  for (const seed of seeds) {
    const { points, truth } = trip(seed);
    let trapezoidM = 0;
    for (let i = 1; i < points.length; i++) {
      const a = points[i - 1]!;
      const b = points[i]!;
      const expectedM = (a.speedMps! + b.speedMps!) / 2;
      trapezoidM += expectedM;
      const movedM = haversineM(a.lat, a.lon, b.lat, b.lon);
      // 0.05 m covers the 7-decimal rounding of the coordinates.
      assert.ok(Math.abs(movedM - expectedM) <= 0.1 * expectedM + 0.05, `seed ${seed} step ${i}: moved ${movedM} m at ${expectedM} m/s`);
    }
    assert.ok(Math.abs(truth.trip.distanceM - trapezoidM) < 0.01);
    assert.ok(truth.trip.distanceM > 1000, `distance ${truth.trip.distanceM}`);
  }
});

test('speed is the integral of the reported longitudinal acceleration', () => {
  const { points } = trip(11);
  for (let i = 1; i < points.length; i++) {
    const dv = points[i]!.speedMps! - points[i - 1]!.speedMps!;
    assert.ok(Math.abs(dv - points[i]!.accelMps2!.x) < 0.5, `step ${i}: dv ${dv} vs accel ${points[i]!.accelMps2!.x}`);
  }
});

test('injected events are labelled and present in the data; normal driving stays gentle', () => {
  const counts = { harsh_braking: 0, harsh_acceleration: 0, harsh_cornering: 0 };
  for (const seed of seeds) {
    const { points, truth } = trip(seed, { durationS: 900, harshEvents: { harsh_braking: 1, harsh_acceleration: 1, harsh_cornering: 1 } });
    for (const event of truth.events) {
      counts[event.type]++;
      assert.equal(event.deviceId, 'veh-1');
      assert.ok(event.endMs - event.startMs <= 2000);
      const during = points.filter((p) => p.tsMs >= event.startMs && p.tsMs <= event.endMs);
      assert.ok(during.length >= 1);
      assert.deepEqual([during[0]!.lat, during[0]!.lon], [event.lat, event.lon]);
      for (const p of during) {
        const { x, y } = p.accelMps2!;
        if (event.type === 'harsh_braking') assert.ok(x < -4, `braking x ${x}`);
        if (event.type === 'harsh_acceleration') assert.ok(x > 3.6, `acceleration x ${x}`);
        if (event.type === 'harsh_cornering') assert.ok(Math.abs(y) > 4, `cornering y ${y}`);
      }
      assert.ok(event.peakMps2 > 3.8 && event.peakMps2 < 5.2, `peak ${event.peakMps2}`);
    }
    const calm = points.filter((p) => !truth.events.some((e) => p.tsMs >= e.startMs && p.tsMs <= e.endMs + 2000));
    for (const p of calm) {
      assert.ok(Math.abs(p.accelMps2!.x) < 3 && Math.abs(p.accelMps2!.y) < 3, `calm point at ${p.tsMs}: ${JSON.stringify(p.accelMps2)}`);
      assert.ok(Math.abs(p.gyroRadps!.z) <= 0.37, `yaw rate ${p.gyroRadps!.z}`);
    }
  }
  // Every type must be injected in most trips (an event waits until the car can perform it).
  for (const [type, n] of Object.entries(counts)) assert.ok(n >= seeds.length - 1, `${type}: ${n}/${seeds.length}`);
});

test('no events are injected when none are asked for', () => {
  const none = { harsh_braking: 0, harsh_acceleration: 0, harsh_cornering: 0 };
  assert.deepEqual(trip(3, { harshEvents: none }).truth.events, []);
});
