import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { MqttClient } from 'mqtt';
import { startMqttIngest, type MqttIngest } from '../../src/adapters/mqtt/mqttIngestClient.js';
import type { DeviceCredentials } from '../../src/ports/deviceRegistry.js';
import { attempt, INGEST, mosquittoSkip, silentLogger, startTestAccounts, startTestMosquitto, type TestAccounts, type TestMosquitto } from '../../testkit/mosquitto.js';
import { eventually } from '../../testkit/platform.js';

/**
 * What Mosquitto keeps for a persistent ingest session across its own restarts: everything on
 * SIGTERM (it writes its database on exit), and on SIGKILL what its last autosave (every 1 s
 * here) had written.
 */
const skip = mosquittoSkip();
let broker: TestMosquitto;
let kit: TestAccounts;
let car: DeviceCredentials;
const AUTOSAVE_S = 1;

before(async () => {
  if (skip) return;
  broker = await startTestMosquitto({ autosaveIntervalS: AUTOSAVE_S });
  kit = await startTestAccounts(broker);
  car = await kit.device('car-1');
});
after(async () => {
  if (skip) return;
  await kit.close();
  await broker.close();
});

function startIngest(received: string[]): MqttIngest {
  return startMqttIngest({
    url: broker.url, ...INGEST, clientId: 'restart', connections: 1, reconnectMinMs: 100, logger: silentLogger,
    lookup: kit.lookup,
    onRejected: () => {},
    onPoison: () => {},
    onPublish: async (input) => (received.push(input.payload.toString()), 'accept'),
  });
}

async function connectDevice(): Promise<MqttClient> {
  const result = await attempt(broker.url, { clientId: car.deviceId, username: car.username, password: car.password });
  assert.ok(result.ok, 'the device account survived the restart');
  return result.client;
}

async function publish(prefix: string, count: number): Promise<string[]> {
  const device = await connectDevice();
  const payloads = Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
  await Promise.all(payloads.map((payload) => device.publishAsync('tripline/car-1/telemetry', payload, { qos: 1 })));
  await device.endAsync();
  return payloads;
}

test('messages queued for a stopped ingest survive a broker restart (SIGTERM), as do accounts and the session', { skip }, async (t) => {
  const received: string[] = [];
  const first = startIngest(received);
  await first.ready();
  await first.close(); // the session and its subscription stay: messages now queue in it
  const queued = await publish('queued', 50);
  await broker.restart('stop');
  // Mosquitto 2.0.11 restores the session's queued messages but not its shared subscription:
  // until ingest subscribes again, nothing is routed to it.
  const unrouted = await publish('unrouted', 10);
  const second = startIngest(received);
  await second.ready();
  const fresh = await publish('fresh', 10);
  await eventually(async () => [...queued, ...fresh].every((payload) => received.includes(payload)), 5000, 'the queued and the fresh messages');
  await sleep(200);
  assert.deepEqual(received.filter((payload) => !payload.startsWith('unrouted')), [...queued, ...fresh], 'all of them, once, in order');
  t.diagnostic(`published after the restart, before ingest subscribed again: ${unrouted.filter((payload) => !received.includes(payload)).length} of ${unrouted.length} dropped by the broker`);
  await second.close();
});

test('SIGKILL: what the last autosave wrote survives (what came after it may be lost although acknowledged: counted, not asserted)', { skip }, async (t) => {
  const received: string[] = [];
  const saved = await publish('saved', 20);
  await sleep(AUTOSAVE_S * 1000 * 2.5);
  const unsaved = await publish('unsaved', 20);
  await broker.restart('kill');
  const ingest = startIngest(received);
  await eventually(async () => saved.every((payload) => received.includes(payload)), 5000, 'the messages of the last autosave');
  await sleep(500);
  const lost = unsaved.filter((payload) => !received.includes(payload)).length;
  t.diagnostic(`SIGKILL right after 20 acknowledged publishes: ${lost} of them lost (autosave every ${AUTOSAVE_S} s)`);
  await ingest.close();
});

test('ingest rides out a broker restart: it reconnects, resumes its session and close() does not hang while the broker is down', { skip }, async () => {
  const received: string[] = [];
  const ingest = startIngest(received);
  await ingest.ready();
  const before = await publish('before', 5);
  await eventually(async () => before.every((payload) => received.includes(payload)), 3000, 'messages before the restart');
  await broker.restart('stop');
  // Rejoined once a probe gets through (probes before that are dropped: no shared subscription yet).
  let probes = 0;
  await eventually(async () => received.includes((await publish(`probe-${++probes}`, 1))[0]!), 10_000, 'ingest to reconnect and subscribe again');
  const afterRestart = await publish('after', 5);
  await eventually(async () => afterRestart.every((payload) => received.includes(payload)), 3000, 'messages after the restart');
  await broker.service().stop();
  await Promise.race([ingest.close(), sleep(3000).then(() => assert.fail('close() hung while the broker was down'))]);
  await broker.restart('stop'); // `after` stops it again
});
