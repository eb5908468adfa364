import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Scope } from '../../src/api/auth.js';
import type { TripSummary } from '../../src/domain/trip.js';
import { simulateTrip } from '../../src/sim/vehicleModel.js';
import { connectDevice, publishPoints } from '../../testkit/mqttDevice.js';
import { eventually, startTestPlatform, type TestPlatform } from '../../testkit/platform.js';

/**
 * Tenant isolation, driven by the API's own route table (its OpenAPI document): for every route
 * that takes an id, tenant A's token with tenant B's id gets 404; list and search routes never
 * show B's data to A. A route added without a case here fails the test.
 */
let t: TestPlatform;
const tenants = ['acme', 'globex'] as const;
type Tenant = (typeof tenants)[number];
const tokens = {} as Record<Tenant, string>;
const tripIds = {} as Record<Tenant, string>;
const webhookIds = {} as Record<Tenant, string>;
/** A second webhook per tenant, for the DELETE case (the first stays for the list cases). */
const spareWebhookIds = {} as Record<Tenant, string>;
const traceIds = {} as Record<Tenant, string>;

before(async () => {
  t = await startTestPlatform();
  const startMs = Date.now() - 3_600_000;
  for (const [i, tenant] of tenants.entries()) {
    tokens[tenant] = await t.token({ tenantId: tenant, scopes: ['admin'] });
    const deviceId = `${tenant}-car`;
    const credentials = await t.device(deviceId, { tenantId: tenant, vehicleId: `${tenant}-van`, driverId: `${tenant}-driver`, policyId: `${tenant}-policy` });
    await t.device(`${tenant}-spare`, { tenantId: tenant, vehicleId: `${tenant}-van-2` });
    const trip = simulateTrip({ deviceId, seed: 40 + i, startMs, durationS: 300, harshEvents: { harsh_braking: 2 } });
    const client = await connectDevice(t.mqttUrl, credentials);
    await publishPoints(client, deviceId, trip.points, 10);
    await client.endAsync();
  }
  for (const tenant of tenants) {
    const trips = await eventually(async () => {
      const { body } = await call(tenant, 'GET', '/v1/trips?status=completed');
      return (body as { trips: TripSummary[] }).trips.length === 1 && (body as { trips: TripSummary[] }).trips;
    }, 20_000, `${tenant}'s trip to complete`);
    tripIds[tenant] = trips[0]!.tripId;
    // Nothing listens on port 9 (discard): deliveries, if any, fail quietly.
    webhookIds[tenant] = ((await call(tenant, 'POST', '/v1/webhooks', { url: `http://127.0.0.1:9/${tenant}-hook` })).body as { webhookId: string }).webhookId;
    spareWebhookIds[tenant] = ((await call(tenant, 'POST', '/v1/webhooks', { url: `http://127.0.0.1:9/${tenant}-spare-hook` })).body as { webhookId: string }).webhookId;
    traceIds[tenant] = trips[0]!.traceIds![0]!;
  }
});
after(() => t.stop());

async function call(tenant: Tenant | null, method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; body: unknown; text: string }> {
  const headers: Record<string, string> = {};
  const bearer = token ?? (tenant ? tokens[tenant] : undefined);
  if (bearer) headers.authorization = `Bearer ${bearer}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${t.httpUrl}${path}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  if (response.headers.get('content-type')?.startsWith('text/event-stream')) {
    // A live stream never ends: its first chunk (the "connected" comment) stands for the body.
    const reader = response.body!.getReader();
    const first = await reader.read();
    await reader.cancel();
    return { status: response.status, text: new TextDecoder().decode(first.value), body: null };
  }
  const text = await response.text();
  return { status: response.status, text, body: text ? (JSON.parse(text) as unknown) : null };
}

interface IdCase {
  kind: 'id';
  /** The route filled with the ids of `owner`. */
  path: (owner: Tenant) => string;
  body?: unknown;
}
interface ListCase {
  kind: 'list';
  path: string;
  body?: unknown;
  /** The body to send as a given tenant (instead of `body` with a `deviceId` of that tenant). */
  bodyFor?: (tenant: Tenant) => unknown;
  /** Besides "never shows the other tenant", what proves the route returned the caller's own data. */
  ownData: (tenant: Tenant, body: unknown) => boolean;
}

/** One case per route of the OpenAPI document, keyed "METHOD path". */
const CASES: Record<string, IdCase | ListCase> = {
  'GET /v1/trips': { kind: 'list', path: '/v1/trips?limit=500', ownData: (tenant, body) => JSON.stringify(body).includes(`${tenant}-car`) },
  'GET /v1/trips/{tripId}': { kind: 'id', path: (owner) => `/v1/trips/${tripIds[owner]}` },
  'GET /v1/trips/{tripId}/track': { kind: 'id', path: (owner) => `/v1/trips/${tripIds[owner]}/track` },
  'GET /v1/traces/{traceId}': { kind: 'id', path: (owner) => `/v1/traces/${traceIds[owner]}` },
  'GET /v1/vehicles/{vehicleId}/score': { kind: 'id', path: (owner) => `/v1/vehicles/${owner}-van/score` },
  'GET /v1/events': { kind: 'list', path: '/v1/events?limit=500', ownData: (tenant, body) => JSON.stringify(body).includes(`${tenant}-car`) },
  'GET /v1/vehicles': { kind: 'list', path: '/v1/vehicles', ownData: (tenant, body) => JSON.stringify(body).includes(`${tenant}-van`) },
  'GET /v1/drivers': { kind: 'list', path: '/v1/drivers', ownData: (tenant, body) => JSON.stringify(body).includes(`${tenant}-driver`) },
  'GET /v1/stats': { kind: 'list', path: '/v1/stats', ownData: (_, body) => (body as { trips: number }).trips === 1 },
  'GET /v1/devices': { kind: 'list', path: '/v1/devices', ownData: (tenant, body) => JSON.stringify(body).includes(`${tenant}-spare`) },
  'POST /v1/devices': { kind: 'list', path: '/v1/devices', body: { deviceId: 'new-car', vehicleId: 'new-van' }, ownData: (tenant, body) => JSON.stringify(body).includes(`${tenant}-new-car`) },
  'GET /v1/devices/{deviceId}': { kind: 'id', path: (owner) => `/v1/devices/${owner}-car` },
  'POST /v1/devices/{deviceId}/rotate': { kind: 'id', path: (owner) => `/v1/devices/${owner}-spare/rotate`, body: { overlapS: 60 } },
  'POST /v1/devices/{deviceId}/revoke': { kind: 'id', path: (owner) => `/v1/devices/${owner}-spare/revoke` },
  'GET /v1/webhooks': { kind: 'list', path: '/v1/webhooks', ownData: (tenant, body) => JSON.stringify(body).includes(`${tenant}-hook`) },
  'POST /v1/webhooks': {
    kind: 'list', path: '/v1/webhooks', body: { url: 'http://127.0.0.1:9/any-hook' },
    bodyFor: (tenant) => ({ url: `http://127.0.0.1:9/${tenant}-new-hook` }),
    ownData: (tenant, body) => JSON.stringify(body).includes(`${tenant}-new-hook`) && typeof (body as { secret?: unknown }).secret === 'string',
  },
  'GET /v1/webhooks/{webhookId}': { kind: 'id', path: (owner) => `/v1/webhooks/${webhookIds[owner]}` },
  'GET /v1/webhooks/{webhookId}/deliveries': { kind: 'id', path: (owner) => `/v1/webhooks/${webhookIds[owner]}/deliveries` },
  'DELETE /v1/webhooks/{webhookId}': { kind: 'id', path: (owner) => `/v1/webhooks/${spareWebhookIds[owner]}` },
  // The stream's own isolation (alerts of one tenant never reach another's stream) is tested in alerts.test.ts.
  'GET /v1/alerts/stream': { kind: 'list', path: '/v1/alerts/stream', ownData: () => true },
  // Only active trips are listed (these are all completed); positions.test.ts shows each tenant its own live cars.
  'GET /v1/positions': { kind: 'list', path: '/v1/positions', ownData: (_, body) => Array.isArray((body as { positions?: unknown }).positions) },
};

async function protectedRoutes(): Promise<string[]> {
  const spec = (await call(null, 'GET', '/openapi.json')).body as { paths: Record<string, Record<string, unknown>> };
  return Object.entries(spec.paths)
    .filter(([path]) => path.startsWith('/v1/'))
    .flatMap(([path, methods]) => Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`));
}

test('every route of the API has a tenant-isolation case', async () => {
  const routes = await protectedRoutes();
  assert.ok(routes.length >= 13);
  assert.deepEqual(routes.filter((route) => !(route in CASES)), [], 'routes without a case: add one to CASES');
  assert.deepEqual(Object.keys(CASES).filter((route) => !routes.includes(route)), [], 'cases for routes that no longer exist');
});

test("tenant A's token with tenant B's ids gets 404, and B's own token finds them", async () => {
  for (const [route, spec] of Object.entries(CASES)) {
    if (spec.kind !== 'id') continue;
    const method = route.split(' ')[0]!;
    for (const [caller, owner] of [['acme', 'globex'], ['globex', 'acme']] as const) {
      const stranger = await call(caller, method, spec.path(owner), spec.body);
      assert.equal(stranger.status, 404, `${route}: ${caller} asking for ${owner}'s id`);
      assert.ok(!stranger.text.includes(owner), `${route}: the 404 does not echo ${owner}'s data`);
    }
    // The ids are real: their owner gets them (revoke last, as it changes the device for good).
    for (const owner of tenants) assert.equal((await call(owner, method, spec.path(owner), spec.body)).status, 200, `${route}: ${owner} reads its own`);
  }
});

test("list and search routes never return another tenant's data", async () => {
  for (const [route, spec] of Object.entries(CASES)) {
    if (spec.kind !== 'list') continue;
    const method = route.split(' ')[0]!;
    for (const [caller, other] of [['acme', 'globex'], ['globex', 'acme']] as const) {
      const body = spec.bodyFor ? spec.bodyFor(caller) : spec.body && typeof spec.body === 'object' ? { ...spec.body, deviceId: `${caller}-new-car` } : undefined;
      const response = await call(caller, method, spec.path, body);
      assert.ok(response.status === 200 || response.status === 201, `${route} as ${caller}: ${response.status} ${response.text.slice(0, 200)}`);
      assert.ok(!response.text.includes(other), `${route} as ${caller} shows nothing of ${other}`);
      assert.ok(spec.ownData(caller, response.body), `${route} as ${caller} shows its own data`);
    }
  }
  // A device created by one tenant is invisible to the other.
  assert.equal((await call('globex', 'GET', '/v1/devices/acme-new-car')).status, 404);
});

test('every /v1 route needs a token (401) and its scope (403)', async () => {
  const readOnly = await t.token({ tenantId: 'acme', scopes: ['trips:read'] });
  const devicesOnly = await t.token({ tenantId: 'acme', scopes: ['devices:write'] as Scope[] });
  for (const route of await protectedRoutes()) {
    const spec = CASES[route]!;
    const [method] = route.split(' ') as [string];
    const path = spec.kind === 'id' ? spec.path('acme') : spec.path;
    const anonymous = await call(null, method, path, spec.body);
    assert.equal(anonymous.status, 401, `${route} without a token`);
    assert.match((anonymous.body as { message: string }).message, /token/);
    const needed = path.startsWith('/v1/devices') ? 'devices:write' : path.startsWith('/v1/webhooks') ? 'admin' : 'trips:read';
    const wrongScope = await call(null, method, path, spec.body, needed === 'trips:read' ? devicesOnly : readOnly);
    assert.equal(wrongScope.status, 403, `${route} with the wrong scope`);
    assert.match((wrongScope.body as { message: string }).message, new RegExp(needed));
  }
});
