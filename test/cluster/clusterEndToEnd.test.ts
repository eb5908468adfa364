import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { DeviceCredentials } from '../../src/ports/deviceRegistry.js';
import { TOPICS, toWire } from '../../src/functions/ingest/wireFormat.js';
import { fleetDeviceIds, runFleet } from '../../src/sim/fleet.js';
import { simulateTrip } from '../../src/sim/vehicleModel.js';
import type { Role } from '../../src/runtime/cluster/roles.js';
import { connectDevice } from '../../testkit/mqttDevice.js';
import { clusterPackagesMissing, clusterToken, registerThroughApi, startTestCluster } from '../../testkit/localClusterTest.js';
import { eventually } from '../../testkit/platform.js';
import { scrapeMetrics, total } from '../../testkit/prometheusText.js';

const skip = clusterPackagesMissing();
let cluster: Awaited<ReturnType<typeof startTestCluster>>;
let apiUrl = '';

before(async () => {
  if (skip) return;
  cluster = await startTestCluster();
  // Consumers first, ingest last, as `tripline cluster up` does.
  const api = await cluster.startProcess('api-1', ['api']);
  apiUrl = `http://127.0.0.1:${api.httpPort}`;
  await cluster.startProcess('sync-1', ['sync']);
  await cluster.startProcess('worker-1', ['worker']);
  await cluster.startProcess('worker-2', ['worker']);
  await cluster.startProcess('ingest-1', ['ingest']);
  await cluster.startProcess('ingest-2', ['ingest']);
});
after(async () => {
  await cluster?.cleanup();
});

/** One process's metric, summed over the samples whose labels match `where`. */
async function metric(port: number, name: string, where: Record<string, string> = {}): Promise<number> {
  const samples = await scrapeMetrics(`http://127.0.0.1:${port}`);
  // A labelled series appears once counted; an unlabelled metric is always served, so missing it is a wrong name.
  if (Object.keys(where).length === 0 && !samples.some((sample) => sample.name === name)) throw new Error(`no ${name} on port ${port}`);
  return total(samples, name, where);
}

/** A metric summed over every process of a role. */
async function roleTotal(role: Role, name: string, where: Record<string, string> = {}): Promise<number> {
  const processes = [...cluster.processes.values()].filter((p) => p.roles.includes(role));
  return (await Promise.all(processes.map((p) => metric(p.httpPort, name, where)))).reduce((a, b) => a + b, 0);
}

const register = async (deviceIds: string[]): Promise<Map<string, DeviceCredentials>> =>
  registerThroughApi(apiUrl, await clusterToken(cluster, 'devices:write'), deviceIds);

test('cluster: cars registered through the API drive through Mosquitto; two ingest and two worker processes share the load; trips are found through the API', { skip: skip ?? false }, async () => {
  const credentials = await register(fleetDeviceIds(12, 'car-'));
  const summary = await runFleet({
    brokerUrl: cluster.env.TRIPLINE_MQTT_URL!, vehicles: 12, speedup: Number.POSITIVE_INFINITY, tripsPerVehicle: 1, deviceIdPrefix: 'car-', seed: 7,
    credentials: (deviceId) => credentials.get(deviceId) ?? {},
  });
  assert.ok(summary.points > 1000, `the fleet sent ${summary.points} points`);

  const readToken = await clusterToken(cluster, 'trips:read');
  const trips = await eventually(async () => {
    const response = await fetch(`${apiUrl}/v1/trips?limit=100&status=completed`, { headers: { authorization: `Bearer ${readToken}` } });
    const body = (await response.json()) as { trips: Array<{ tripId: string; deviceId: string; pointCount: number; score: unknown }> };
    return body.trips.length >= summary.trips && body.trips;
  }, 60_000, 'every trip completed and searchable');
  assert.equal(trips.length, summary.trips);
  assert.equal(new Set(trips.map((trip) => trip.deviceId)).size, 12);
  assert.ok(trips.every((trip) => trip.score !== null));

  const processes = [...cluster.processes.values()];
  const stored = await Promise.all(processes.filter((p) => p.roles.includes('worker')).map((p) => metric(p.httpPort, 'tripline_points_stored_total')));
  const received = await Promise.all(processes.filter((p) => p.roles.includes('ingest')).map((p) => metric(p.httpPort, 'tripline_points_received_total')));
  assert.ok(stored.every((n) => n > 0), `both workers stored points: ${stored.join(', ')}`);
  assert.ok(received.every((n) => n > 0), `both ingest processes took messages: ${received.join(', ')}`);
  assert.equal(received.reduce((a, b) => a + b, 0), summary.points, 'every point reached the bus once');
  // The shared subscription spreads a device's messages over ingest connections, so they reach the
  // bus out of order; the workers must put them back in order, not drop them.
  assert.equal(stored.reduce((a, b) => a + b, 0), summary.points, 'every point stored, none dropped as out of order');
  await eventually(async () => (await roleTotal('worker', 'tripline_active_trips')) === 0, 10_000, 'no trip left open');
  // Workers report the backlog of their own partitions, ingest that of the whole bus, each in its own gauge.
  await eventually(async () => (await roleTotal('worker', 'tripline_bus_backlog_messages')) === 0, 10_000, 'the workers\' partitions drained');
  await eventually(async () => (await roleTotal('ingest', 'tripline_ingest_backlog_messages')) === 0, 10_000, 'the bus drained, as ingest sees it');
});

test('cluster: devices without seq unloading a backlog at once, their messages passing each other between ingest processes, lose no point', { skip: skip ?? false }, async () => {
  const deviceIds = fleetDeviceIds(6, 'backlog-');
  const credentials = await register(deviceIds);
  const storedBefore = await roleTotal('worker', 'tripline_points_stored_total');
  const trips = deviceIds.map((deviceId, i) => simulateTrip({ deviceId, seed: 100 + i, startMs: Date.now() - 3_600_000, durationS: 300 }).points.map(({ seq: _seq, ...point }) => point));
  const sent = trips.reduce((sum, points) => sum + points.length, 0);
  // A dead zone's backlog: every message in flight at once (QoS 1, no waiting for each PUBACK), 10 points each.
  await Promise.all(deviceIds.map(async (deviceId, i) => {
    const device = await connectDevice(cluster.env.TRIPLINE_MQTT_URL!, credentials.get(deviceId)!);
    const points = trips[i]!;
    const messages = Array.from({ length: Math.ceil(points.length / 10) }, (_, m) => JSON.stringify({ points: points.slice(m * 10, m * 10 + 10).map(toWire) }));
    await Promise.all(messages.map((payload) => device.publishAsync(TOPICS.telemetry(deviceId), payload, { qos: 1 })));
    await device.endAsync();
  }));
  const readToken = await clusterToken(cluster, 'trips:read');
  await eventually(async () => {
    const response = await fetch(`${apiUrl}/v1/trips?limit=100&status=completed`, { headers: { authorization: `Bearer ${readToken}` } });
    const body = (await response.json()) as { trips: Array<{ deviceId: string }> };
    return deviceIds.every((deviceId) => body.trips.some((trip) => trip.deviceId === deviceId));
  }, 60_000, 'every backlog trip completed (ignition off, released by the tick after the hold)');
  const stored = (await roleTotal('worker', 'tripline_points_stored_total')) - storedBefore;
  const outOfOrder = await roleTotal('worker', 'tripline_points_filtered_total', { reason: 'out_of_order' });
  assert.equal(outOfOrder, 0, 'none judged out of order');
  assert.equal(stored, sent, `every point stored (${stored} of ${sent})`);
});
