import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseTelemetry, type IngestOutcome } from '../../src/functions/ingest/parseTelemetry.js';

const device = (deviceId: string) => ({ deviceId, vehicleId: `veh-${deviceId}`, tenantId: 'acme' });
const TS = Date.UTC(2026, 10, 24, 8);

function parse(payload: string | Uint8Array, topic = 'tripline/car-1/telemetry', publisherId = 'car-1'): IngestOutcome {
  const bytes = typeof payload === 'string' ? Buffer.from(payload) : payload;
  return parseTelemetry({ topic, payload: bytes, publisherId, receivedAtMs: TS }, { maxPayloadBytes: 4096, resolveDevice: device });
}

test('accepts one point, an array, and {"points": [...]}, in time order, with units converted', () => {
  const point = { ts: TS, lat: 50.85, lon: 4.35, speed: 12.5, heading: 90, accel: { x: 1, y: 0, z: 9.8 }, ignition: true, seq: 7 };
  for (const payload of [point, [point], { points: [point] }]) {
    const outcome = parse(JSON.stringify(payload));
    assert.ok(outcome.ok);
    assert.equal(outcome.message.tenantId, 'acme');
    assert.deepEqual(outcome.message.points[0], { tsMs: TS, lat: 50.85, lon: 4.35, speedMps: 12.5, headingDeg: 90, accelMps2: { x: 1, y: 0, z: 9.8 }, ignition: true, seq: 7 });
  }
  const iso = parse(JSON.stringify([{ ts: new Date(TS + 1000).toISOString(), lat: 1, lon: 1 }, { ts: TS, lat: 1, lon: 1 }]));
  assert.ok(iso.ok);
  assert.deepEqual(iso.message.points.map((p) => p.tsMs), [TS, TS + 1000]);
});

test('accepts OwnTracks locations on owntracks/{user}/{deviceId}', () => {
  const outcome = parse(JSON.stringify({ _type: 'location', tst: TS / 1000, lat: 50.85, lon: 4.35, vel: 36, cog: 180, acc: 8, tid: 'xy' }), 'owntracks/alice/car-1');
  assert.ok(outcome.ok);
  assert.deepEqual(outcome.message.points[0], { tsMs: TS, lat: 50.85, lon: 4.35, speedMps: 10, headingDeg: 180, accuracyM: 8 });
});

test('accepts a payload that names its own device', () => {
  assert.ok(parse(JSON.stringify({ deviceId: 'car-1', points: [{ ts: TS, lat: 50.85, lon: 4.35 }] })).ok);
  const ownTracks = { _type: 'location', tst: TS / 1000, lat: 50.85, lon: 4.35, topic: 'owntracks/alice/car-1' };
  assert.ok(parse(JSON.stringify(ownTracks), 'owntracks/alice/car-1').ok);
});

test('every bad message is rejected under a named reason', () => {
  const cases: Array<[string | Uint8Array, string, string?, string?]> = [
    ['x'.repeat(5000), 'too_large'],
    ['{}', 'unknown_topic', 'devices/car-1'],
    ['{}', 'invalid_device_id', 'tripline/car+1/telemetry', 'car+1'],
    ['{}', 'forbidden_topic', 'tripline/car-2/telemetry', 'car-1'],
    [new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]), 'invalid_utf8'],
    ['{"ts": 1', 'invalid_json'],
    ['[' .repeat(3000) + ']'.repeat(3000), 'too_large'],
    ['[[[[[[[[[[[[[[]]]]]]]]]]]]]]', 'schema'],
    [JSON.stringify({ ts: TS, lat: '50', lon: 4 }), 'schema'],
    [JSON.stringify({ ts: TS, lat: 50, lon: 4, __proto__x: 1 }), 'schema'],
    ['{"ts": 1795507200000, "lat": 50, "lon": 4, "__proto__": {"admin": true}}', 'forbidden_key'],
    [JSON.stringify({ ts: TS, lat: 91, lon: 4 }), 'out_of_range'],
    [JSON.stringify({ ts: TS, lat: 50, lon: 4, speed: -1 }), 'out_of_range'],
    [JSON.stringify({ ts: 1_700_000_000, lat: 50, lon: 4 }), 'out_of_range'],
    ['{"ts": 1795507200000, "lat": 1e999, "lon": 4}', 'invalid_json'],
    ['{"ts": 1795507200000, "lat": 50, "lat": 51, "lon": 4}', 'invalid_json'],
    ['\ufeff{"ts": 1795507200000, "lat": 50, "lon": 4}', 'invalid_json'],
    [JSON.stringify({ ts: TS, lat: 0, lon: 0 }), 'out_of_range'],
    [JSON.stringify({ deviceId: 'car-2', points: [{ ts: TS, lat: 50, lon: 4 }] }), 'device_mismatch'],
    [JSON.stringify({ points: [] }), 'schema'],
  ];
  for (const [payload, reason, topic, publisher] of cases) {
    const outcome = parse(payload, topic, publisher);
    assert.equal(outcome.ok ? 'accepted' : outcome.reason, reason, `payload ${String(payload).slice(0, 40)}`);
  }
  assert.equal(({} as Record<string, unknown>).admin, undefined, 'no prototype was polluted');
});

test('the envelope may carry a W3C traceparent, kept beside the message (not in it); its other rules stay strict', () => {
  const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
  const points = [{ ts: TS, lat: 50.85, lon: 4.35 }];
  const outcome = parse(JSON.stringify({ traceparent, points }));
  assert.ok(outcome.ok);
  assert.equal(outcome.traceparent, traceparent);
  assert.ok(!('traceparent' in outcome.message), 'the bus message itself is unchanged');
  // Validated by tracing, not here: a malformed one is passed on (and ignored there), not a rejection.
  const malformed = parse(JSON.stringify({ traceparent: 'not-a-traceparent', points }));
  assert.ok(malformed.ok);
  const bare = parse(JSON.stringify({ points }));
  assert.ok(bare.ok && bare.traceparent === undefined);
  // Still I-JSON and the strict shape: a duplicate, a non-string, an oversized one, or one on a bare point are refused.
  const reasonOf = (payload: string) => {
    const result = parse(payload);
    return result.ok ? 'ok' : result.reason;
  };
  assert.equal(reasonOf(`{"traceparent":"${traceparent}","traceparent":"${traceparent}","points":${JSON.stringify(points)}}`), 'invalid_json');
  assert.equal(reasonOf(JSON.stringify({ traceparent: 42, points })), 'schema');
  assert.equal(reasonOf(JSON.stringify({ traceparent: 'x'.repeat(257), points })), 'schema');
  assert.equal(reasonOf(JSON.stringify({ ...points[0], traceparent })), 'schema');
});
