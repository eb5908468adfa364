import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import mqtt, { type MqttClient } from 'mqtt';
import type { Counter } from 'prom-client';
import { TOPICS, toWire } from '../../src/functions/ingest/wireFormat.js';
import { simulateTrip } from '../../src/sim/vehicleModel.js';
import { eventually, startTestPlatform, type TestPlatform } from '../../testkit/platform.js';

/** Per-device rate and size limits on the live broker. */
let t: TestPlatform;
before(async () => {
  t = await startTestPlatform({ deviceRatePerS: 5, deviceBurst: 5, maxPayloadBytes: 4096 });
});
after(() => t.stop());

const rejected = async (reason: string): Promise<number> => (await t.platform.metrics.messagesRejected.get()).values.find((v) => v.labels.reason === reason)?.value ?? 0;
const total = async (counter: Counter): Promise<number> => (await counter.get()).values.reduce((sum, v) => sum + v.value, 0);

async function connectAs(deviceId: string): Promise<MqttClient> {
  const c = await t.device(deviceId);
  return mqtt.connectAsync(t.mqttUrl, { clientId: c.deviceId, username: c.username, password: c.password, reconnectPeriod: 0 }, false);
}

function payloads(deviceId: string, count: number): string[] {
  const points = simulateTrip({ deviceId, seed: 5, startMs: Date.now() - 3_600_000, durationS: count + 60 }).points;
  return Array.from({ length: count }, (_, i) => JSON.stringify({ points: [toWire(points[i]!)] }));
}

test('QoS 0 over the rate is dropped and counted as rate_limited', async () => {
  const client = await connectAs('flood-qos0');
  const [limitedBefore, acceptedBefore] = [await rejected('rate_limited'), await total(t.platform.metrics.messagesAccepted)];
  const started = Date.now();
  for (const payload of payloads('flood-qos0', 30)) client.publish(TOPICS.telemetry('flood-qos0'), payload, { qos: 0 });
  await eventually(async () => (await rejected('rate_limited')) - limitedBefore + (await total(t.platform.metrics.messagesAccepted)) - acceptedBefore === 30, 5000, 'all 30 judged');
  const accepted = (await total(t.platform.metrics.messagesAccepted)) - acceptedBefore;
  assert.ok(accepted >= 5 && accepted <= 5 + Math.ceil(((Date.now() - started) / 1000) * 5) + 1, `${accepted} accepted: the burst and what the rate refilled`);
  await client.endAsync();
});

test('QoS 1 over the rate waits for its turn: every message acknowledged and stored, none refused', async () => {
  const client = await connectAs('flood-qos1');
  const [throttledBefore, limitedBefore, storedBefore] = [await total(t.platform.metrics.messagesThrottled), await rejected('rate_limited'), (await t.platform.store.counts()).points];
  const started = Date.now();
  await Promise.all(payloads('flood-qos1', 15).map((payload) => client.publishAsync(TOPICS.telemetry('flood-qos1'), payload, { qos: 1 })));
  const elapsedS = (Date.now() - started) / 1000;
  assert.ok(elapsedS >= 1.7, `15 messages at 5/s after a burst of 5 take about 2 s, took ${elapsedS}`);
  assert.ok((await total(t.platform.metrics.messagesThrottled)) - throttledBefore >= 9);
  assert.equal((await rejected('rate_limited')) - limitedBefore, 0);
  await client.endAsync();
  await eventually(async () => (await t.platform.store.counts()).points - storedBefore >= 12, 10_000, 'the points stored (the reorder window keeps the last few)');
});

test('payloads over the size limit are refused: far over, the connection closes before the body is read', async () => {
  const tooLargeBefore = await rejected('too_large');
  const client = await connectAs('big-car');
  await client.publishAsync(TOPICS.telemetry('big-car'), 'x'.repeat(4500), { qos: 1 }); // over 4096: read, acknowledged, dropped
  const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
  client.publish(TOPICS.telemetry('big-car'), Buffer.alloc(1_000_000, 0x20), { qos: 1 });
  await closed;
  client.end(true);
  assert.equal((await rejected('too_large')) - tooLargeBefore, 2);
});
