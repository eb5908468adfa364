import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { IClientOptions, MqttClient } from 'mqtt';
import { simulateTrip } from '../../src/sim/vehicleModel.js';
import type { DeviceCredentials } from '../../src/ports/deviceRegistry.js';
import { TOPICS, toWire } from '../../src/functions/ingest/wireFormat.js';
import { attempt as attemptMqtt, refusedSignIns, signInAs, type Attempt } from '../../testkit/mqttDevice.js';
import { eventually, startTestPlatform, type TestPlatform } from '../../testkit/platform.js';

/**
 * The device × action matrix: every way one device could act as, read from or push out another,
 * and every bad, expired, revoked or rotated credential, against the real broker.
 */
let t: TestPlatform;
let alice: DeviceCredentials;
let bob: DeviceCredentials;

before(async () => {
  t = await startTestPlatform();
  alice = await t.device('alice-car');
  bob = await t.device('bob-car');
});
after(() => t.stop());


const attempt = (options: IClientOptions): Promise<Attempt> => attemptMqtt(t.mqttUrl, options);

const as = signInAs;

async function connected(options: IClientOptions): Promise<MqttClient> {
  const result = await attempt(options);
  assert.ok(result.ok, `connect as ${String(options.clientId)} should be accepted`);
  return result.client;
}

function watchClose(client: MqttClient): { closed: () => boolean; wait: () => Promise<void> } {
  let closed = false;
  const done = new Promise<void>((resolve) => client.once('close', () => ((closed = true), resolve())));
  return { closed: () => closed, wait: () => done };
}

const payload = (deviceId: string) => JSON.stringify({ points: simulateTrip({ deviceId, seed: 3, startMs: Date.now() - 600_000, durationS: 30 }).points.slice(0, 5).map(toWire) });

test('connect: only a registered device with its own client id and secret gets in', async () => {
  const cases = refusedSignIns(alice, bob);
  for (const [name, options] of cases) {
    const result = await attempt(options);
    assert.equal(result.ok, false, `${name}: refused`);
    if (!result.ok) assert.ok(result.code === 4 || result.code === 5 || result.code === 2, `${name}: CONNACK code ${result.code}`);
  }
  const good = await connected(as(alice));
  await good.endAsync();
});

test("client-id takeover: a refused connect naming another device's id never disconnects it", async () => {
  const victim = await connected(as(bob));
  const watch = watchClose(victim);
  const takeovers: IClientOptions[] = [
    as(alice, { clientId: bob.deviceId }),
    as(bob, { password: 'guess' }),
    { clientId: bob.deviceId },
    { clientId: bob.deviceId, username: bob.username, password: alice.password },
  ];
  for (const options of takeovers) assert.equal((await attempt(options)).ok, false);
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(watch.closed(), false, 'the victim is still connected');
  await victim.publishAsync(TOPICS.telemetry(bob.deviceId), payload(bob.deviceId), { qos: 1 });
  await victim.endAsync();
});

test("publish: own telemetry topic only; another device's topics, downlinks, $SYS and wildcards close the connection", async () => {
  const own = await connected(as(alice));
  await own.publishAsync(TOPICS.telemetry(alice.deviceId), payload(alice.deviceId), { qos: 1 });
  await own.endAsync();
  const storedBefore = (await t.platform.store.counts()).points;
  const refused: Array<[string, 0 | 1 | 2]> = [
    ...[TOPICS.telemetry(bob.deviceId), `owntracks/x/${bob.deviceId}`, `tripline/${bob.deviceId}/alerts`, `tripline/${alice.deviceId}/alerts`, '$SYS/broker/clients', 'tripline/+/telemetry', '#'].map((topic): [string, 1] => [topic, 1]),
    [TOPICS.telemetry(alice.deviceId), 2], // QoS 2 is not offered: its exactly-once store would outlive sessions
  ];
  for (const [topic, qos] of refused) {
    const client = await connected(as(alice));
    const watch = watchClose(client);
    client.publish(topic, payload(alice.deviceId), { qos });
    await Promise.race([watch.wait(), new Promise((_, reject) => setTimeout(() => reject(new Error(`publish to ${topic} was not refused`)), 3000))]);
    client.end(true);
  }
  await new Promise((resolve) => setTimeout(resolve, 200));
  assert.equal((await t.platform.store.counts()).points, storedBefore, 'nothing of the refused publishes was stored');
});

test("subscribe: a device's own downlink only, no wildcards, no $SYS, no telemetry", async () => {
  const client = await connected(as(alice));
  const denied = [`tripline/${bob.deviceId}/alerts`, 'tripline/+/alerts', 'tripline/#', '#', '+/+/+', '$SYS/#', '$SYS/broker/clients', TOPICS.telemetry(alice.deviceId), TOPICS.telemetry(bob.deviceId), `$share/g/tripline/${bob.deviceId}/alerts`];
  // mqtt.js rejects a SUBACK whose return code is 128 (failure).
  const granted = (topic: string) => client.subscribeAsync(topic, { qos: 1 }).then((grants) => grants[0]?.qos !== 128, () => false);
  for (const topic of denied) assert.equal(await granted(topic), false, `subscribe ${topic} is refused`);
  assert.equal(await granted(`tripline/${alice.deviceId}/alerts`), true, 'its own downlink is granted');
  await client.endAsync();
});

test('rotation: both secrets work during the overlap, only the new one after it', async () => {
  const carol = await t.device('carol-car');
  const rotated = await t.platform.registry.rotate(null, carol.deviceId, 1.5);
  assert.ok(rotated);
  for (const secret of [carol.password, rotated.password]) (await connected(as(carol, { password: secret }))).end(true);
  await new Promise((resolve) => setTimeout(resolve, 1700));
  const expired = await attempt(as(carol));
  assert.equal(expired.ok, false, 'the old secret has expired');
  (await connected(as(rotated))).end(true);
  const immediately = await t.platform.registry.rotate(null, carol.deviceId, 0);
  assert.equal((await attempt(as(rotated))).ok, false, 'overlap 0: the previous secret stops at once');
  (await connected(as(immediately!))).end(true);
});

test('rotation without overlap closes a session that signed in with the old secret; one signed in after it stays', async () => {
  const frank = await t.device('frank-car');
  const old = await connected(as(frank));
  const watch = watchClose(old);
  const rotated = await t.platform.registry.rotate(null, frank.deviceId, 0); // as another process would: the broker is not told
  await eventually(async () => watch.closed(), 3000, 'the old session to be closed');
  const fresh = await connected(as(rotated!));
  await new Promise((resolve) => setTimeout(resolve, 1200));
  assert.equal(fresh.connected, true, 'the session signed in with the new secret is kept');
  await fresh.endAsync();
  old.end(true);
});

test('revocation: a live session is closed and the device cannot come back', async () => {
  const dave = await t.device('dave-car');
  const live = await connected(as(dave));
  const watch = watchClose(live);
  await t.platform.registry.revoke(null, dave.deviceId); // as `tripline devices revoke` would, without telling the broker
  await eventually(async () => watch.closed(), 3000, 'the revoked session to be closed');
  assert.equal((await attempt(as(dave))).ok, false, 'a revoked device is refused');
  live.end(true);

  const erin = await t.device('erin-car');
  const session = await connected(as(erin));
  const closed = watchClose(session);
  const token = await t.token({ scopes: ['devices:write'] });
  const response = await fetch(`${t.httpUrl}/v1/devices/${erin.deviceId}/revoke`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
  assert.equal(response.status, 200);
  await eventually(async () => closed.closed(), 1000, 'revocation through the API to close the session at once');
  session.end(true);
});

test('refusals are counted by reason', async () => {
  const text = await (await fetch(`${t.httpUrl}/metrics`)).text();
  for (const reason of ['bad_secret', 'unknown_device', 'client_id_mismatch', 'missing_credentials', 'revoked']) {
    assert.match(text, new RegExp(`tripline_mqtt_connects_refused_total\\{reason="${reason}"\\} [1-9]`), reason);
  }
  assert.match(text, /tripline_mqtt_subscribes_denied_total [1-9]/);
});
