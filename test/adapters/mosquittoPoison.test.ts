import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { MqttClient } from 'mqtt';
import { startMqttIngest, type MqttIngest } from '../../src/adapters/mqtt/mqttIngestClient.js';
import { POISON_STRIKES } from '../../src/adapters/mqtt/poisonMessages.js';
import { openNatsBus, type NatsBus } from '../../src/adapters/nats/natsBus.js';
import { toWire } from '../../src/functions/ingest/wireFormat.js';
import type { PointsMessage } from '../../src/ports/eventBus.js';
import { createIngestService } from '../../src/runtime/ingestService.js';
import { createMetrics } from '../../src/runtime/metrics.js';
import { RateLimiter } from '../../src/runtime/rateLimiter.js';
import { Tracing } from '../../src/runtime/tracing.js';
import { simulateTrip } from '../../src/sim/vehicleModel.js';
import { readAll } from '../../testkit/eventBusContract.js';
import { attempt, INGEST, mosquittoSkip, silentLogger, startTestAccounts, startTestMosquitto, type TestAccounts, type TestMosquitto } from '../../testkit/mosquitto.js';
import { natsSkipReason, startTestNats, type TestNats } from '../../testkit/natsService.js';
import { eventually } from '../../testkit/platform.js';

/**
 * A message the bus refuses while it takes others (poison) against a bus that refuses
 * everything: real Mosquitto, real JetStream, the real ingest service. The poison is real too:
 * the stream's max_msg_size refuses the one big message.
 */
const skip = mosquittoSkip() || natsSkipReason();
let broker: TestMosquitto;
let kit: TestAccounts;
let nats: TestNats;
let nc: NatsConnection;
let jsm: JetStreamManager;
const tracing = new Tracing();

before(async () => {
  if (skip) return;
  broker = await startTestMosquitto();
  kit = await startTestAccounts(broker);
  nats = await startTestNats();
  nc = await connect({ servers: nats.url });
  jsm = await jetstreamManager(nc);
});
after(async () => {
  if (skip) return;
  await nc.close();
  await nats.close();
  await kit.close();
  await broker.close();
  await tracing.shutdown();
});

const openBus = (stream: string): Promise<NatsBus> =>
  openNatsBus({ url: nats.url, stream, partitionCount: 1, retentionMs: 3_600_000, duplicateWindowMs: 120_000 });

const trip = simulateTrip({ deviceId: 'any', seed: 11, startMs: Date.now() - 4 * 3_600_000, durationS: 3000 }).points.map(toWire);
/** One point each, all different (the bus de-duplicates by content), after the big message's. */
let nextPoint = 100;
const small = (): string => JSON.stringify([trip[nextPoint++]!]);

interface Running {
  ingest: MqttIngest;
  attempts: () => number;
  poisoned: () => number;
  rejected: () => Promise<string>;
}

function startIngest(bus: NatsBus, clientId: string, isBig: (payload: Buffer) => boolean = () => false): Running & { bigAttempts: () => number } {
  const metrics = createMetrics();
  const onPublish = createIngestService({
    bus, metrics, logger: silentLogger, tracing,
    maxPayloadBytes: 262_144, maxBusBacklog: 10_000, backlog: () => 0,
    rateLimiter: new RateLimiter(0, 0), maxThrottleMs: 1000,
  });
  let attempts = 0;
  let bigAttempts = 0;
  let poisoned = 0;
  const ingest = startMqttIngest({
    url: broker.url, ...INGEST, clientId, connections: 2, reconnectMinMs: 50, reconnectMaxMs: 200, logger: silentLogger,
    lookup: kit.lookup,
    onPublish: (input) => {
      attempts++;
      if (isBig(input.payload)) bigAttempts++;
      return onPublish(input);
    },
    onRejected: (reason) => metrics.messagesRejected.inc({ reason }),
    onPoison: () => {
      poisoned++;
      metrics.messagesRejected.inc({ reason: 'poison' });
    },
  });
  return {
    ingest,
    attempts: () => attempts,
    bigAttempts: () => bigAttempts,
    poisoned: () => poisoned,
    rejected: () => metrics.registry.getSingleMetricAsString('tripline_messages_rejected_total'),
  };
}

async function device(deviceId: string): Promise<MqttClient> {
  const credentials = await kit.device(deviceId);
  const result = await attempt(broker.url, { clientId: deviceId, username: credentials.username, password: credentials.password });
  assert.ok(result.ok);
  return result.client;
}

/** The first point's time of every message on the bus: one per message, as each is a different point. */
async function onBus(bus: NatsBus): Promise<number[]> {
  return (await readAll(bus, 0)).map((record) => (record.message as PointsMessage).points[0]!.tsMs);
}

test('a message the bus refuses while it takes others is dropped as poison after the strikes; nothing else is lost or doubled', { skip }, async () => {
  const bus = await openBus('POISON');
  const info = await jsm.streams.info('POISON');
  await jsm.streams.update('POISON', { ...info.config, max_msg_size: 4096 });
  const bigPayload = JSON.stringify(trip.slice(0, 100));
  const running = startIngest(bus, 'poison', (payload) => payload.length === bigPayload.length);
  try {
    await running.ingest.ready();
    const heavy = await device('heavy-car');
    const steady = await device('steady-car');
    const sent: string[] = [];
    const publish = async (client: MqttClient, deviceId: string, payload: string): Promise<void> => {
      sent.push(payload);
      await client.publishAsync(`tripline/${deviceId}/telemetry`, payload, { qos: 1 });
    };
    await publish(heavy, 'heavy-car', small());
    await heavy.publishAsync('tripline/heavy-car/telemetry', bigPayload, { qos: 1 });
    for (let i = 0; i < 5; i++) await publish(heavy, 'heavy-car', small());
    // Other traffic: what shows that the bus takes messages meanwhile.
    const deadline = Date.now() + 20_000;
    while (running.poisoned() === 0 && Date.now() < deadline) {
      await publish(steady, 'steady-car', small());
      await sleep(20);
    }
    assert.equal(running.poisoned(), 1, 'the big message was given up on');
    assert.ok(running.bigAttempts() > POISON_STRIKES, `tried ${running.bigAttempts()} times first`);

    const expected = sent.map((payload) => (JSON.parse(payload) as Array<{ ts: number }>)[0]!.ts);
    const stored = await eventually(async () => {
      const times = await onBus(bus);
      return times.length >= expected.length ? times : null;
    }, 10_000, 'every other message on the bus');
    await sleep(300);
    assert.deepEqual([...(await onBus(bus))].sort(), [...expected].sort(), 'every small message once, the big one not at all');
    assert.equal(stored.length, expected.length);
    assert.match(await running.rejected(), /reason="poison"} 1/);
    assert.equal(running.ingest.connectedCount(), 2, 'both members are back');
    await heavy.endAsync();
    await steady.endAsync();
  } finally {
    await running.ingest.retire(300);
    await bus.close();
  }
});

test('a bus that refuses every message (its stream is gone) makes no poison: the messages wait and all arrive once it is back', { skip }, async () => {
  const bus = await openBus('OUTAGE');
  const running = startIngest(bus, 'outage');
  let back: NatsBus | null = null;
  try {
    await running.ingest.ready();
    await jsm.streams.delete('OUTAGE');
    const car = await device('outage-car');
    const sent = Array.from({ length: 4 }, small);
    await Promise.all(sent.map((payload) => car.publishAsync('tripline/outage-car/telemetry', payload, { qos: 1 })));
    // Far more attempts than the strikes would allow, if failures alone counted.
    await eventually(async () => running.attempts() >= 4 * (POISON_STRIKES + 2), 20_000, 'many failed attempts');
    assert.equal(running.poisoned(), 0);

    back = await openBus('OUTAGE');
    const expected = sent.map((payload) => (JSON.parse(payload) as Array<{ ts: number }>)[0]!.ts);
    await eventually(async () => (await onBus(back!)).length >= expected.length, 10_000, 'the held messages on the bus');
    await sleep(300);
    assert.deepEqual([...(await onBus(back))].sort(), [...expected].sort(), 'each once');
    assert.equal(running.poisoned(), 0);
    assert.doesNotMatch(await running.rejected(), /poison/);
    await car.endAsync();
  } finally {
    await running.ingest.retire(300);
    await back?.close();
    await bus.close();
  }
});
