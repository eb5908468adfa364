import assert from 'node:assert/strict';
import { test } from 'node:test';
import { contextFromTraceparent, headersOf, TENANT_ATTRIBUTE, Tracing } from '../../src/runtime/tracing.js';

test('the in-memory trace store keeps the latest traces within its bounds, and shows a tenant only its own spans', async () => {
  const tracing = new Tracing({ maxTraces: 3, maxSpans: 5 });
  const ids: string[] = [];
  for (let i = 0; i < 4; i++) {
    const span = tracing.start('ingest', undefined, { [TENANT_ATTRIBUTE]: 'acme' });
    span.end();
    ids.push(span.spanContext().traceId);
  }
  assert.equal(tracing.recent.get(ids[0]!, 'acme').length, 0, 'the oldest trace is gone');
  assert.equal(tracing.recent.get(ids[3]!, 'acme').length, 1);
  assert.deepEqual(tracing.recent.size(), { traces: 3, spans: 3 });
  // Spans past the span budget evict whole traces, oldest first.
  const parent = contextFromTraceparent(headersOf(tracing.start('x', undefined)).traceparent)!;
  for (let i = 0; i < 4; i++) tracing.start('child', parent, { [TENANT_ATTRIBUTE]: 'acme' }).end();
  assert.ok(tracing.recent.size().spans <= 5);
  // Another tenant's spans in the same trace (a device may reuse any trace id) are never shown.
  const shared = tracing.start('ingest', undefined, { [TENANT_ATTRIBUTE]: 'acme' });
  const sharedContext = contextFromTraceparent(headersOf(shared).traceparent)!;
  tracing.start('ingest', sharedContext, { [TENANT_ATTRIBUTE]: 'globex' }).end();
  shared.end();
  const traceId = shared.spanContext().traceId;
  assert.deepEqual(tracing.recent.get(traceId, 'acme').map((s) => s.attributes[TENANT_ATTRIBUTE]), ['acme']);
  assert.deepEqual(tracing.recent.get(traceId, 'globex').map((s) => s.attributes[TENANT_ATTRIBUTE]), ['globex']);
  assert.equal(tracing.recent.get(traceId, 'initech').length, 0);
  await tracing.shutdown();
});

test('malformed or all-zero traceparents are ignored (a new trace starts); unsampled ones are kept unsampled', () => {
  for (const bad of ['', 'garbage', '00-00000000000000000000000000000000-00f067aa0ba902b7-01', '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01', 'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01']) {
    assert.equal(contextFromTraceparent(bad), undefined, bad);
  }
  assert.ok(contextFromTraceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'));
  const tracing = new Tracing();
  const span = tracing.start('ingest', contextFromTraceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00'));
  assert.equal(span.isRecording(), false, 'parent-based sampling follows the device');
  assert.equal(span.spanContext().traceId, '4bf92f3577b34da6a3ce929d0e0e4736');
});
