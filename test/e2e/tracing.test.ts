import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import type { TripSummary } from '../../src/domain/trip.js';
import { TOPICS, toWire } from '../../src/functions/ingest/wireFormat.js';
import type { SpanView } from '../../src/runtime/tracing.js';
import { simulateTrip } from '../../src/sim/vehicleModel.js';
import { connectDevice } from '../../testkit/mqttDevice.js';
import { startWebhookReceiver } from '../../testkit/webhookReceiver.js';
import { eventually, startTestPlatform, type TestPlatform } from '../../testkit/platform.js';

let t: TestPlatform;
before(async () => {
  t = await startTestPlatform();
});
after(() => t.stop());

const HOPS = ['ingest', 'bus.append', 'worker.process', 'writeStore.commit', 'sync.apply', 'searchIndex.apply'];

async function traceOf(traceId: string, token?: string): Promise<{ status: number; spans: SpanView[] }> {
  const response = await fetch(`${t.httpUrl}/v1/traces/${traceId}`, { headers: { authorization: `Bearer ${token ?? (await t.token())}` } });
  const body = (await response.json()) as { spans?: SpanView[] };
  return { status: response.status, spans: body.spans ?? [] };
}

/** Every hop present, each span's parent in the trace (but the first, whose parent is the device's span). */
function assertOneChain(spans: SpanView[], traceId: string, deviceSpanId: string | null, hops = HOPS): void {
  for (const hop of hops) assert.ok(spans.some((span) => span.name === hop), `a ${hop} span in ${spans.map((s) => s.name).join(', ')}`);
  assert.ok(spans.every((span) => span.traceId === traceId));
  const ids = new Set(spans.map((span) => span.spanId));
  const ingest = spans.find((span) => span.name === 'ingest')!;
  assert.equal(ingest.parentSpanId, deviceSpanId);
  for (const span of spans) if (span !== ingest) assert.ok(span.parentSpanId && ids.has(span.parentSpanId), `${span.name}'s parent is in the trace`);
  const parentName = (name: string) => spans.find((s) => s.spanId === spans.find((x) => x.name === name)!.parentSpanId)?.name;
  assert.equal(parentName('bus.append'), 'ingest');
  assert.equal(parentName('worker.process'), 'bus.append');
  assert.equal(parentName('writeStore.commit'), 'worker.process');
  if (hops.includes('sync.apply')) assert.equal(parentName('sync.apply'), 'writeStore.commit');
  if (hops.includes('searchIndex.apply')) assert.equal(parentName('searchIndex.apply'), 'sync.apply');
  for (const span of spans) assert.ok(span.endMs >= span.startMs && span.startMs > Date.now() - 120_000, `${span.name} has sane times`);
}

test('a published message with a traceparent yields one trace with a span for every hop, linked from its trip', async () => {
  const deviceId = 'traced-car';
  const client = await connectDevice(t.mqttUrl, await t.device(deviceId));
  const traceId = randomBytes(16).toString('hex');
  const deviceSpanId = randomBytes(8).toString('hex');
  const trip = simulateTrip({ deviceId, seed: 7, startMs: Date.now() - 3_600_000, durationS: 60 });
  const payload = JSON.stringify({ traceparent: `00-${traceId}-${deviceSpanId}-01`, points: trip.points.slice(0, 20).map(toWire) });
  await client.publishAsync(TOPICS.telemetry(deviceId), payload, { qos: 1 });
  await client.endAsync();

  const { spans } = await eventually(async () => {
    const found = await traceOf(traceId);
    return HOPS.every((hop) => found.spans.some((span) => span.name === hop)) && found;
  }, 20_000, 'the trace to reach the search store');
  assertOneChain(spans, traceId, deviceSpanId);
  assert.equal(spans.filter((span) => span.name === 'ingest').length, 1, 'one message, one ingest span');
  const ingest = spans.find((span) => span.name === 'ingest')!;
  assert.equal(ingest.attributes['tripline.device_id'], deviceId);
  assert.equal(ingest.attributes['tripline.points'], 20);

  const tripPage = await eventually(async () => {
    const { body } = await t.getJson<{ trips: TripSummary[] }>(`${t.httpUrl}/v1/trips?vehicleId=${deviceId}`);
    return body.trips.length === 1 && body;
  });
  const { body: one } = await t.getJson<TripSummary>(`${t.httpUrl}/v1/trips/${tripPage.trips[0]!.tripId}`);
  assert.deepEqual(one.traceIds, [traceId]);
});

test('a message without a traceparent starts a new trace, which its trip links to; a malformed traceparent is ignored, not rejected', async () => {
  const deviceId = 'untraced-car';
  const client = await connectDevice(t.mqttUrl, await t.device(deviceId));
  // A whole trip, ten points a message; every other message carries a malformed traceparent.
  const trip = simulateTrip({ deviceId, seed: 8, startMs: Date.now() - 3_600_000, durationS: 120 });
  for (let i = 0; i * 10 < trip.points.length; i++) {
    const points = trip.points.slice(i * 10, i * 10 + 10).map(toWire);
    await client.publishAsync(TOPICS.telemetry(deviceId), JSON.stringify(i % 2 ? { traceparent: '00-not-a-trace', points } : { points }), { qos: 1 });
  }
  await client.endAsync();

  const linked = await eventually(async () => {
    const { body } = await t.getJson<{ trips: TripSummary[] }>(`${t.httpUrl}/v1/trips?vehicleId=${deviceId}`);
    const ids = body.trips[0]?.traceIds ?? [];
    return body.trips[0]?.status === 'completed' && ids;
  }, 20_000, 'the trip to complete');
  // The first five and the latest five of the messages that changed it.
  assert.equal(linked.length, 10);
  assert.equal(new Set(linked).size, linked.length, 'each message its own trace');
  // Every linked message's trace reaches the write store; one that changed the trip summary
  // (the first: the trip started) goes on through sync into the search store.
  for (const [i, traceId] of linked.entries()) {
    assert.match(traceId, /^[0-9a-f]{32}$/);
    const hops = i === 0 ? HOPS : HOPS.slice(0, 4);
    const { spans } = await eventually(async () => {
      const found = await traceOf(traceId);
      return hops.every((hop) => found.spans.some((span) => span.name === hop)) && found;
    }, 20_000, `trace ${traceId} to reach ${hops.at(-1)}`);
    assertOneChain(spans, traceId, null, hops);
  }
});

test('a crash alert raised by a traced message continues its trace: alert.raise, a span per delivery, the webhook POST carries it; the crash event links to it', async () => {
  const deviceId = 'crash-traced-car';
  const receiver = await startWebhookReceiver();
  try {
    const admin = await t.token({ scopes: ['admin'] });
    const hook = await fetch(`${t.httpUrl}/v1/webhooks`, {
      method: 'POST', headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' }, body: JSON.stringify({ url: receiver.url }),
    });
    assert.equal(hook.status, 201);
    const client = await connectDevice(t.mqttUrl, await t.device(deviceId));
    await client.subscribeAsync(`tripline/${deviceId}/alerts`, { qos: 1 });
    const t0 = Date.now() - 3_600_000;
    const speeds = [...Array(20).fill(15), 3, 0, 0, 0, 0] as number[];
    let lat = 50.85;
    const points = speeds.map((speed, i) => {
      lat += speed / 111_320;
      return { tsMs: t0 + i * 1000, lat, lon: 4.35, speedMps: speed, headingDeg: 0, ignition: true, ...(i === 20 ? { accelMps2: { x: -60, y: 10, z: 9.81 } } : {}) };
    });
    const traceId = randomBytes(16).toString('hex');
    await client.publishAsync(TOPICS.telemetry(deviceId), JSON.stringify({ points: points.slice(0, 15).map(toWire) }), { qos: 1 });
    await client.publishAsync(TOPICS.telemetry(deviceId), JSON.stringify({ traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01`, points: points.slice(15).map(toWire) }), { qos: 1 });
    const request = await receiver.next((r) => String(r.headers['tripline-alert-id']).includes(':crash:'), 20_000);
    assert.equal(String(request.headers.traceparent).split('-')[1], traceId, 'the webhook POST continues the trace');
    await client.endAsync();
    const names = ['alert.raise', 'alert.deliver.mqtt', 'alert.deliver.webhook'];
    const { spans } = await eventually(async () => {
      const found = await traceOf(traceId);
      return names.every((name) => found.spans.some((span) => span.name === name)) && found;
    }, 20_000, 'the alert and delivery spans');
    const parentOf = (name: string) => spans.find((span) => span.spanId === spans.find((s) => s.name === name)!.parentSpanId)?.name;
    const alert = spans.find((span) => span.name === 'alert.raise')!;
    assert.equal(alert.attributes['tripline.alert_type'], 'crash');
    assert.equal(parentOf('alert.raise'), 'worker.process');
    assert.equal(parentOf('alert.deliver.mqtt'), 'worker.process');
    assert.equal(parentOf('alert.deliver.webhook'), 'worker.process');
    const webhookSpan = spans.find((span) => span.name === 'alert.deliver.webhook')!;
    assert.equal(String(request.headers.traceparent).split('-')[2], webhookSpan.spanId, "the receiver's parent is the delivery span");
    assert.equal(webhookSpan.attributes['http.response.status_code'], 200);

    const events = await eventually(async () => {
      const { body } = await t.getJson<{ events: Array<{ event: { type: string; traceId?: string } }> }>(`${t.httpUrl}/v1/events?vehicleId=${deviceId}&types=crash`);
      return body.events.length > 0 && body.events;
    }, 20_000, 'the crash event in search');
    assert.equal(events[0]!.event.traceId, traceId, 'the event links to the trace of the message that completed it');
  } finally {
    await receiver.close();
  }
});

test('/healthz reports the tracing store and bus lag; /metrics has the bus lag', async () => {
  const health = await t.getJson<{ components: { bus: { lagMs: number }; tracing: { status: string; traces: number; spans: number; otlp: boolean } } }>(`${t.httpUrl}/healthz`);
  assert.equal(typeof health.body.components.bus.lagMs, 'number');
  assert.equal(health.body.components.tracing.status, 'ok');
  assert.equal(health.body.components.tracing.otlp, false);
  assert.ok(health.body.components.tracing.traces > 0, 'the earlier tests left traces');
  assert.ok(health.body.components.tracing.spans >= health.body.components.tracing.traces);
  const metrics = await (await fetch(`${t.httpUrl}/metrics`)).text();
  assert.match(metrics, /^tripline_bus_lag_seconds \d/m);
});

test("traces are served to their tenant only; unknown and malformed ids", async () => {
  const deviceId = 'tenant-traced-car';
  const client = await connectDevice(t.mqttUrl, await t.device(deviceId));
  const traceId = randomBytes(16).toString('hex');
  const trip = simulateTrip({ deviceId, seed: 9, startMs: Date.now() - 3_600_000, durationS: 30 });
  await client.publishAsync(TOPICS.telemetry(deviceId), JSON.stringify({ traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01`, points: trip.points.slice(0, 5).map(toWire) }), { qos: 1 });
  await client.endAsync();
  await eventually(async () => (await traceOf(traceId)).status === 200, 20_000, 'the trace');
  const stranger = await traceOf(traceId, await t.token({ tenantId: 'someone-else' }));
  assert.equal(stranger.status, 404);
  assert.equal((await traceOf(randomBytes(16).toString('hex'))).status, 404);
  assert.equal((await traceOf('xyz')).status, 400);
});

test('log lines written inside a span carry its trace id', async () => {
  const { Writable } = await import('node:stream');
  const { createLogger } = await import('../../src/runtime/logger.js');
  const { Tracing, otelContext, trace } = await import('../../src/runtime/tracing.js');
  const lines: string[] = [];
  const logger = createLogger('info', 'test', new Writable({ write: (chunk, _enc, done) => { lines.push(String(chunk)); done(); } }) as never);
  const tracing = new Tracing();
  const span = tracing.start('test', undefined);
  otelContext.with(trace.setSpan(otelContext.active(), span), () => logger.info('inside'));
  span.end();
  logger.info('outside');
  await tracing.shutdown();
  const [inside, outside] = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  assert.equal(inside!.trace_id, span.spanContext().traceId);
  assert.equal(inside!.span_id, span.spanContext().spanId);
  assert.equal(outside!.trace_id, undefined);
});
