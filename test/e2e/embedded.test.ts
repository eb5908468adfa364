import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { TripSummary } from '../../src/domain/trip.js';
import { simulateTrip } from '../../src/sim/vehicleModel.js';
import { connectDevice, publishPoints } from '../../testkit/mqttDevice.js';
import { eventually, startTestPlatform, type TestPlatform } from '../../testkit/platform.js';
import { byLabel, scrapeMetrics } from '../../testkit/prometheusText.js';

let t: TestPlatform;
before(async () => {
  t = await startTestPlatform();
});
after(async () => {
  await t.stop();
});

test('simulated trips published over MQTT at QoS 1 are found through the API with their points and distance', async () => {
  const startMs = Date.now() - 3_600_000;
  const devices = ['e2e-car-1', 'e2e-car-2', 'e2e-car-3'];
  const simulated = devices.map((deviceId, i) => simulateTrip({ deviceId, seed: 100 + i, startMs: startMs + i * 1000, durationS: 180 + 60 * i }));
  await Promise.all(
    devices.map(async (deviceId, i) => {
      const client = await connectDevice(t.mqttUrl, await t.device(deviceId));
      await publishPoints(client, deviceId, simulated[i]!.points);
      await client.endAsync();
    }),
  );

  for (const [i, deviceId] of devices.entries()) {
    const truth = simulated[i]!.truth.trip;
    const page = await eventually(async () => {
      const { body } = await t.getJson<{ trips: TripSummary[] }>(`${t.httpUrl}/v1/trips?vehicleId=${deviceId}&status=completed`);
      return body.trips.length > 0 ? body : null;
    }, 20_000, `the trip of ${deviceId}`);
    assert.equal(page.trips.length, 1, 'exactly one trip per simulated trip');
    const trip = page.trips[0]!;
    assert.equal(trip.startMs, truth.startMs);
    assert.equal(trip.endMs, truth.endMs);
    assert.equal(trip.pointCount, truth.pointCount);
    assert.ok(Math.abs(trip.distanceM - truth.distanceM) < 0.01 * truth.distanceM, `distance ${trip.distanceM} vs ${truth.distanceM}`);
    assert.equal(trip.endReason, 'ignition_off');

    const { body: one } = await t.getJson<TripSummary>(`${t.httpUrl}/v1/trips/${trip.tripId}`);
    assert.equal(one.tripId, trip.tripId);
    const { status, body: track } = await t.getJson<{ type: string; geometry: { coordinates: number[][] } }>(`${t.httpUrl}/v1/trips/${trip.tripId}/track`);
    assert.equal(status, 200);
    assert.equal(track.type, 'Feature');
    assert.equal(track.geometry.coordinates.length, truth.pointCount);
  }
});

test('the API pages with a stable cursor and rejects bad parameters by name', async () => {
  const first = await t.getJson<{ trips: TripSummary[]; nextCursor: string | null }>(`${t.httpUrl}/v1/trips?limit=2`);
  assert.equal(first.body.trips.length, 2);
  assert.ok(first.body.nextCursor);
  const second = await t.getJson<{ trips: TripSummary[]; nextCursor: string | null }>(`${t.httpUrl}/v1/trips?limit=2&cursor=${first.body.nextCursor}`);
  const ids = [...first.body.trips, ...second.body.trips].map((trip) => trip.tripId);
  assert.equal(new Set(ids).size, ids.length, 'no trip appears on two pages');

  const bad = [
    ['from=yesterday', 'from'], ['limit=100000', 'limit'], ['cursor=garbage', 'cursor'], ['minScore=abc', 'minScore'],
    ['maxScore=101', 'maxScore'], ['bbox=1,2,3', 'bbox'], ['bbox=5,50,4,51', 'bbox'], ['event=tailgating', 'event'],
    ['severity=extreme', 'severity'], ['sort=speed', 'sort'], ['minNightShare=2', 'minNightShare'],
    [`sort=score&cursor=${first.body.nextCursor}`, 'cursor'],
  ] as const;
  for (const [query, name] of bad) {
    const { status, body } = await t.getJson<{ message: string }>(`${t.httpUrl}/v1/trips?${query}`);
    assert.equal(status, 400, query);
    assert.match(body.message, new RegExp(name));
  }
  assert.equal((await t.getJson(`${t.httpUrl}/v1/trips/nope.1`)).status, 404);
});

test('trips are found by place text, events, score and box through the API', async () => {
  const ids = async (query: string) => (await t.getJson<{ trips: TripSummary[] }>(`${t.httpUrl}/v1/trips?${query}`)).body.trips.map((trip) => trip.tripId);
  const all = (await t.getJson<{ trips: TripSummary[] }>(`${t.httpUrl}/v1/trips?status=completed&limit=500`)).body.trips;
  const place = all[0]!.startPlace!;
  assert.ok((await ids(`q=${encodeURIComponent(place.slice(0, 4))}`)).includes(all[0]!.tripId), 'a place prefix finds the trip');
  const braking = all.filter((trip) => (trip.eventCounts.harsh_braking ?? 0) > 0).map((trip) => trip.tripId).sort();
  assert.deepEqual((await ids('event=harsh_braking&limit=500')).sort(), braking);
  const scores = (await t.getJson<{ trips: TripSummary[] }>(`${t.httpUrl}/v1/trips?status=completed&sort=score&order=asc`)).body.trips.map((trip) => trip.score!.score);
  assert.deepEqual(scores, [...scores].sort((a, b) => a - b));
  const [west, south, east, north] = [all[0]!.start.lon - 0.001, all[0]!.start.lat - 0.001, all[0]!.start.lon + 0.001, all[0]!.start.lat + 0.001];
  assert.ok((await ids(`bbox=${west},${south},${east},${north}`)).includes(all[0]!.tripId));
});

test('who passed near a point, events in a box, and fleet figures, through the API', async () => {
  const trip = (await t.getJson<{ trips: TripSummary[] }>(`${t.httpUrl}/v1/trips?vehicleId=e2e-car-2&status=completed`)).body.trips[0]!;
  const { body: track } = await t.getJson<{ geometry: { coordinates: number[][] }; properties: { timesMs: number[] } }>(`${t.httpUrl}/v1/trips/${trip.tripId}/track`);
  const middle = Math.floor(track.geometry.coordinates.length / 2);
  const [lon, lat] = track.geometry.coordinates[middle]!;
  const atMs = track.properties.timesMs[middle]!;
  const near = await t.getJson<{ trips: Array<TripSummary & { approach: { closestMs: number; distanceM: number } }> }>(
    `${t.httpUrl}/v1/trips?near=${lat},${lon},50&from=${atMs - 60_000}&to=${atMs + 60_000}`,
  );
  assert.equal(near.status, 200);
  const hit = near.body.trips.find((tr) => tr.tripId === trip.tripId);
  assert.ok(hit, 'the car that drove through the point in the window is found');
  assert.ok(hit.approach.distanceM < 5 && Math.abs(hit.approach.closestMs - atMs) < 2000);
  const later = await t.getJson<{ trips: TripSummary[] }>(`${t.httpUrl}/v1/trips?near=${lat},${lon},50&from=${atMs + 3_600_000}&to=${atMs + 7_200_000}`);
  assert.equal(later.body.trips.some((tr) => tr.tripId === trip.tripId), false, 'an hour later it was not there');
  assert.equal((await t.getJson(`${t.httpUrl}/v1/trips?near=${lat},${lon},50`)).status, 400, 'near needs a window');

  const events = await t.getJson<{ events: Array<{ tripId: string; event: { type: string } }> }>(`${t.httpUrl}/v1/events?limit=500`);
  assert.equal(events.status, 200);
  const everyTrip = (await t.getJson<{ trips: TripSummary[] }>(`${t.httpUrl}/v1/trips?limit=500`)).body.trips;
  const all = everyTrip.filter((tr) => tr.status === 'completed');
  assert.equal(events.body.events.length, everyTrip.reduce((sum, tr) => sum + tr.events.length, 0), 'every event of every trip');
  const stats = await t.getJson<{ trips: number; eventsByType: Record<string, number>; scoreHistogram: Array<{ trips: number }> }>(`${t.httpUrl}/v1/stats`);
  assert.equal(stats.body.trips, all.length);
  assert.equal(stats.body.scoreHistogram.reduce((sum, band) => sum + band.trips, 0), all.length);
  const vehicles = await t.getJson<{ vehicles: Array<{ id: string; trips: number }> }>(`${t.httpUrl}/v1/vehicles`);
  assert.ok(vehicles.body.vehicles.some((v) => v.id === 'e2e-car-2' && v.trips === 1));
  assert.equal((await t.getJson(`${t.httpUrl}/v1/events?bbox=1,2`)).status, 400);
});

test('health, metrics and the OpenAPI document are served', async () => {
  const health = await t.getJson<{ status: string; components: Record<string, unknown> }>(`${t.httpUrl}/healthz`);
  assert.equal(health.status, 200);
  assert.ok('sync' in health.body.components);
  const metrics = await (await fetch(`${t.httpUrl}/metrics`)).text();
  assert.match(metrics, /tripline_points_stored_total \d+/);
  const spec = await t.getJson<{ paths: Record<string, unknown> }>(`${t.httpUrl}/openapi.json`);
  assert.ok(spec.body.paths['/v1/trips/{tripId}/track']);
});

test('bad messages are acknowledged, counted under their reason, and never reach the stores', async () => {
  const metric = async (): Promise<Map<string, number>> => byLabel(await scrapeMetrics(t.httpUrl), 'tripline_messages_rejected_total', 'reason');
  const before = await metric();
  const { points: storedBefore } = await t.platform.store.counts();
  const client = await connectDevice(t.mqttUrl, await t.device('bad-car'));
  const bad = ['{"ts": 1', '[]', JSON.stringify({ ts: Date.now(), lat: 123, lon: 4 }), JSON.stringify({ ts: Date.now(), lat: 1, lon: 1, extra: true })];
  for (const payload of bad) await client.publishAsync('tripline/bad-car/telemetry', payload, { qos: 1 });
  await client.endAsync();
  const intruder = await connectDevice(t.mqttUrl, await t.device('bad-car'));
  const closed = new Promise<void>((resolve) => intruder.once('close', () => resolve()));
  intruder.publish('tripline/other-car/alerts', '{"crash": true}', { qos: 1 });
  await closed; // publishing outside its own ingest topics closes the connection
  intruder.end(true);
  const after = await metric();
  const delta = (reason: string) => (after.get(reason) ?? 0) - (before.get(reason) ?? 0);
  assert.deepEqual(
    { invalid_json: delta('invalid_json'), schema: delta('schema'), out_of_range: delta('out_of_range'), unknown_topic: delta('unknown_topic') },
    { invalid_json: 1, schema: 2, out_of_range: 1, unknown_topic: 1 },
  );
  assert.equal((await t.platform.store.counts()).points, storedBefore);
});

test('a completed trip carries its events, places, time zone and score; the vehicle has a rolling score', async () => {
  const deviceId = 'e2e-car-1';
  const { body } = await t.getJson<{ trips: TripSummary[] }>(`${t.httpUrl}/v1/trips?vehicleId=${deviceId}&status=completed`);
  const trip = body.trips[0]!;
  const { body: detail } = await t.getJson<TripSummary>(`${t.httpUrl}/v1/trips/${trip.tripId}`);
  assert.equal(detail.timeZone, 'Europe/Brussels');
  assert.ok(detail.startPlace, 'the start is named after the nearest town');
  assert.ok(detail.score && detail.score.breakdown.length > 0);
  assert.equal(Object.values(detail.eventCounts).reduce((a, b) => a + (b ?? 0), 0), detail.events.length);
  const { status, body: score } = await t.getJson<{ vehicleId: string; score: number; trips: number }>(`${t.httpUrl}/v1/vehicles/${deviceId}/score`);
  assert.equal(status, 200);
  assert.equal(score.trips, 1);
  assert.equal(score.score, detail.score.score);
});

test('a crash shows on the open trip at once, long before the trip ends', async () => {
  const deviceId = 'e2e-crash';
  const t0 = Date.now() - 60_000;
  const trip = simulateTrip({ deviceId, seed: 7, startMs: t0, durationS: 60, harshEvents: {} });
  const moving = trip.points.filter((p) => (p.speedMps ?? 0) > 5).slice(0, 15).map(({ seq, ...p }) => p);
  const stop = moving[moving.length - 1]!;
  const impact = { ...stop, tsMs: stop.tsMs + 1000, accelMps2: { x: -70, y: 5, z: 9.8 }, speedMps: 2 };
  const still = [1, 2, 3].map((i) => ({ ...stop, tsMs: impact.tsMs + i * 1000, speedMps: 0, accelMps2: { x: 0, y: 0, z: 9.8 } }));
  const client = await connectDevice(t.mqttUrl, await t.device(deviceId));
  await publishPoints(client, deviceId, [...moving, impact, ...still]);
  await client.endAsync();
  const active = await eventually(async () => {
    const { body } = await t.getJson<{ trips: TripSummary[] }>(`${t.httpUrl}/v1/trips?vehicleId=${deviceId}`);
    return body.trips.find((tr) => tr.events.some((e) => e.type === 'crash'));
  }, 10_000, 'the crash on the trip');
  assert.equal(active.status, 'active');
  const metrics = await (await fetch(`${t.httpUrl}/metrics`)).text();
  assert.match(metrics, /tripline_alerts_total{type="crash"} 1/);
});

test('tripline_active_trips counts the trips open now: up while cars drive, back to what it was once they end', async () => {
  const activeTrips = async () => (await t.platform.metrics.activeTrips.get()).values[0]?.value ?? 0;
  const before = await activeTrips();
  const devices = ['gauge-car-1', 'gauge-car-2'];
  const trips = devices.map((deviceId, i) => simulateTrip({ deviceId, seed: 300 + i, startMs: Date.now() - 1_800_000, durationS: 120 }).points);
  const clients = await Promise.all(devices.map(async (deviceId) => connectDevice(t.mqttUrl, await t.device(deviceId))));
  // All but the last few points: the trips are open.
  await Promise.all(devices.map((deviceId, i) => publishPoints(clients[i]!, deviceId, trips[i]!.slice(0, -10))));
  await eventually(async () => (await activeTrips()) === before + 2, 20_000, 'two more trips open');
  await Promise.all(devices.map((deviceId, i) => publishPoints(clients[i]!, deviceId, trips[i]!.slice(-10))));
  await eventually(async () => (await activeTrips()) === before, 20_000, 'back to the trips open before');
  await Promise.all(clients.map((client) => client.endAsync()));
});
