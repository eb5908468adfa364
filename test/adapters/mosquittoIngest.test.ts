import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { MqttClient } from 'mqtt';
import { startMqttIngest, type MqttIngestOptions } from '../../src/adapters/mqtt/mqttIngestClient.js';
import type { PublishInput } from '../../src/adapters/mqtt/aedesBroker.js';
import type { RejectReason } from '../../src/functions/ingest/parseTelemetry.js';
import type { DeviceCredentials } from '../../src/ports/deviceRegistry.js';
import { attempt, INGEST, mosquittoSkip, silentLogger, startTestAccounts, startTestMosquitto, type TestAccounts, type TestMosquitto } from '../../testkit/mosquitto.js';
import { spawnIngestProcess } from '../../testkit/mqttIngestProcess.js';
import { eventually } from '../../testkit/platform.js';

/**
 * Ingest as a member of a shared subscription on Mosquitto: how messages are split, when they
 * are acknowledged, and what the broker delivers again after a refusal or a crash. onPublish is
 * a stand-in here (it is a callback, not a backend); devices are real MQTT clients.
 */
const skip = mosquittoSkip();
let broker: TestMosquitto;
let kit: TestAccounts;
let devices = 0;

before(async () => {
  if (skip) return;
  broker = await startTestMosquitto();
  kit = await startTestAccounts(broker);
});
after(async () => {
  if (skip) return;
  await kit.close();
  await broker.close();
});

/** A device of its own per test (a second connection with its client id would take the first one over). */
async function device(): Promise<{ id: string; client: MqttClient; credentials: DeviceCredentials }> {
  const credentials = await kit.device(`car-${++devices}`);
  const result = await attempt(broker.url, { clientId: credentials.deviceId, username: credentials.username, password: credentials.password });
  assert.ok(result.ok);
  return { id: credentials.deviceId, client: result.client, credentials };
}

async function publishAll(client: MqttClient, deviceId: string, payloads: string[]): Promise<void> {
  await Promise.all(payloads.map((payload) => client.publishAsync(`tripline/${deviceId}/telemetry`, payload, { qos: 1 })));
}

const numbered = (prefix: string, count: number): string[] => Array.from({ length: count }, (_, i) => `${prefix}-${i}`);

function ingestOptions(clientId: string, onPublish: MqttIngestOptions['onPublish'], over: Partial<MqttIngestOptions> = {}): MqttIngestOptions {
  return {
    url: broker.url, ...INGEST, clientId, connections: 1, reconnectMinMs: 100, logger: silentLogger,
    lookup: kit.lookup,
    onRejected: () => {},
    onPoison: () => {},
    onPublish,
    ...over,
  };
}

test('a share group splits the messages: each member gets some, together all, none twice', { skip }, async () => {
  const got = { a: [] as string[], b: [] as string[] };
  const a = startMqttIngest(ingestOptions('split-a', async (input) => (got.a.push(input.payload.toString()), 'accept'), { connections: 2 }));
  const b = startMqttIngest(ingestOptions('split-b', async (input) => (got.b.push(input.payload.toString()), 'accept'), { connections: 2 }));
  await Promise.all([a.ready(), b.ready()]);
  const { id, client } = await device();
  const sent = numbered('split', 200);
  await publishAll(client, id, sent);
  await eventually(async () => got.a.length + got.b.length >= sent.length, 5000, 'every message to reach a member');
  await sleep(200);
  assert.ok(got.a.length > 0 && got.b.length > 0, `both members got some (${got.a.length} + ${got.b.length})`);
  assert.equal(got.a.length + got.b.length, sent.length, 'none twice');
  assert.deepEqual([...got.a, ...got.b].sort(), [...sent].sort(), 'together all');
  await client.endAsync();
  await Promise.all([a.retire(300), b.retire(300)]);
});

test('acknowledged only after onPublish resolved: a member killed mid-stream gets its unacknowledged messages again after it restarts', { skip }, async (t) => {
  const other: string[] = [];
  const member = startMqttIngest(ingestOptions('crash-b', async (input) => (other.push(input.payload.toString()), 'accept')));
  const first = spawnIngestProcess({ url: broker.url, ...INGEST, clientId: 'crash-a', holdAfter: 5 });
  await Promise.all([member.ready(), first.ready]);
  const { id, client } = await device();
  const sent = numbered('crash', 40);
  // The broker acknowledges the device as soon as it has a message: these resolve although
  // the killed member never acknowledged its share.
  await publishAll(client, id, sent);
  await eventually(async () => first.received.length === 6, 5000, 'the crashing member to hold its sixth message');
  await first.kill();
  await eventually(async () => first.accepted.length + other.length >= sent.length / 2 + 4, 5000, 'the other member to take its half');
  await sleep(500);
  const otherWhileDown = other.length;
  // Mosquitto 2.0 assigns shared messages round robin to every session, connected or not: the
  // dead member's share waits in its session instead of moving to the live member.
  assert.ok(first.accepted.length + otherWhileDown < sent.length, 'the dead member still holds unacknowledged messages');

  const second = spawnIngestProcess({ url: broker.url, ...INGEST, clientId: 'crash-a' });
  await second.ready;
  await eventually(async () => first.accepted.length + other.length + second.accepted.length >= sent.length, 5000, 'the restarted member to get what it had not acknowledged');
  await sleep(300);
  const all = [...first.accepted, ...other, ...second.accepted];
  assert.deepEqual([...all].sort(), [...sent].sort(), 'every message exactly once across acknowledgements');
  assert.ok(second.received.includes(first.received.at(-1)!), 'the message held (not acknowledged) when the member was killed came again');
  assert.deepEqual(first.accepted.filter((payload) => second.received.includes(payload)), [], 'nothing acknowledged came again');
  t.diagnostic(`40 messages: member A acknowledged ${first.accepted.length} and held 1 when killed, member B took ${otherWhileDown}; ` +
    `after A restarted its session delivered ${second.received.length} more (the held one, the ones read ahead, the ones queued)`);
  await client.endAsync();
  await second.retire();
  await member.retire(300);
});

test('refused or failed messages are not acknowledged: the member reconnects and the broker delivers them again', { skip }, async () => {
  const calls: string[] = [];
  const failed = new Set<string>();
  const member = startMqttIngest(ingestOptions('refusing', async (input) => {
    const payload = input.payload.toString();
    calls.push(payload);
    if (payload === 'refuse-3' && !failed.has(payload)) return failed.add(payload), 'refuse';
    if (payload === 'refuse-7' && !failed.has(payload)) throw (failed.add(payload), new Error('the bus is down'));
    return 'accept';
  }));
  await member.ready();
  const { id, client } = await device();
  const sent = numbered('refuse', 10);
  await publishAll(client, id, sent);
  await eventually(async () => new Set(calls).size === sent.length && calls.length >= sent.length + 2, 10_000, 'every message to be handled');
  await sleep(300);
  assert.equal(calls.filter((payload) => payload === 'refuse-3').length, 2, 'the refused message came again');
  assert.equal(calls.filter((payload) => payload === 'refuse-7').length, 2, 'the failed message came again');
  assert.equal(calls.length, sent.length + 2, `messages read ahead of a refusal were not handled twice: ${calls.join(' ')}`);
  await client.endAsync();
  await member.retire(300);
});

test('a device revoked in the registry but still on the broker: acknowledged without ingest, counted, not delivered again', { skip }, async () => {
  const rejected: RejectReason[] = [];
  const handled: string[] = [];
  const member = startMqttIngest(ingestOptions('lookup', async (input) => (handled.push(input.payload.toString()), 'accept'), {
    onRejected: (reason) => rejected.push(reason),
  }));
  await member.ready();
  const ghost = await device();
  await kit.registry.revoke(null, ghost.id); // reconcile has not run yet: the broker still lets it in
  await publishAll(ghost.client, ghost.id, numbered('ghost', 3));
  await eventually(async () => rejected.length === 3, 3000, 'three rejections');
  await sleep(500);
  assert.deepEqual(rejected, ['unknown_device', 'unknown_device', 'unknown_device']);
  assert.deepEqual(handled, []);
  assert.equal(member.connectedCount(), 1, 'no reconnect');
  await ghost.client.endAsync();
  await member.retire(300);
});

test('the MQTT 5 user property traceparent reaches PublishInput', { skip }, async () => {
  const inputs: PublishInput[] = [];
  const member = startMqttIngest(ingestOptions('trace', async (input) => (inputs.push(input), 'accept')));
  await member.ready();
  const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
  const v5 = await device();
  await v5.client.publishAsync(`tripline/${v5.id}/telemetry`, 'traced', { qos: 1, properties: { userProperties: { traceparent } } });
  await v5.client.publishAsync(`tripline/${v5.id}/telemetry`, 'oversized', { qos: 1, properties: { userProperties: { traceparent: 'x'.repeat(500) } } });
  await v5.client.publishAsync(`owntracks/me/${v5.id}`, 'untraced', { qos: 1 });
  await v5.client.endAsync();
  await eventually(async () => inputs.length === 3, 3000, 'three messages');
  const byPayload = new Map(inputs.map((input) => [input.payload.toString(), input]));
  assert.equal(byPayload.get('traced')?.traceparent, traceparent);
  assert.equal(byPayload.get('oversized')?.traceparent, undefined, 'an oversized property is ignored');
  assert.equal(byPayload.get('untraced')?.traceparent, undefined);
  assert.equal(byPayload.get('traced')?.clientId, v5.id);
  assert.equal(byPayload.get('traced')?.qos, 1);
  assert.equal(byPayload.get('traced')?.connected(), true);
  await member.retire(300);
});
