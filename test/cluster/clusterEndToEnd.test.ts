import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { DeviceCredentials } from '../../src/ports/deviceRegistry.js';
import { fleetDeviceIds, runFleet } from '../../src/sim/fleet.js';
import { clusterPackagesMissing, clusterToken, startTestCluster } from '../../testkit/localClusterTest.js';
import { eventually } from '../../testkit/platform.js';

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

async function metric(port: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(' ')[1]) : 0;
}

test('cluster: cars registered through the API drive through Mosquitto; two ingest and two worker processes share the load; trips are found through the API', { skip: skip ?? false }, async () => {
  const devicesToken = await clusterToken(cluster, 'devices:write');
  const credentials = new Map<string, DeviceCredentials>();
  for (const deviceId of fleetDeviceIds(12, 'car-')) {
    const response = await fetch(`${apiUrl}/v1/devices`, {
      method: 'POST', headers: { authorization: `Bearer ${devicesToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ deviceId, vehicleId: deviceId }),
    });
    assert.equal(response.status, 201, await response.clone().text());
    credentials.set(deviceId, (await response.json()) as DeviceCredentials);
  }
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
});
