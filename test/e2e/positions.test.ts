import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { simulateTrip } from '../../src/sim/vehicleModel.js';
import { connectDevice, publishPoints } from '../../testkit/mqttDevice.js';
import { eventually, getJson, startTestPlatform, type TestPlatform } from '../../testkit/platform.js';

/** `GET /v1/positions`, the live map's source: each active trip's newest point, the caller's tenant only. */
let t: TestPlatform;
before(async () => {
  t = await startTestPlatform();
});
after(() => t.stop());

interface Positions {
  positions: Array<{ tripId: string; deviceId: string; vehicleId: string; lat: number; lon: number; speedMps: number | null; atMs: number }>;
}

test("each tenant sees where its own cars on a trip are now, and a car leaves the list when its trip ends", async () => {
  const tenants = ['acme', 'globex'] as const;
  const sent: Record<string, { lat: number; lon: number; tsMs: number }> = {};
  const clients = [];
  for (const [i, tenant] of tenants.entries()) {
    const deviceId = `${tenant}-live`;
    const trip = simulateTrip({ deviceId, seed: 70 + i, startMs: Date.now() - 600_000, durationS: 300 });
    // The first two minutes only, with no ignition off: the trip stays open.
    const moving = trip.points.filter((p) => p.tsMs < trip.points[0]!.tsMs + 120_000);
    const client = await connectDevice(t.mqttUrl, await t.device(deviceId, { tenantId: tenant, vehicleId: `${tenant}-van` }));
    await publishPoints(client, deviceId, moving, 10);
    clients.push(client);
    const last = moving[moving.length - 1]!;
    sent[tenant] = { lat: last.lat, lon: last.lon, tsMs: last.tsMs };
  }
  for (const tenant of tenants) {
    const token = await t.token({ tenantId: tenant });
    const body = await eventually(async () => {
      const { status, body } = await getJson<Positions>(`${t.httpUrl}/v1/positions`, token);
      assert.equal(status, 200);
      // The reorder buffer holds the last 2 s of points back; the newest processed one is at most that far behind.
      return body.positions.length === 1 && body.positions[0]!.atMs >= sent[tenant]!.tsMs - 3000 ? body : null;
    }, 10_000, `${tenant}'s car on the live list`);
    const [position] = body.positions;
    assert.equal(position!.deviceId, `${tenant}-live`);
    assert.equal(position!.vehicleId, `${tenant}-van`);
    assert.ok(Math.abs(position!.lat - sent[tenant]!.lat) < 0.002 && Math.abs(position!.lon - sent[tenant]!.lon) < 0.002, 'near the newest point sent');
    assert.ok(!JSON.stringify(body).includes(tenant === 'acme' ? 'globex' : 'acme'), 'nothing of the other tenant');
  }
  for (const client of clients) await client.endAsync();
  // The test platform closes a silent live trip after 3 s.
  await eventually(async () => (await getJson<Positions>(`${t.httpUrl}/v1/positions`, await t.token({ tenantId: 'acme' }))).body.positions.length === 0, 15_000, 'the silent trip to leave the list');
  assert.equal((await getJson(`${t.httpUrl}/v1/positions`)).status, 401);
});
