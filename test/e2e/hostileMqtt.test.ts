import assert from 'node:assert/strict';
import { connect as connectTcp } from 'node:net';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import mqtt, { type MqttClient } from 'mqtt';
import mqttPacket from 'mqtt-packet';
import type { Counter } from 'prom-client';
import type { DeviceCredentials } from '../../src/ports/deviceRegistry.js';
import { TOPICS, toWire } from '../../src/functions/ingest/wireFormat.js';
import { simulateTrip } from '../../src/sim/vehicleModel.js';
import { hostileCorpus, type HostileCase } from '../../testkit/hostileCorpus.js';
import { startTestPlatform, type TestPlatform } from '../../testkit/platform.js';

/**
 * The hostile corpus and random MQTT packets thrown at the live broker by real connections:
 * no crash, no unhandled rejection, nothing stored, every rejection counted under its reason,
 * and the counters add up to what was sent.
 */
let t: TestPlatform;
const credentials = new Map<string, DeviceCredentials>();
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown): void => void unhandled.push(reason);

before(async () => {
  process.on('unhandledRejection', onUnhandled);
  t = await startTestPlatform();
  for (const id of ['hostile-car', 'victim-car']) credentials.set(id, await t.device(id));
});
after(async () => {
  process.off('unhandledRejection', onUnhandled);
  await t.stop();
});

async function counts(counter: Counter): Promise<Map<string, number>> {
  return new Map((await counter.get()).values.map((v) => [String(v.labels.reason ?? ''), v.value]));
}
function delta(before: Map<string, number>, after: Map<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [reason, value] of after) if (value - (before.get(reason) ?? 0) > 0) out[reason] = value - (before.get(reason) ?? 0);
  return out;
}
const total = (counter: Counter) => counter.get().then((m) => m.values.reduce((sum, v) => sum + v.value, 0));

/** Wildcard and empty topics never reach ingest: Aedes refuses those PUBLISHes itself. */
function liveReason(c: HostileCase): string {
  return c.topic === '' || /[+#]/.test(c.topic) ? 'invalid_topic' : c.expectedReason;
}

test('the 2,000+ hostile publishes over MQTT: all rejected, none stored, counted by reason, adding up', { timeout: 300_000 }, async () => {
  const { metrics, store } = t.platform;
  const cases = hostileCorpus({ deviceId: 'hostile-car', otherDeviceId: 'victim-car', unknownDeviceId: 'ghost-car', maxPayloadBytes: t.platform.config.maxPayloadBytes });
  assert.ok(cases.length >= 2000 && new Set(cases.map((c) => c.class)).size >= 15);
  const rejectedBefore = await counts(metrics.messagesRejected);
  const refusedBefore = await counts(metrics.connectsRefused);
  const [receivedBefore, acceptedBefore, pointsBefore] = [await total(metrics.messagesReceived), await total(metrics.messagesAccepted), (await store.counts()).points];

  const expected: Record<string, number> = {};
  let published = 0;
  let unknownDeviceAttempts = 0;
  let reconnects = 0;
  const clients = new Map<string, MqttClient>();
  for (const c of cases) {
    const device = credentials.get(c.publisherId);
    if (!device) {
      // An unknown device cannot even connect: its publishes are refused at CONNECT.
      unknownDeviceAttempts++;
      const refused = await mqtt.connectAsync(t.mqttUrl, { clientId: c.publisherId, username: c.publisherId, password: 'guess', reconnectPeriod: 0 }, false).then(
        (client) => (client.end(true), false),
        () => true,
      );
      assert.ok(refused, `${c.class}: unknown device ${c.publisherId} connected`);
      continue;
    }
    published++;
    expected[liveReason(c)] = (expected[liveReason(c)] ?? 0) + 1;
    if (c.topic === '') {
      // mqtt.js will not send an empty topic; write the packets by hand.
      await sendRaw(t.platform.mqttPort, [connectPacketOf(device), mqttPacket.generate({ cmd: 'publish', topic: '', payload: c.payload, qos: 1, messageId: 1, dup: false, retain: false })]);
      continue;
    }
    let client = clients.get(device.deviceId);
    if (!client) {
      client = await mqtt.connectAsync(t.mqttUrl, { clientId: device.deviceId, username: device.username, password: device.password, reconnectPeriod: 0 }, false);
      clients.set(device.deviceId, client);
      reconnects++;
    }
    const closed = new Promise<'closed'>((resolve) => client.once('close', () => resolve('closed')));
    const acked = client.publishAsync(c.topic, c.payload, { qos: 1 }).then(() => 'acked' as const, () => 'closed' as const);
    const outcome = await Promise.race([acked, closed]);
    if (outcome === 'closed') {
      client.end(true);
      clients.delete(device.deviceId);
    }
  }
  for (const client of clients.values()) await client.endAsync();
  await new Promise((resolve) => setTimeout(resolve, 300));

  const rejected = delta(rejectedBefore, await counts(metrics.messagesRejected));
  assert.deepEqual(rejected, expected, 'every publish counted under its reason');
  assert.equal((await total(metrics.messagesReceived)) - receivedBefore, published, 'every publish that reached the broker was counted as received');
  assert.equal(Object.values(rejected).reduce((a, b) => a + b, 0), published, 'received = rejected: the counters add up');
  assert.equal((await total(metrics.messagesAccepted)) - acceptedBefore, 0, 'nothing accepted');
  assert.equal((await store.counts()).points, pointsBefore, 'nothing stored');
  assert.equal(delta(refusedBefore, await counts(metrics.connectsRefused)).unknown_device, unknownDeviceAttempts);
  assert.deepEqual(unhandled, []);
  console.log(`hostile corpus: ${published} publishes over ${reconnects} connections, ${unknownDeviceAttempts} unknown-device connects; ${JSON.stringify(rejected)}`);
});

function connectPacketOf(device: DeviceCredentials): Buffer {
  return mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, clientId: device.deviceId, keepalive: 10, username: device.username, password: Buffer.from(device.password) });
}

/** Raw bytes on a fresh TCP connection; resolves when the broker closes it or after a short wait. */
function sendRaw(port: number, bytes: Uint8Array[]): Promise<void> {
  return new Promise((resolve) => {
    const socket = connectTcp(port, '127.0.0.1');
    const done = (): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve();
    };
    const timer = setTimeout(done, 150);
    socket.on('error', done);
    socket.on('close', done);
    socket.on('connect', () => {
      for (const chunk of bytes) socket.write(chunk);
    });
  });
}

test('random and mutated MQTT packets: the broker survives, keeps only intact publishes, and still serves devices', { timeout: 300_000 }, async () => {
  const { metrics, store } = t.platform;
  const port = t.platform.mqttPort;
  const device = credentials.get('hostile-car')!;
  const [acceptedBefore, pointsBefore, receivedBefore, rejectedBefore] = [await total(metrics.messagesAccepted), (await store.counts()).points, await total(metrics.messagesReceived), await total(metrics.messagesRejected)];
  const protocolErrorsBefore = await total(metrics.protocolErrors);
  const connectPacket = connectPacketOf(device);
  const validPublish = mqttPacket.generate({
    cmd: 'publish', topic: TOPICS.telemetry(device.deviceId), qos: 1, messageId: 7, dup: false, retain: false,
    payload: JSON.stringify({ points: [{ ts: Date.now() - 60_000, lat: 50.85, lon: 4.35, speed: 10 }] }),
  });
  const seed = 20261124;
  // 1. Noise: random bytes as the first thing a connection sends.
  const noise = fc.sample(fc.uint8Array({ minLength: 1, maxLength: 600 }), { seed, numRuns: 300 });
  for (const bytes of noise) await sendRaw(port, [bytes]);
  // 2. An authenticated session followed by noise.
  const tails = fc.sample(fc.uint8Array({ minLength: 1, maxLength: 300 }), { seed: seed + 1, numRuns: 200 });
  for (const bytes of tails) await sendRaw(port, [connectPacket, bytes]);
  // 3. Valid CONNECT and PUBLISH with bytes flipped, dropped or duplicated (mutation fuzzing).
  const mutations = fc.sample(
    fc.record({ target: fc.constantFrom('connect', 'publish'), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }), op: fc.constantFrom('flip', 'drop', 'dup', 'truncate') }),
    { seed: seed + 2, numRuns: 400 },
  );
  for (const m of mutations) {
    const original = m.target === 'connect' ? connectPacket : validPublish;
    const at = m.at % original.length;
    let mutated: Buffer;
    if (m.op === 'flip') mutated = Buffer.from(original).fill(m.byte, at, at + 1);
    else if (m.op === 'drop') mutated = Buffer.concat([original.subarray(0, at), original.subarray(at + 1)]);
    else if (m.op === 'dup') mutated = Buffer.concat([original.subarray(0, at + 1), original.subarray(at)]);
    else mutated = original.subarray(0, at);
    await sendRaw(port, m.target === 'connect' ? [mutated, validPublish] : [connectPacket, mutated]);
  }

  // A mutated PUBLISH can still be a well-formed one from the signed-in device: it must then be judged like any other.
  const received = (await total(metrics.messagesReceived)) - receivedBefore;
  const rejected = (await total(metrics.messagesRejected)) - rejectedBefore;
  const accepted = (await total(metrics.messagesAccepted)) - acceptedBefore;
  assert.equal(received, rejected + accepted, 'every publish that got through the framing is accounted for');
  const stored = (await store.counts()).points - pointsBefore;
  assert.ok(stored <= accepted, `${stored} points stored from ${accepted} intact one-point publishes`);
  assert.ok((await total(metrics.protocolErrors)) > protocolErrorsBefore, 'protocol errors are counted');
  assert.deepEqual(unhandled, [], 'no unhandled rejection');

  // Still serving: a device signs in and its points are stored.
  const client = await mqtt.connectAsync(t.mqttUrl, { clientId: device.deviceId, username: device.username, password: device.password, reconnectPeriod: 0 }, false);
  const points = simulateTrip({ deviceId: device.deviceId, seed: 9, startMs: Date.now() - 3_600_000, durationS: 20 }).points.slice(0, 10);
  const acceptedBeforeServing = await total(metrics.messagesAccepted);
  await client.publishAsync(TOPICS.telemetry(device.deviceId), JSON.stringify({ points: points.map(toWire) }), { qos: 1 });
  await client.endAsync();
  assert.equal((await total(metrics.messagesAccepted)) - acceptedBeforeServing, 1, 'the publish was accepted, not just acknowledged');
  console.log(`random packets: ${noise.length + tails.length + mutations.length} connections; ${received} publishes got through the framing (${accepted} intact ones accepted)`);
});
