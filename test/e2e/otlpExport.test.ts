import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { test } from 'node:test';
import { TOPICS, toWire } from '../../src/functions/ingest/wireFormat.js';
import { simulateTrip } from '../../src/sim/vehicleModel.js';
import { connectDevice } from '../../testkit/mqttDevice.js';
import { eventually, startTestPlatform } from '../../testkit/platform.js';

test('with OTEL_EXPORTER_OTLP_ENDPOINT set, spans are exported over OTLP/HTTP to {endpoint}/v1/traces', async () => {
  const received: Array<{ url: string; headers: IncomingHttpHeaders; body: Buffer }> = [];
  const collector = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({ url: request.url ?? '', headers: request.headers, body: Buffer.concat(chunks) });
      response.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
  const address = collector.address();
  const port = typeof address === 'object' && address ? address.port : 0;

  process.env.OTEL_EXPORTER_OTLP_ENDPOINT = `http://127.0.0.1:${port}`;
  process.env.OTEL_SERVICE_NAME = 'tripline-otlp-test';
  let lastTraceId = '';
  try {
  const t = await startTestPlatform();
  delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
  delete process.env.OTEL_SERVICE_NAME;
  try {
    const deviceId = 'otlp-car';
    const client = await connectDevice(t.mqttUrl, await t.device(deviceId));
    const traceId = (lastTraceId = randomBytes(16).toString('hex'));
    const trip = simulateTrip({ deviceId, seed: 11, startMs: Date.now() - 3_600_000, durationS: 30 });
    const payload = JSON.stringify({ traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01`, points: trip.points.slice(0, 10).map(toWire) });
    await client.publishAsync(TOPICS.telemetry(deviceId), payload, { qos: 1 });
    await client.endAsync();
    const health = await t.getJson<{ components: { tracing: { otlp: boolean } } }>(`${t.httpUrl}/healthz`);
    assert.equal(health.body.components.tracing.otlp, true);
    await eventually(async () => t.platform.tracing.recent.get(traceId, 'demo').some((span) => span.name === 'worker.process'), 20_000, 'the worker span');
  } finally {
    await t.stop(); // shutting down flushes the batch processor
  }
  await eventually(async () => received.length > 0, 10_000, 'an OTLP request');
  assert.ok(received.every((r) => r.url === '/v1/traces'), received.map((r) => r.url).join());
  assert.match(String(received[0]!.headers['content-type']), /application\/json/);
  // OTLP/HTTP JSON: resourceSpans[].resource.attributes, scopeSpans[].spans[] with hex ids.
  type Otlp = { resourceSpans: Array<{ resource: { attributes: Array<{ key: string; value: { stringValue?: string } }> }; scopeSpans: Array<{ spans: Array<{ name: string; traceId: string }> }> }> };
  const batches = received.map((r) => JSON.parse(r.body.toString('utf8')) as Otlp);
  const resources = batches.flatMap((b) => b.resourceSpans);
  assert.ok(resources.every((r) => r.resource.attributes.some((a) => a.key === 'service.name' && a.value.stringValue === 'tripline-otlp-test')));
  const spans = resources.flatMap((r) => r.scopeSpans.flatMap((scope) => scope.spans)).filter((span) => span.traceId === lastTraceId);
  for (const name of ['ingest', 'bus.append', 'worker.process', 'writeStore.commit']) assert.ok(spans.some((span) => span.name === name), `a ${name} span of the trace is exported`);
  } finally {
    collector.closeAllConnections();
    collector.close();
  }
});
