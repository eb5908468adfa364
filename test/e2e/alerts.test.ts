import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Alert } from '../../src/domain/alerts/alert.js';
import { SIGNATURE_HEADER, verifySignature } from '../../src/domain/alerts/webhookSignature.js';
import { TOPICS, toWire } from '../../src/functions/ingest/wireFormat.js';
import { crashScenario } from '../../testkit/crashPoints.js';
import { connectDevice, publishPoints } from '../../testkit/mqttDevice.js';
import { eventually, startTestPlatform, type TestPlatform } from '../../testkit/platform.js';
import { openSse } from '../../testkit/sseClient.js';
import { startWebhookReceiver, type WebhookReceiver } from '../../testkit/webhookReceiver.js';

/** Crash alerts over every channel, end to end: real MQTT devices, a real HTTP receiver, a real SSE client. */
let t: TestPlatform;
const receivers: WebhookReceiver[] = [];

before(async () => {
  // Short waits between tries, so retries and dead letters happen within the test.
  t = await startTestPlatform({ webhookRetryBaseMs: 200, webhookMaxAttempts: 3 });
});
after(async () => {
  await t.stop();
  for (const receiver of receivers) await receiver.close();
});

async function api(tenantId: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const token = await t.token({ tenantId, scopes: ['admin'] });
  const response = await fetch(`${t.httpUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: response.status, body: await response.json() };
}

/** Drives the car, then sends the crash message; resolves with when that message was published. */
async function crash(deviceId: string, tenantId: string, seed: number): Promise<number> {
  const client = await connectDevice(t.mqttUrl, await t.device(deviceId, { tenantId }));
  const { moving, crash: points } = crashScenario(deviceId, seed, Date.now() - 60_000);
  await publishPoints(client, deviceId, moving);
  const publishedAtMs = Date.now();
  await client.publishAsync(TOPICS.telemetry(deviceId), JSON.stringify({ points: points.map(toWire) }), { qos: 1 });
  await client.endAsync();
  return publishedAtMs;
}

test('a crash reaches the signed webhook, the device downlink and the tenant stream at once, and no one else', async (ctx) => {
  const receiver = await startWebhookReceiver();
  receivers.push(receiver);
  const created = await api('acme', 'POST', '/v1/webhooks', { url: receiver.url });
  assert.equal(created.status, 201);
  const secret = created.body.secret as string;
  assert.match(secret, /^whsec_/);
  assert.equal((await api('acme', 'GET', `/v1/webhooks/${created.body.webhookId}`)).body.secret, undefined, 'the secret is shown once');

  // The device listens on its own downlink; another device may not.
  const deviceId = 'alert-car';
  const listener = await connectDevice(t.mqttUrl, await t.device(deviceId, { tenantId: 'acme' }));
  const [granted] = await listener.subscribeAsync(`tripline/${deviceId}/alerts`, { qos: 1 });
  assert.equal(granted!.qos, 1);
  const downlink: Array<{ alert: Alert; atMs: number }> = [];
  listener.on('message', (_topic, payload) => downlink.push({ alert: JSON.parse(payload.toString()) as Alert, atMs: Date.now() }));
  const snoop = await connectDevice(t.mqttUrl, await t.device('alert-snoop', { tenantId: 'acme' }));
  // mqtt.js rejects a SUBACK of 128 (failure).
  const snoopGranted = await snoop.subscribeAsync(`tripline/${deviceId}/alerts`, { qos: 1 }).then((grants) => grants[0]?.qos !== 128, () => false);
  assert.equal(snoopGranted, false, "another device cannot subscribe to this device's alerts");
  let snooped = 0;
  snoop.on('message', () => snooped++);

  const own = await openSse(`${t.httpUrl}/v1/alerts/stream`, await t.token({ tenantId: 'acme', scopes: ['trips:read'] }));
  const stranger = await openSse(`${t.httpUrl}/v1/alerts/stream`, await t.token({ tenantId: 'globex', scopes: ['trips:read'] }));
  assert.equal(own.status, 200);
  assert.equal(stranger.status, 200);

  // The device publishes from the same session it listens on (a second one with its id would take it over).
  const { moving, crash: points } = crashScenario(deviceId, 7, Date.now() - 60_000);
  await publishPoints(listener, deviceId, moving);
  const publishedAtMs = Date.now();
  await listener.publishAsync(TOPICS.telemetry(deviceId), JSON.stringify({ points: points.map(toWire) }), { qos: 1 });

  const request = await receiver.next((r) => String(r.headers['tripline-alert-id']).includes(':crash:'), 5000);
  // The 1 s promise is measured by bench/alerts.ts; here a loaded runner only has to deliver promptly.
  ctx.diagnostic(`webhook after ${request.receivedAtMs - publishedAtMs} ms`);
  assert.ok(request.receivedAtMs - publishedAtMs < 5000, `webhook after ${request.receivedAtMs - publishedAtMs} ms`);
  const signature = String(request.headers[SIGNATURE_HEADER]);
  assert.ok(verifySignature(secret, request.body, signature, Math.floor(Date.now() / 1000)), 'the signature verifies with the secret');
  assert.ok(!verifySignature('whsec_wrong', request.body, signature, Math.floor(Date.now() / 1000)));
  assert.ok(!verifySignature(secret, request.body.replace('crash', 'crasH'), signature, Math.floor(Date.now() / 1000)), 'a changed body does not verify');
  const alert = JSON.parse(request.body) as Alert;
  assert.equal(alert.type, 'crash');
  assert.equal(alert.deviceId, deviceId);
  assert.equal(alert.tenantId, 'acme');
  assert.equal(request.headers['tripline-alert-id'], alert.alertId);
  assert.match(alert.tripId ?? '', new RegExp(`^${deviceId}\\.`));

  const mqtt = await eventually(async () => downlink[0], 2000, 'the downlink message');
  assert.equal(mqtt.alert.alertId, alert.alertId);
  ctx.diagnostic(`downlink after ${mqtt.atMs - publishedAtMs} ms`);
  assert.ok(mqtt.atMs - publishedAtMs < 5000, `downlink after ${mqtt.atMs - publishedAtMs} ms`);
  const sse = await eventually(async () => own.events[0], 2000, 'the SSE event');
  assert.equal(sse.event, 'alert');
  assert.equal(sse.id, alert.alertId);
  assert.equal((JSON.parse(sse.data) as Alert).alertId, alert.alertId);
  ctx.diagnostic(`SSE after ${sse.receivedAtMs - publishedAtMs} ms`);
  assert.ok(sse.receivedAtMs - publishedAtMs < 5000, `SSE after ${sse.receivedAtMs - publishedAtMs} ms`);

  await new Promise((resolve) => setTimeout(resolve, 500));
  assert.equal(stranger.events.length, 0, "another tenant's stream gets nothing");
  assert.equal(snooped, 0, 'the other device gets nothing');
  assert.equal(receiver.received.length, 1, 'one alert, one webhook request');
  assert.equal(downlink.length, 1);

  // A dashboard that reconnects after an alert gets the ones after it, and not that one again.
  const resumed = await openSse(`${t.httpUrl}/v1/alerts/stream`, await t.token({ tenantId: 'acme', scopes: ['trips:read'] }), alert.alertId);
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(resumed.events.length, 0);
  for (const client of [own, stranger, resumed]) client.close();
  await listener.endAsync();
  await snoop.endAsync();

  const metrics = await (await fetch(`${t.httpUrl}/metrics`)).text();
  assert.match(metrics, /^tripline_alerts_total\{type="crash"\} 1$/m);
  assert.match(metrics, /^tripline_alert_deliveries_total\{channel="webhook",outcome="sent"\} 1$/m);
  assert.match(metrics, /^tripline_alert_deliveries_total\{channel="mqtt",outcome="sent"\} 1$/m);
  assert.match(metrics, /^tripline_alert_deliveries_total\{channel="sse",outcome="sent"\} 1$/m);
  assert.match(metrics, /^tripline_alert_latency_seconds_count\{channel="webhook"\} 1$/m);
});

test('a failing receiver gets retries with growing waits, then a dead letter; a recovering one gets the alert once', async () => {
  const failing = await startWebhookReceiver(() => 500);
  const recovering = await startWebhookReceiver((_, index) => (index < 2 ? 503 : 204));
  receivers.push(failing, recovering);
  const dead = (await api('initech', 'POST', '/v1/webhooks', { url: failing.url })).body.webhookId as string;
  const healed = (await api('initech', 'POST', '/v1/webhooks', { url: recovering.url, types: ['crash'] })).body.webhookId as string;
  await crash('retry-car', 'initech', 11);

  await eventually(async () => failing.received.length >= 3 && recovering.received.length >= 3, 10_000, 'three tries each');
  await new Promise((resolve) => setTimeout(resolve, 1500));
  assert.equal(failing.received.length, 3, 'no more than webhookMaxAttempts tries');
  assert.equal(recovering.received.length, 3, 'no more tries once delivered');
  const ids = new Set([...failing.received, ...recovering.received].map((r) => r.headers['tripline-alert-id']));
  assert.equal(ids.size, 1, 'every try carries the same alert id');
  assert.equal(recovering.received.filter((r) => r.status < 300).length, 1, 'accepted exactly once');
  assert.deepEqual(failing.received.map((r) => r.headers['tripline-delivery-attempt']), ['1', '2', '3']);
  // Base 200 ms, doubled, less up to 20 % jitter: 160–200 ms, then 320–400 ms (plus scheduling).
  const [a, b, c] = failing.received.map((r) => r.receivedAtMs) as [number, number, number];
  assert.ok(b - a >= 150 && b - a < 700, `first wait ${b - a} ms`);
  assert.ok(c - b >= 300 && c - b < 1000, `second wait ${c - b} ms`);
  assert.ok(c - b > b - a, 'the wait grows');

  const deadLetters = (await api('initech', 'GET', `/v1/webhooks/${dead}/deliveries`)).body.deliveries as Array<{ status: string; attempts: number; history: Array<{ httpStatus: number }> }>;
  assert.equal(deadLetters.length, 1);
  assert.equal(deadLetters[0]!.status, 'dead_letter');
  assert.deepEqual(deadLetters[0]!.history.map((h) => h.httpStatus), [500, 500, 500]);
  const delivered = (await api('initech', 'GET', `/v1/webhooks/${healed}/deliveries`)).body.deliveries as Array<{ status: string; history: Array<{ httpStatus: number }> }>;
  assert.equal(delivered[0]!.status, 'delivered');
  assert.deepEqual(delivered[0]!.history.map((h) => h.httpStatus), [503, 503, 204]);
  const metrics = await (await fetch(`${t.httpUrl}/metrics`)).text();
  assert.match(metrics, /^tripline_alert_deliveries_total\{channel="webhook",outcome="dead_letter"\} 1$/m);
});

test('webhook URLs must be http(s), and deleting a webhook stops its deliveries', async () => {
  assert.equal((await api('initech', 'POST', '/v1/webhooks', { url: 'file:///etc/passwd' })).status, 400);
  assert.equal((await api('initech', 'POST', '/v1/webhooks', { url: 'http://127.0.0.1/x', types: ['nope'] })).status, 400);
  const receiver = await startWebhookReceiver();
  receivers.push(receiver);
  const { webhookId } = (await api('hooli', 'POST', '/v1/webhooks', { url: receiver.url })).body as { webhookId: string };
  assert.equal((await api('hooli', 'DELETE', `/v1/webhooks/${webhookId}`)).status, 200);
  assert.equal((await api('hooli', 'GET', '/v1/webhooks')).body.webhooks.length, 0);
  await crash('deleted-hook-car', 'hooli', 12);
  await eventually(async () => (await t.platform.store.alertsAfter(0, 100)).some((row) => row.alert.deviceId === 'deleted-hook-car'), 5000, 'the alert committed');
  await new Promise((resolve) => setTimeout(resolve, 500));
  assert.equal(receiver.received.length, 0);
});

test('a stream resumed with Last-Event-ID gets the alerts of its tenant written after that one', async () => {
  await crash('resume-car-1', 'umbrella', 21);
  const first = await eventually(async () => (await t.platform.store.alertsAfter(0, 1000)).find((row) => row.alert.deviceId === 'resume-car-1'), 5000, 'the first alert');
  await crash('resume-car-2', 'umbrella', 22);
  await crash('resume-other', 'initech', 23);
  const second = await eventually(async () => (await t.platform.store.alertsAfter(0, 1000)).find((row) => row.alert.deviceId === 'resume-car-2'), 5000, 'the second alert');
  await eventually(async () => (await t.platform.store.alertsAfter(0, 1000)).some((row) => row.alert.deviceId === 'resume-other'), 5000, 'the other tenant alert');
  const resumed = await openSse(`${t.httpUrl}/v1/alerts/stream`, await t.token({ tenantId: 'umbrella', scopes: ['trips:read'] }), first.alert.alertId);
  await eventually(async () => resumed.events.length >= 1, 3000, 'the replayed alert');
  await new Promise((resolve) => setTimeout(resolve, 300));
  resumed.close();
  assert.deepEqual(resumed.events.map((e) => e.id), [second.alert.alertId], "only the later alert, and none of another tenant's");
});

test('sustained speeding is raised while the car still speeds, and reaches only the webhooks that want it', async () => {
  const speeding = await startWebhookReceiver();
  const crashesOnly = await startWebhookReceiver();
  receivers.push(speeding, crashesOnly);
  await api('wayne', 'POST', '/v1/webhooks', { url: speeding.url, types: ['sustained_speeding'] });
  await api('wayne', 'POST', '/v1/webhooks', { url: crashesOnly.url, types: ['crash'] });
  const deviceId = 'speeding-car';
  const client = await connectDevice(t.mqttUrl, await t.device(deviceId, { tenantId: 'wayne' }));
  // 90 s at 90 km/h on a 50 km/h road (the device reads the limit itself); defaults: 60 s at 30 km/h over.
  const { moving } = crashScenario(deviceId, 31, Date.now() - 120_000);
  const start = moving[0]!;
  const points = Array.from({ length: 90 }, (_, i) => ({ tsMs: start.tsMs + i * 1000, lat: start.lat + i * 0.0002, lon: start.lon, speedMps: 25, speedLimitMps: 50 / 3.6 }));
  await publishPoints(client, deviceId, points);
  await client.endAsync();
  const request = await speeding.next(() => true, 5000);
  const alert = JSON.parse(request.body) as Alert;
  assert.equal(alert.type, 'sustained_speeding');
  assert.equal((alert.raisedAtPointMs - alert.startMs) / 1000, 60, 'raised on the point where the episode reached 60 s');
  assert.ok(alert.raisedAtPointMs < points[points.length - 1]!.tsMs, 'before the episode (and the trip) ended');
  assert.ok(Math.abs(alert.peak * 3.6 - 40) < 0.1);
  await new Promise((resolve) => setTimeout(resolve, 500));
  assert.equal(speeding.received.length, 1);
  assert.equal(crashesOnly.received.length, 0);
});
