import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { SqliteBus } from '../../src/adapters/embedded/sqliteBus.js';
import { startMqttIngest, type MqttIngest } from '../../src/adapters/mqtt/mqttIngestClient.js';
import { toWire } from '../../src/functions/ingest/wireFormat.js';
import { createIngestService } from '../../src/runtime/ingestService.js';
import { createMetrics } from '../../src/runtime/metrics.js';
import { RateLimiter } from '../../src/runtime/rateLimiter.js';
import { Tracing } from '../../src/runtime/tracing.js';
import { simulateTrip } from '../../src/sim/vehicleModel.js';
import { attempt, INGEST, mosquittoSkip, silentLogger, startTestAccounts, startTestMosquitto, type TestAccounts, type TestMosquitto } from '../../testkit/mosquitto.js';
import { eventually } from '../../testkit/platform.js';

/**
 * The real ingest service behind Mosquitto, on the embedded bus: a device's points reach the
 * bus, and the trace context it sends as an MQTT 5 user property is the one ingest continues
 * (preferred over a payload's).
 */
const skip = mosquittoSkip();
let broker: TestMosquitto;
let kit: TestAccounts;
let bus: SqliteBus;
let tracing: Tracing;
let ingest: MqttIngest;
let dir: string;

before(async () => {
  if (skip) return;
  broker = await startTestMosquitto();
  kit = await startTestAccounts(broker);
  dir = mkdtempSync(join(tmpdir(), 'tripline-mosquitto-bus-'));
  bus = new SqliteBus({ path: join(dir, 'bus.db'), partitionCount: 1, synchronous: 'NORMAL', retentionMs: 60_000 });
  tracing = new Tracing();
  const metrics = createMetrics();
  const onPublish = createIngestService({
    bus, metrics, logger: silentLogger, tracing,
    maxPayloadBytes: 262_144, maxBusBacklog: 10_000, backlog: () => 0,
    rateLimiter: new RateLimiter(0, 0), maxThrottleMs: 1000,
  });
  ingest = startMqttIngest({
    url: broker.url, ...INGEST, clientId: 'service', connections: 1, logger: silentLogger,
    lookup: kit.lookup, onPublish, onRejected: (reason) => metrics.messagesRejected.inc({ reason }),
    onPoison: () => metrics.messagesRejected.inc({ reason: 'poison' }),
  });
  await ingest.ready();
});
after(async () => {
  if (skip) return;
  await ingest.close();
  await bus.close();
  await tracing.shutdown();
  await kit.close();
  await broker.close();
  rmSync(dir, { recursive: true, force: true });
});

const spanId = (): string => randomBytes(8).toString('hex');

test("a device's traceparent user property is continued by ingest and carried on the bus, over the payload's", { skip }, async () => {
  const car = await kit.device('traced-car');
  const device = await attempt(broker.url, { clientId: car.deviceId, username: car.username, password: car.password });
  assert.ok(device.ok);
  const points = simulateTrip({ deviceId: car.deviceId, seed: 5, startMs: Date.now() - 600_000, durationS: 30 }).points.slice(0, 5).map(toWire);
  const propertyTrace = randomBytes(16).toString('hex');
  const payloadTrace = randomBytes(16).toString('hex');
  const deviceSpan = spanId();
  await device.client.publishAsync(`tripline/${car.deviceId}/telemetry`, JSON.stringify({ traceparent: `00-${payloadTrace}-${spanId()}-01`, points }), {
    qos: 1,
    properties: { userProperties: { traceparent: `00-${propertyTrace}-${deviceSpan}-01` } },
  });
  await device.client.publishAsync(`tripline/${car.deviceId}/telemetry`, JSON.stringify({ traceparent: `00-${payloadTrace}-${deviceSpan}-01`, points }), {
    qos: 1,
    properties: { userProperties: { traceparent: '00-not-a-trace' } },
  });
  await device.client.endAsync();

  const records = await eventually(async () => {
    const read = await bus.read(0, 0, 10);
    return read.length === 2 ? read : null;
  }, 5000, 'both messages on the bus');
  assert.deepEqual(records.map((record) => record.message.kind === 'points' && record.message.deviceId), [car.deviceId, car.deviceId]);
  assert.deepEqual(records.map((record) => record.headers.traceparent?.split('-')[1]), [propertyTrace, payloadTrace], 'the property wins; a malformed one falls back to the payload');
  const [ingestSpan] = tracing.recent.get(propertyTrace, 't1').filter((span) => span.name === 'ingest');
  assert.equal(ingestSpan?.parentSpanId, deviceSpan, "ingest's span is a child of the device's");
});
