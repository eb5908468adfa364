import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { IClientOptions, MqttClient } from 'mqtt';
import type { SqliteDeviceRegistry } from '../../src/adapters/embedded/sqliteDeviceRegistry.js';
import { expectOk } from '../../src/adapters/mqtt/dynsecClient.js';
import { BrokerAccountTakenError, type MosquittoAccounts } from '../../src/adapters/mqtt/mosquittoAccounts.js';
import { connectMqttDownlink } from '../../src/adapters/mqtt/mqttDownlink.js';
import { startMqttIngest, type MqttIngest } from '../../src/adapters/mqtt/mqttIngestClient.js';
import type { PublishInput } from '../../src/adapters/mqtt/aedesBroker.js';
import type { DeviceCredentials } from '../../src/ports/deviceRegistry.js';
import { ADMIN, attempt, INGEST, mosquittoSkip, silentLogger, startTestAccounts, startTestMosquitto, type TestAccounts, type TestMosquitto } from '../../testkit/mosquitto.js';
import { refusedSignIns, signInAs } from '../../testkit/mqttDevice.js';
import { eventually } from '../../testkit/platform.js';

/**
 * The device × action matrix of test/e2e/deviceAccess.test.ts, on Mosquitto: accounts and ACLs
 * live in its dynamic-security plugin, kept in step with a real registry, and what devices
 * publish reaches tripline only through ingest's shared subscription.
 */
const skip = mosquittoSkip();
let broker: TestMosquitto;
let kit: TestAccounts;
let registry: SqliteDeviceRegistry;
let accounts: MosquittoAccounts;
let ingest: MqttIngest;
const received: PublishInput[] = [];
let alice: DeviceCredentials;
let bob: DeviceCredentials;

before(async () => {
  if (skip) return;
  broker = await startTestMosquitto();
  kit = await startTestAccounts(broker);
  ({ registry, accounts } = kit);
  ingest = startMqttIngest({
    url: broker.url, ...INGEST, clientId: 'accounts-ingest', connections: 1, logger: silentLogger,
    lookup: kit.lookup,
    onPublish: async (input) => (received.push(input), 'accept'),
    onRejected: () => {},
    onPoison: () => {},
  });
  await ingest.ready();
  alice = await kit.device('alice-car');
  bob = await kit.device('bob-car');
});
after(async () => {
  if (skip) return;
  await ingest.close();
  await kit.close();
  await broker.close();
});

const as = signInAs;

async function connected(options: IClientOptions): Promise<MqttClient> {
  const result = await attempt(broker.url, options);
  assert.ok(result.ok, `connect as ${String(options.clientId)} should be accepted`);
  return result.client;
}

function watchClose(client: MqttClient): { closed: () => boolean } {
  let closed = false;
  client.once('close', () => (closed = true));
  return { closed: () => closed };
}

/** Waits until ingest has seen a marker message, so everything published before it was either delivered or not at all. */
async function flushedThrough(client: MqttClient, deviceId: string): Promise<void> {
  const marker = `marker-${Math.random()}`;
  await client.publishAsync(`tripline/${deviceId}/telemetry`, marker, { qos: 1 });
  await eventually(async () => received.some((input) => input.payload.toString() === marker), 3000, 'the marker to reach ingest');
}

test('connect: only a provisioned device with its own client id and password gets in', { skip }, async () => {
  const cases: Array<[string, IClientOptions]> = [
    ...refusedSignIns(alice, bob),
    ['the ingest account with a wrong password', { clientId: 'x', username: INGEST.username, password: alice.password }],
  ];
  for (const [name, options] of cases) {
    const result = await attempt(broker.url, options);
    assert.equal(result.ok, false, `${name}: refused`);
    // MQTT 5: 133 client id not valid, 134 bad user name or password, 135 not authorized.
    if (!result.ok) assert.ok([133, 134, 135].includes(result.code ?? 0), `${name}: CONNACK code ${result.code}`);
  }
  const v5 = await connected(as(alice));
  await v5.endAsync();
  const v311 = await connected(as(alice, { protocolVersion: 4 }));
  await v311.endAsync();
});

test("client-id takeover: a refused connect naming another device's id never disconnects it", { skip }, async () => {
  const victim = await connected(as(bob));
  const watch = watchClose(victim);
  const takeovers: IClientOptions[] = [
    as(alice, { clientId: bob.deviceId }),
    as(bob, { password: 'guess' }),
    { clientId: bob.deviceId },
    { clientId: bob.deviceId, username: bob.username, password: alice.password },
  ];
  for (const options of takeovers) assert.equal((await attempt(broker.url, options)).ok, false);
  await sleep(300);
  assert.equal(watch.closed(), false, 'the victim is still connected');
  await victim.publishAsync(`tripline/${bob.deviceId}/telemetry`, 'still-here', { qos: 1 });
  await victim.endAsync();
});

test("publish: a device's own topics reach ingest; another device's topics, downlinks, $SYS and wildcards do not", { skip }, async () => {
  const own = await connected(as(alice));
  await own.publishAsync(`tripline/${alice.deviceId}/telemetry`, 'own-tripline', { qos: 1 });
  await own.publishAsync(`owntracks/alice/${alice.deviceId}`, 'own-owntracks', { qos: 1 });
  await eventually(async () => received.filter((input) => input.payload.toString().startsWith('own-')).length === 2, 3000, 'both own messages to reach ingest');
  const ownInputs = received.filter((input) => input.payload.toString().startsWith('own-'));
  assert.deepEqual(ownInputs.map((input) => [input.clientId, input.identity.deviceId, input.identity.vehicleId]), [
    [alice.deviceId, alice.deviceId, 'veh-alice-car'],
    [alice.deviceId, alice.deviceId, 'veh-alice-car'],
  ]);

  const before = received.length;
  const forbidden = [`tripline/${bob.deviceId}/telemetry`, `owntracks/x/${bob.deviceId}`, `tripline/${bob.deviceId}/alerts`, `tripline/${alice.deviceId}/alerts`, '$SYS/broker/clients', 'other/topic'];
  for (const topic of forbidden) {
    // MQTT 5: PUBACK 135 (not authorized); the connection stays.
    await assert.rejects(own.publishAsync(topic, 'forbidden', { qos: 1 }), (error: { code?: number }) => error.code === 135, `${topic} is refused`);
    own.publish(topic, 'forbidden', { qos: 0 });
  }
  // One connection per client id at a time: another one would take this session over.
  await own.endAsync();
  // MQTT 3.1.1 has no negative PUBACK: the broker acknowledges and drops.
  const v311 = await connected(as(alice, { protocolVersion: 4 }));
  await v311.publishAsync(`tripline/${bob.deviceId}/telemetry`, 'forbidden', { qos: 1 });
  await v311.endAsync();
  // A wildcard in a PUBLISH topic breaks the protocol: the broker closes the connection.
  const wild = await connected(as(alice));
  const wildClosed = watchClose(wild);
  wild.publish('tripline/+/telemetry', 'forbidden', { qos: 1 });
  await eventually(async () => wildClosed.closed(), 3000, 'the wildcard publisher to be disconnected');
  wild.end(true);

  const retained = await connected(as(alice));
  const retainedClosed = watchClose(retained);
  retained.publish(`tripline/${alice.deviceId}/telemetry`, 'retained', { qos: 1, retain: true });
  await eventually(async () => retainedClosed.closed(), 3000, 'a retained publish to be refused (retain_available false)');
  retained.end(true);

  const last = await connected(as(alice));
  await flushedThrough(last, alice.deviceId);
  assert.deepEqual(received.slice(before).map((input) => input.payload.toString()).filter((text) => !text.startsWith('marker-')), [], 'nothing forbidden reached ingest');
  await last.endAsync();
});

test("subscribe: a device's own downlink only, no wildcards, no $SYS, no telemetry; downlinks reach only their device", { skip }, async () => {
  const client = await connected(as(alice));
  const denied = [`tripline/${bob.deviceId}/alerts`, 'tripline/+/alerts', 'tripline/#', '#', '+/+/+', '$SYS/#', '$SYS/broker/clients', `tripline/${alice.deviceId}/telemetry`, `tripline/${bob.deviceId}/telemetry`, `$share/g/tripline/${bob.deviceId}/alerts`, '$share/tripline-ingest/tripline/+/telemetry', '$CONTROL/dynamic-security/#'];
  const granted = (topic: string) => client.subscribeAsync(topic, { qos: 1 }).then((grants) => (grants[0]?.qos ?? 128) < 128, () => false);
  for (const topic of denied) assert.equal(await granted(topic), false, `subscribe ${topic} is refused`);
  assert.equal(await granted(`tripline/${alice.deviceId}/alerts`), true, 'its own downlink is granted');

  const bobClient = await connected(as(bob));
  assert.equal(await bobClient.subscribeAsync(`tripline/${bob.deviceId}/alerts`, { qos: 1 }).then((grants) => grants[0]?.qos), 1);
  const aliceGot: string[] = [];
  const bobGot: string[] = [];
  client.on('message', (topic, payload) => aliceGot.push(`${topic} ${payload.toString()}`));
  bobClient.on('message', (topic, payload) => bobGot.push(`${topic} ${payload.toString()}`));
  // As the sync role sends them: on the ingest account, whose ACL may publish to every downlink.
  const downlink = connectMqttDownlink({ url: broker.url, clientId: 'test-downlink', ...INGEST, logger: silentLogger });
  await eventually(async () => downlink.connected(), 5000, 'the downlink publisher to connect');
  await downlink.publish(bob.deviceId, 'for-bob');
  await downlink.publish(alice.deviceId, 'for-alice');
  await downlink.close();
  await eventually(async () => aliceGot.length === 1 && bobGot.length === 1, 3000, 'each device to get its own alert');
  await sleep(200);
  assert.deepEqual(aliceGot, [`tripline/${alice.deviceId}/alerts for-alice`]);
  assert.deepEqual(bobGot, [`tripline/${bob.deviceId}/alerts for-bob`]);
  await client.endAsync();
  await bobClient.endAsync();
});

test('rotation: the new password works at once, the old one stops and its live session is kicked (no overlap on the broker)', { skip }, async () => {
  const carol = await kit.device('carol-car');
  const live = await connected(as(carol));
  const watch = watchClose(live);
  const rotated = await registry.rotate(null, carol.deviceId, 3600);
  assert.ok(rotated);
  await accounts.provision(rotated);
  await eventually(async () => watch.closed(), 3000, 'the session signed in with the old password to be kicked');
  assert.equal((await attempt(broker.url, as(carol))).ok, false, 'the old password is refused although the registry still accepts it');
  assert.ok((await registry.verify(carol.deviceId, carol.password)).ok, 'the registry overlap, for contrast');
  (await connected(as(rotated))).end(true);
  live.end(true);
});

test('revocation: reconcile removes the account, kicks the live session, and the device cannot come back', { skip }, async () => {
  const dave = await kit.device('dave-car');
  const live = await connected(as(dave));
  const watch = watchClose(live);
  const cursor = Math.max(...(await registry.list(null, { limit: 100 })).map((record) => record.revision));
  await registry.revoke(null, dave.deviceId);
  assert.equal(await accounts.reconcile(await registry.changedSince(cursor, 100)), 1);
  await eventually(async () => watch.closed(), 3000, 'the revoked session to be kicked');
  assert.equal((await attempt(broker.url, as(dave))).ok, false, 'a revoked device is refused');
  assert.equal(await accounts.reconcile(await registry.changedSince(cursor, 100)), 0, 'reconcile is idempotent');
  // Deleting the role before its client crashed Mosquitto 2.0.11 in about half the runs.
  assert.equal(broker.service().process.signalCode, null, 'the broker is still running');
  live.end(true);
});

test('reconcile also removes a device role whose account is already gone (a crash between the two deletes)', { skip }, async () => {
  const gina = await kit.device('gina-car');
  expectOk(await broker.dynsec.execute([{ command: 'deleteClient', username: gina.deviceId }]));
  const revoked = await registry.revoke(null, gina.deviceId);
  assert.equal(await accounts.reconcile([revoked!]), 0, 'no account was left to remove');
  const [again] = await broker.dynsec.execute([{ command: 'createRole', rolename: `tripline-device-${gina.deviceId}`, acls: [] }]);
  assert.equal(again!.error, undefined, 'the role was gone, so it can be made again');
});

test('a revocation racing a provisioning wins', { skip }, async () => {
  const erin = await kit.device('erin-car');
  const rotated = await registry.rotate(null, erin.deviceId, 0);
  await registry.revoke(null, erin.deviceId); // before the rotated password reached the broker
  await assert.rejects(accounts.provision(rotated!), /revoked/);
  assert.equal((await attempt(broker.url, as(rotated!))).ok, false);
});

test('reserved and malformed names never become device accounts; bootstrap again changes nothing', { skip }, async () => {
  for (const name of [INGEST.username, ADMIN.username, 'a/b', 'x+y', '']) {
    await assert.rejects(accounts.provision({ deviceId: name, username: name, password: 'takeover' }), /cannot have a broker account/, name);
  }
  await assert.rejects(accounts.provision({ deviceId: 'frank-car', username: 'someone-else', password: 'pw' }), /cannot have a broker account/);
  assert.equal((await attempt(broker.url, { clientId: 'x', username: ADMIN.username, password: 'takeover' })).ok, false);
  const connectedBefore = ingest.connectedCount();
  await accounts.bootstrap();
  await sleep(300);
  assert.equal(ingest.connectedCount(), connectedBefore, 'the ingest sessions were not kicked');
  (await connected(as(alice))).end(true);
});

test("a broker account that is not a device's (an operator's) is never re-passworded or deleted by a device of its name", { skip }, async () => {
  // An account made on the broker by someone else, with a name that fits the device id rule.
  const [made] = await broker.dynsec.execute([{ command: 'createClient', username: 'telegraf', password: 'operator-secret' }]);
  assert.equal(made!.error, undefined);
  const credentials = await registry.add({ deviceId: 'telegraf', tenantId: 't1', vehicleId: 'veh-telegraf' });
  await assert.rejects(accounts.provision(credentials), BrokerAccountTakenError);
  assert.equal((await attempt(broker.url, { clientId: 'operator-box', username: 'telegraf', password: credentials.password })).ok, false, "the tenant's secret does not open it");
  const revoked = await registry.revoke(null, 'telegraf');
  assert.equal(await accounts.reconcile([revoked!]), 0, 'a revocation does not delete it either');
  const operator = await attempt(broker.url, { clientId: 'operator-box', username: 'telegraf', password: 'operator-secret' });
  assert.ok(operator.ok, 'the operator still signs in with its own password');
  operator.client.end(true);
});
