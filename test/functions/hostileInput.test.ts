import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { TelemetryPoint } from '../../src/domain/point.js';
import { parseTelemetry, REJECT_REASONS, type DeviceIdentity, type IngestOutcome, type RejectReason } from '../../src/functions/ingest/parseTelemetry.js';
import { LIMITS, TOPICS } from '../../src/functions/ingest/wireFormat.js';
import { hostileCorpus } from '../../testkit/hostileCorpus.js';

const ids = { deviceId: 'car-1', otherDeviceId: 'car-2', unknownDeviceId: 'car-404', maxPayloadBytes: 262_144 };
const registered = new Map<string, DeviceIdentity>(
  [ids.deviceId, ids.otherDeviceId].map((deviceId) => [deviceId, { deviceId, vehicleId: `veh-${deviceId}`, tenantId: 'acme' }]),
);
const options = { maxPayloadBytes: ids.maxPayloadBytes, resolveDevice: (deviceId: string) => registered.get(deviceId) ?? null };
const TS = Date.UTC(2026, 10, 24, 8);

function parse(topic: string, payload: string | Uint8Array, publisherId = ids.deviceId): IngestOutcome {
  return parseTelemetry({ topic, payload: typeof payload === 'string' ? Buffer.from(payload) : payload, publisherId, receivedAtMs: TS }, options);
}

/** The documented limits (docs/asyncapi.yaml), written out again so that the test does not trust the parser's own. */
function withinLimits(p: TelemetryPoint): boolean {
  const finite = (v: number | undefined) => v === undefined || Number.isFinite(v);
  const inside = (v: number | undefined, min: number, max: number) => v === undefined || (v >= min && v <= max);
  const vector = (v: { x: number; y: number; z: number } | undefined, max: number) => v === undefined || [v.x, v.y, v.z].every((c) => Number.isFinite(c) && Math.abs(c) <= max);
  return (
    [p.tsMs, p.lat, p.lon, p.speedMps, p.headingDeg, p.accuracyM, p.speedLimitMps, p.seq].every(finite) &&
    inside(p.tsMs, LIMITS.minTsMs, LIMITS.maxTsMs) &&
    inside(p.lat, -90, 90) &&
    inside(p.lon, -180, 180) &&
    !(p.lat === 0 && p.lon === 0) &&
    inside(p.speedMps, 0, LIMITS.maxSpeedMps) &&
    inside(p.headingDeg, 0, 360) &&
    inside(p.accuracyM, 0, LIMITS.maxAccuracyM) &&
    (p.speedLimitMps === undefined || (p.speedLimitMps > 0 && p.speedLimitMps <= LIMITS.maxSpeedMps)) &&
    (p.seq === undefined || (Number.isSafeInteger(p.seq) && p.seq >= 0)) &&
    vector(p.accelMps2, LIMITS.maxAccelMps2) &&
    vector(p.gyroRadps, LIMITS.maxGyroRadps)
  );
}

/** Whatever came in: accepted with every point within the limits, or rejected under a known reason. */
function assertSound(outcome: IngestOutcome): void {
  if (outcome.ok) {
    assert.ok(outcome.message.points.length >= 1 && outcome.message.points.length <= LIMITS.maxPointsPerMessage);
    for (const point of outcome.message.points) assert.ok(withinLimits(point), `accepted out of limits: ${JSON.stringify(point)}`);
  } else {
    assert.ok((REJECT_REASONS as readonly string[]).includes(outcome.reason), `unknown reason ${outcome.reason}`);
  }
}

test('the hostile corpus is large, varied and deterministic', () => {
  const corpus = hostileCorpus(ids);
  const classes = new Map<string, Set<string>>();
  for (const c of corpus) {
    const variants = classes.get(c.class) ?? new Set();
    variants.add(`${c.topic}\u0000${c.publisherId}\u0000${c.payload.toString('base64')}`);
    classes.set(c.class, variants);
  }
  assert.ok(corpus.length >= 2000, `${corpus.length} cases`);
  assert.ok(classes.size >= 15, `${classes.size} classes`);
  for (const [name, variants] of classes) assert.ok(variants.size >= 50, `class ${name} has ${variants.size} distinct cases`);
  const again = hostileCorpus(ids);
  assert.equal(again.length, corpus.length);
  assert.ok(again.every((c, i) => c.payload.equals(corpus[i]!.payload) && c.topic === corpus[i]!.topic));
});

test('every hostile case is rejected under its expected reason, and the tally adds up to what was sent', () => {
  const corpus = hostileCorpus(ids);
  const tally = new Map<RejectReason | 'accepted', number>();
  const wrong: string[] = [];
  for (const c of corpus) {
    const outcome = parseTelemetry({ topic: c.topic, payload: c.payload, publisherId: c.publisherId, receivedAtMs: TS }, options);
    const got = outcome.ok ? 'accepted' : outcome.reason;
    tally.set(got, (tally.get(got) ?? 0) + 1);
    if (got !== c.expectedReason) {
      wrong.push(`${c.class}: expected ${c.expectedReason}, got ${got} (${outcome.ok ? '' : outcome.detail.slice(0, 80)}) for ${JSON.stringify(c.topic.slice(0, 60))} ${JSON.stringify(c.payload.subarray(0, 100).toString())}`);
    }
  }
  assert.deepEqual(wrong.slice(0, 10), [], `${wrong.length} cases went wrong`);
  assert.equal(tally.get('accepted'), undefined, 'nothing was accepted');
  assert.ok([...tally.keys()].every((reason) => (REJECT_REASONS as readonly string[]).includes(reason)));
  assert.equal([...tally.values()].reduce((a, b) => a + b, 0), corpus.length);
  const expected = new Map<string, number>();
  for (const c of corpus) expected.set(c.expectedReason, (expected.get(c.expectedReason) ?? 0) + 1);
  assert.deepEqual(new Map([...tally].sort()), new Map([...expected].sort()));
  assert.equal(({} as Record<string, unknown>).admin, undefined, 'no prototype was polluted');
  assert.equal(({} as Record<string, unknown>).polluted, undefined, 'no prototype was polluted');
});

const topicArb = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 80 }),
  fc
    .tuple(fc.constantFrom('tripline', 'owntracks', '$SYS', '+', '#', '', 'Tripline'), fc.constantFrom(ids.deviceId, ids.otherDeviceId, '+', '#', '', 'car 1'), fc.string({ maxLength: 12 }))
    .map((parts) => parts.join('/')),
  fc.tuple(fc.string({ maxLength: 10 }), fc.constantFrom(ids.deviceId, ids.otherDeviceId)).map(([user, id]) => `owntracks/${user}/${id}`),
  fc.constant(TOPICS.telemetry(ids.deviceId)),
);
const formatTopic = fc.constantFrom(TOPICS.telemetry(ids.deviceId), TOPICS.ownTracks('alice', ids.deviceId));

test('arbitrary bytes, JSON values and topics never throw, and are accepted only within the limits', () => {
  fc.assert(
    fc.property(formatTopic, fc.uint8Array({ maxLength: 2048 }), (topic, bytes) => assertSound(parse(topic, bytes))),
    { numRuns: 3000 },
  );
  fc.assert(
    fc.property(formatTopic, fc.jsonValue({ maxDepth: 6 }), (topic, value) => assertSound(parse(topic, JSON.stringify(value)))),
    { numRuns: 3000 },
  );
  fc.assert(
    fc.property(topicArb, fc.oneof(fc.constantFrom(ids.deviceId, ids.otherDeviceId), fc.string({ maxLength: 64 })), (topic, publisherId) => {
      const outcome = parse(topic, JSON.stringify({ ts: TS, lat: 50.85, lon: 4.35 }), publisherId);
      assertSound(outcome);
      if (outcome.ok) assert.ok(topic === TOPICS.telemetry(publisherId) || (/^owntracks\/[^/+#]+\/[^/]+$/.test(topic) && topic.endsWith(`/${publisherId}`)), topic);
    }),
    { numRuns: 3000 },
  );
});

/** Mostly within the limits, some beyond or at them; JSON.stringify turns NaN and ±Infinity into null. */
const around = (min: number, max: number) => fc.oneof(
    { weight: 12, arbitrary: fc.double({ min, max, noNaN: true }) },
    { weight: 1, arbitrary: fc.double({ min: min - (max - min) / 10, max: max + (max - min) / 10 }) },
    { weight: 1, arbitrary: fc.double() },
    { weight: 1, arbitrary: fc.constantFrom(min, max, 0, -0) },
  );
const wirePointArb = fc.record(
  {
    ts: fc.oneof(fc.integer({ min: LIMITS.minTsMs - 1e11, max: LIMITS.maxTsMs + 1e11 }), fc.constantFrom(LIMITS.minTsMs, LIMITS.maxTsMs, LIMITS.minTsMs - 1, LIMITS.maxTsMs + 1)),
    lat: around(-90, 90),
    lon: around(-180, 180),
    speed: around(0, LIMITS.maxSpeedMps),
    heading: around(0, 360),
    accuracy: around(0, LIMITS.maxAccuracyM),
    speedLimit: around(0, LIMITS.maxSpeedMps),
    seq: fc.integer({ min: -2, max: 1e9 }),
    ignition: fc.boolean(),
    accel: fc.record({ x: around(-LIMITS.maxAccelMps2, LIMITS.maxAccelMps2), y: fc.double({ min: -20, max: 20 }), z: fc.double({ min: -20, max: 20 }) }),
  },
  { requiredKeys: ['ts', 'lat', 'lon'] },
);

test('a generated point is accepted exactly when it is within the documented limits', () => {
  fc.assert(
    fc.property(wirePointArb, (wire) => {
      const text = JSON.stringify(wire);
      const outcome = parse(TOPICS.telemetry(ids.deviceId), text);
      assertSound(outcome);
      const roundTripped = JSON.parse(text) as Record<string, unknown>;
      const typesOk = Object.values(roundTripped).every((v) => v !== null) && (wire.accel === undefined || Object.values(wire.accel).every(Number.isFinite));
      const expected =
        typesOk &&
        (wire.seq === undefined || wire.seq >= 0) &&
        withinLimits({
          tsMs: wire.ts, lat: wire.lat, lon: wire.lon, speedMps: wire.speed, headingDeg: wire.heading, accuracyM: wire.accuracy,
          speedLimitMps: wire.speedLimit, accelMps2: wire.accel,
        });
      assert.equal(outcome.ok, expected, `${text} -> ${outcome.ok ? 'accepted' : outcome.reason}`);
    }),
    { numRuns: 5000 },
  );
});

test('mutated valid messages are accepted within the limits or rejected under a known reason', () => {
  const mutation = fc.oneof(
    fc.record({ kind: fc.constant('byte' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
    fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: fc.string({ unit: 'binary', maxLength: 8 }) }),
    fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 8 }) }),
    fc.record({ kind: fc.constant('value' as const), at: fc.nat(), value: fc.jsonValue({ maxDepth: 2 }) }),
  );
  const message = fc.oneof(
    fc.array(wirePointArb, { minLength: 1, maxLength: 5 }).map((points) => ({ topic: TOPICS.telemetry(ids.deviceId), json: { points } as unknown })),
    fc
      .record({ tst: fc.integer({ min: 1.5e9, max: 2e9 }), lat: around(-90, 90), lon: around(-180, 180), vel: fc.integer({ min: -10, max: 600 }), tid: fc.string({ maxLength: 3 }) })
      .map((l) => ({ topic: TOPICS.ownTracks('alice', ids.deviceId), json: { _type: 'location', ...l } as unknown })),
  );
  fc.assert(
    fc.property(message, fc.array(mutation, { minLength: 1, maxLength: 3 }), ({ topic, json }, mutations) => {
      let bytes = Buffer.from(JSON.stringify(json));
      for (const m of mutations) {
        const at = bytes.length === 0 ? 0 : m.at % bytes.length;
        if (m.kind === 'byte') bytes[at] = m.byte;
        else if (m.kind === 'insert') bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from(m.text), bytes.subarray(at)]);
        else if (m.kind === 'delete') bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + m.length)]);
        else bytes = Buffer.from(replaceValue(bytes.toString(), at, m.value));
      }
      assertSound(parse(topic, bytes));
    }),
    { numRuns: 5000 },
  );
});

/** Replaces the value after the n-th colon (modulo their count) by `value`, so the message stays nearly valid. */
function replaceValue(text: string, n: number, value: unknown): string {
  const colons = [...text.matchAll(/":/g)].map((m) => m.index);
  if (colons.length === 0) return text;
  const start = colons[n % colons.length]! + 2;
  const end = text.slice(start).search(/[,}\]]/);
  return text.slice(0, start) + JSON.stringify(value) + (end === -1 ? '' : text.slice(start + end));
}
