import { createHash } from 'node:crypto';
import type { RejectReason } from '../src/functions/ingest/parseTelemetry.js';
import { LIMITS, TOPICS } from '../src/functions/ingest/wireFormat.js';
import { createRng, type Rng } from '../src/sim/random.js';

/** One publish that ingest must reject, and the reason it must count it under. */
export interface HostileCase {
  class: string;
  topic: string;
  payload: Buffer;
  publisherId: string;
  expectedReason: RejectReason;
}

/** Ids are parameters so that a live test can publish the same cases as a real, authenticated device. */
export interface HostileCorpusOptions {
  /** A registered device: it publishes most cases, on its own topics. */
  deviceId: string;
  /** Another registered device, whose topics and id the first must not use. */
  otherDeviceId: string;
  /** A device id the registry does not know. */
  unknownDeviceId: string;
  maxPayloadBytes: number;
  seed?: number;
}

/**
 * A deterministic corpus of hostile publishes, over 2,000 in 21 classes, every one to be rejected.
 * Cases are distinct within a class. A payload over maxPayloadBytes is expected as too_large
 * whatever its class, since size is checked first.
 */
export function hostileCorpus(options: HostileCorpusOptions): HostileCase[] {
  const kit = createKit(options, createRng(options.seed ?? 0x7e1e));
  const cases: HostileCase[] = [];
  for (const [name, { count, draw }] of Object.entries(CLASSES)) {
    const seen = new Set<string>();
    for (let attempt = 0; seen.size < count && attempt < count * 20; attempt++) {
      const draft = draw(kit);
      const payload = typeof draft.payload === 'string' ? Buffer.from(draft.payload) : draft.payload;
      const key = createHash('sha1').update(`${draft.topic}\u0000${draft.publisherId}\u0000`).update(payload).digest('hex');
      if (seen.has(key)) continue;
      seen.add(key);
      const expectedReason = payload.byteLength > options.maxPayloadBytes ? 'too_large' : draft.reason;
      cases.push({ class: name, topic: draft.topic, payload, publisherId: draft.publisherId, expectedReason });
    }
  }
  return cases;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Fields = { [key: string]: Json };
type Format = 'tripline' | 'owntracks';

interface Draft {
  topic: string;
  payload: string | Buffer;
  publisherId: string;
  reason: RejectReason;
}

interface Kit {
  rng: Rng;
  ids: HostileCorpusOptions;
  format(): Format;
  /** A plausible tripline point that ingest accepts. */
  point(): Fields;
  /** A plausible OwnTracks location that ingest accepts. */
  ownTracks(): Fields;
  /** A valid tripline message (one point, an array, or an envelope) with one point changed by `change`. */
  message(change?: (point: Fields) => void): Json;
  valid(format: Format): Json;
  /** A draft on the device's own topic of the format, published by the device itself. */
  own(format: Format, payload: string | Buffer, reason: RejectReason): Draft;
  /** Letters for strings that must differ from case to case. */
  word(): string;
}

/** Stands in for raw JSON text (NaN, escapes, duplicate keys) that JSON.stringify cannot write. */
const RAW = '@raw@';
const KEY = '@key@';

function raw(json: Json, ...texts: string[]): string {
  let text = JSON.stringify(json);
  for (const replacement of texts) text = text.replace(`"${RAW}"`, () => replacement);
  return text;
}

function createKit(ids: HostileCorpusOptions, rng: Rng): Kit {
  const round = (value: number, digits: number) => Number(value.toFixed(digits));
  const coordinate = (limit: number) => round(rng.range(-limit, limit), 6) || 1;
  const tsMs = () => rng.int(Date.UTC(2020, 0, 1), Date.UTC(2030, 0, 1));
  const vector = (limit: number): Fields => ({ x: round(rng.range(-limit, limit), 3), y: round(rng.range(-limit, limit), 3), z: round(rng.range(-limit, limit), 3) });
  const kit: Kit = {
    rng,
    ids,
    format: () => (rng.chance(0.6) ? 'tripline' : 'owntracks'),
    point: () => {
      const ts = tsMs();
      const point: Fields = { ts: rng.chance(0.2) ? new Date(ts).toISOString() : ts, lat: coordinate(89), lon: coordinate(179) };
      if (rng.chance(0.6)) point.speed = round(rng.range(0, 60), 2);
      if (rng.chance(0.5)) point.heading = round(rng.range(0, 359), 1);
      if (rng.chance(0.5)) point.accuracy = rng.int(1, 50);
      if (rng.chance(0.5)) point.seq = rng.int(0, 1_000_000);
      if (rng.chance(0.3)) point.ignition = rng.chance(0.9);
      if (rng.chance(0.3)) point.accel = vector(20);
      if (rng.chance(0.3)) point.gyro = vector(2);
      if (rng.chance(0.1)) point.speedLimit = rng.pick([8.33, 13.89, 25, 33.33]);
      if (rng.chance(0.1)) point.phoneUse = rng.chance(0.5);
      return point;
    },
    ownTracks: () => {
      const location: Fields = { _type: 'location', tst: Math.floor(tsMs() / 1000), lat: coordinate(89), lon: coordinate(179) };
      if (rng.chance(0.6)) location.vel = rng.int(0, 200);
      if (rng.chance(0.5)) location.cog = rng.int(0, 359);
      if (rng.chance(0.6)) location.acc = rng.int(1, 100);
      if (rng.chance(0.7)) location.tid = kit.word().slice(0, 2);
      if (rng.chance(0.4)) location.batt = rng.int(1, 100);
      return location;
    },
    message: (change) => {
      const points = Array.from({ length: rng.int(1, 10) }, () => kit.point());
      change?.(rng.pick(points));
      const form = rng.int(0, 2);
      if (form === 0 && points.length === 1) return points[0]!;
      return form === 2 ? { points } : points;
    },
    valid: (format) => (format === 'tripline' ? kit.message() : kit.ownTracks()),
    own: (format, payload, reason) => ({ topic: topicOf(format, ids.deviceId, kit), payload, publisherId: ids.deviceId, reason }),
    word: () => Array.from({ length: rng.int(3, 8) }, () => rng.pick([...'abcdefghijklmnopqrstuvwxyz'])).join(''),
  };
  return kit;
}

function topicOf(format: Format, deviceId: string, kit: Kit): string {
  return format === 'tripline' ? TOPICS.telemetry(deviceId) : TOPICS.ownTracks(kit.word(), deviceId);
}

/** Either format, with a field of the tripline point or OwnTracks location replaced by raw text. */
function withRawField(kit: Kit, trip: readonly string[], own: readonly string[], text: string): Draft {
  const format = kit.format();
  const field = kit.rng.pick(format === 'tripline' ? trip : own);
  const [outer, inner] = field.split('.');
  const set = (target: Fields) => {
    if (inner) target[outer!] = { x: 0.1, y: 0.2, z: 9.8, [inner]: RAW };
    else target[outer!] = RAW;
  };
  const json = format === 'tripline' ? kit.message(set) : withChange(kit.ownTracks(), set);
  return kit.own(format, raw(json, text), 'invalid_json');
}

function withChange(fields: Fields, change: (fields: Fields) => void): Fields {
  change(fields);
  return fields;
}

const NUMERIC_FIELDS = ['ts', 'lat', 'lon', 'speed', 'heading', 'accuracy', 'seq', 'speedLimit', 'accel.x', 'accel.z', 'gyro.y'];
const OWNTRACKS_NUMERIC = ['tst', 'lat', 'lon', 'vel', 'cog', 'acc', 'batt'];
const whitespace = (kit: Kit, max: number) => Array.from({ length: kit.rng.int(0, max) }, () => kit.rng.pick([' ', '\t', '\n', '\r'])).join('');

/** Ways to break valid JSON text; each result is not JSON (the BOM included: RFC 8259 §8.1). */
const BREAKAGES: Array<(text: string, rng: Rng) => string | Buffer> = [
  (t, r) => t.slice(0, r.int(0, t.length - 1)),
  (t, r) => t + r.pick(['x', '}', ']', ',', '{}', 'null', ';', '\u0000', ' //', '\n' + t, t]),
  (t) => t.replaceAll('"', "'"),
  (t, r) => r.pick(['/* fix */', '// fix\n', '# fix\n']) + t,
  (t) => t.replace(',', ' /* next */,'),
  (t) => '\ufeff' + t,
  (t) => t.slice(0, -1) + ',' + t.slice(-1),
  (t) => t.replace(/"(\w+)":/g, '$1:'),
  (t) => t.replace(',', ''),
  (t, r) => t.replace(/"lat":[^,}]+/, `"lat":${r.pick(['0x32', '050', '+50', '.5', '50.', '5e', '--5', '5_0', '50,5', 'True', 'undefined', 'None', 'nul', "'50'"])}`),
  (t) => t.replace('"lat"', '"la\tt"'),
  (t, r) => t.replace('"lat"', r.pick(['"l\\at"', '"l\\u12t"', '"l\\x61t"', '"l\\\'t"'])),
  (t) => t.replace(':', '::'),
  (t) => t.replace(/:[^,}\]]+/, ':'),
  (t) => '[' + t,
  (t) => Buffer.from(t, 'utf16le'),
  (t, r) => `${r.pick(['<point lat="50.85" lon="4.35"/>', 'ts,lat,lon\n1795507200000,50.85,4.35', 'lat=50.85&lon=4.35', 'ts: 1795507200000', 'OK', '@'])}${t.slice(0, r.int(0, 20))}`,
];

const WRONG_TRIPLINE: ReadonlyArray<[string, readonly Json[]]> = [
  ['ts', [true, null, {}, [], [1795507200000], 'yesterday', 1795507200000.5, '2026-11-24', '2026-11-24T08:00:00', '2026-11-24 08:00:00Z', 'now']],
  ['lat', [true, false, null, {}, [], [50.85], { value: 50.85 }, 'north']],
  ['lon', [true, null, {}, [4.35], 'east']],
  ['speed', [true, null, {}, [], 'fast']],
  ['heading', [false, null, [], 'NE']],
  ['accuracy', [true, null, {}, 'good']],
  ['speedLimit', [true, null, [], '50 km/h']],
  ['accel', [1, 'x', [], [0, 0, 9.8], { x: 1, y: 2 }, { x: 1, y: 2, z: 3, w: 4 }, { x: '1', y: 0, z: 0 }, null, { x: null, y: 0, z: 0 }, { x: true, y: 0, z: 0 }]],
  ['gyro', [0, 'spin', [0.1, 0, 0], { x: 0, y: 0 }, null, { x: 0, y: 0, z: [] }]],
  ['ignition', ['true', 1, 0, 'yes', null, [], {}]],
  ['phoneUse', ['false', 1, null, {}]],
  ['seq', [-1, 1.5, true, null, [], {}, -0.5, 'next']],
];
const WRONG_OWNTRACKS: ReadonlyArray<[string, readonly Json[]]> = [
  ['_type', ['waypoint', 'transition', 'cmd', 'Location', 'LOCATION', '', 1, null, true, ['location']]],
  ['tst', [1795507200.5, null, true, [], {}]],
  ['lat', [null, true, [], {}, 'north']],
  ['lon', [null, false, [4.35], 'east']],
  ['vel', [null, true, [], 'fast']],
  ['cog', [null, {}, 'NE']],
  ['acc', [null, true, 'good']],
];

const BAD_UTF8: readonly number[][] = [
  [0xc0, 0xaf], [0xc0, 0x80], [0xc1, 0xbf], [0xe0, 0x80, 0xaf], [0xe0, 0x9f, 0xbf], [0xf0, 0x80, 0x80, 0xaf], [0xf0, 0x8f, 0xbf, 0xbf],
  [0xf8, 0x88, 0x80, 0x80, 0x80], [0xfc, 0x84, 0x80, 0x80, 0x80, 0x80],
  [0xed, 0xa0, 0x80], [0xed, 0xad, 0xbf], [0xed, 0xb0, 0x80], [0xed, 0xbf, 0xbf], [0xed, 0xa0, 0xbd, 0xed, 0xb8, 0x80],
  [0xc3], [0xe2, 0x82], [0xf0, 0x9f, 0x98], [0xe2], [0xf0, 0x9f],
  [0xff], [0xfe], [0xf5, 0x80, 0x80, 0x80], [0x80], [0xbf], [0x80, 0x80], [0xc3, 0x28], [0xe2, 0x28, 0xa1],
  [0xf4, 0x90, 0x80, 0x80], [0xf7, 0xbf, 0xbf, 0xbf], [0xe9],
];
const LONE_SURROGATES = ['"\\ud800"', '"\\udfff"', '"\\uD83D"', '"x\\uDE00"', '"\\ude00\\ud83d"', '"\\uDBFF\\uDBFF"', '"ok\\udc00ok"'];

/** The same names written with JSON escapes: JSON.parse makes them equal to the plain ones. */
const ESCAPED: Record<string, string> = { ts: '\\u0074s', lat: 'l\\u0061t', lon: 'lo\\u006e', x: '\\u0078', y: '\\u0079', z: '\\u007a', _type: '\\u005ftype', tst: 'ts\\u0074', tid: 't\\u0069d', vel: 've\\u006c' };

const PROTO_KEYS = ['__proto__', 'constructor', 'prototype', '\\u005f_proto__', '__pro\\u0074o__', '\\u005F\\u005Fproto\\u005F\\u005F', '\\u0063onstructor', 'prot\\u006ftype'];
const PROTO_VALUES = ['{"admin":true}', 'null', '1', '[]', '{"prototype":{"polluted":true}}', '"x"', '{"toString":"boom"}', '{"__proto__":{"admin":true}}'];

const CLASSES: Record<string, { count: number; draw: (kit: Kit) => Draft }> = {
  broken_json: {
    count: 160,
    draw: (kit) => {
      const format = kit.format();
      return kit.own(format, kit.rng.pick(BREAKAGES)(JSON.stringify(kit.valid(format)), kit.rng), 'invalid_json');
    },
  },
  wrong_types: {
    count: 150,
    draw: (kit) => {
      const { rng } = kit;
      if (rng.chance(0.35)) {
        const [field, values] = rng.pick(WRONG_OWNTRACKS);
        const value = rng.pick(values);
        const drop = ['_type', 'tst', 'lat', 'lon'].includes(field) && rng.chance(0.15);
        const location = withChange(kit.ownTracks(), (l) => (drop ? delete l[field] : (l[field] = value)));
        return kit.own('owntracks', JSON.stringify(rng.chance(0.1) ? [location] : location), 'schema');
      }
      const shape = rng.int(0, 9);
      if (shape === 0) return kit.own('tripline', JSON.stringify(rng.pick([42, 'point', true, false, -1, 0.5, null])), 'schema');
      if (shape === 1) return kit.own('tripline', JSON.stringify({ points: rng.pick([{}, 'x', 1, [1, 2], [null], [[]], [true], null]) }), 'schema');
      if (shape === 2) return kit.own('tripline', JSON.stringify({ points: [kit.point()], [rng.pick(['version', 'device', 'extra', 'meta'])]: rng.int(0, 9) }), 'schema');
      if (shape === 3) return kit.own('tripline', JSON.stringify(kit.message((p) => delete p[rng.pick(['ts', 'lat', 'lon'])])), 'schema');
      if (shape === 4) return kit.own('tripline', JSON.stringify(kit.message((p) => (p[rng.pick(['alt', 'Lat', 'LAT', 'latitude', 'time', 'speed_kmh', 'deviceid', 'id', '', 'x'])] = rng.int(0, 99)))), 'schema');
      const [field, values] = rng.pick(WRONG_TRIPLINE);
      const value = rng.pick(values);
      return kit.own('tripline', JSON.stringify(kit.message((p) => (p[field] = value))), 'schema');
    },
  },
  numbers_as_strings: {
    count: 100,
    draw: (kit) => {
      const { rng } = kit;
      const spell = (n: number) => rng.pick([String(n), ` ${n}`, `${n} `, n.toExponential(), String(n).replace('.', ','), `+${n}`]);
      if (rng.chance(0.35)) {
        const field = rng.pick(['tst', 'lat', 'lon', 'vel', 'cog', 'acc']);
        return kit.own('owntracks', JSON.stringify(withChange(kit.ownTracks(), (l) => (l[field] = spell(typeof l[field] === 'number' ? l[field] : rng.int(1, 99))))), 'schema');
      }
      const field = rng.pick(NUMERIC_FIELDS);
      const [outer, inner] = field.split('.');
      const json = kit.message((p) => {
        if (inner) p[outer!] = { x: 0.1, y: 0.2, z: 9.8, [inner]: spell(rng.range(-5, 5)) };
        else p[outer!] = spell(typeof p[outer!] === 'number' ? (p[outer!] as number) : rng.int(1, 99));
      });
      return kit.own('tripline', JSON.stringify(json), 'schema');
    },
  },
  nan_infinity: {
    count: 120,
    draw: (kit) =>
      withRawField(kit, NUMERIC_FIELDS, OWNTRACKS_NUMERIC, kit.rng.pick([
        'NaN', '-NaN', 'Infinity', '-Infinity', '+Infinity', 'nan', 'inf', '-inf', 'Inf', 'NAN', 'infinity',
        '1e999', '-1e999', '1E400', '2e308', '-9e9999', '1.8e308', '1' + '0'.repeat(400),
      ])),
  },
  out_of_range_coordinates: {
    count: 150,
    draw: (kit) => {
      const { rng } = kit;
      const sign = () => rng.pick([1, -1]);
      const lat = () => sign() * rng.pick([90.000001, 90.5, 91, 180, 1000, 1e10, 1e308, Number(rng.range(90.0001, 100_000).toFixed(4))]);
      const lon = () => sign() * rng.pick([180.000001, 180.5, 181, 360, 1000, 1e10, 1e308, Number(rng.range(180.0001, 1_000_000).toFixed(4))]);
      const change = (target: Fields) => {
        const which = rng.int(0, 2);
        if (which !== 1) target.lat = lat();
        if (which !== 0) target.lon = lon();
      };
      const format = kit.format();
      return kit.own(format, JSON.stringify(format === 'tripline' ? kit.message(change) : withChange(kit.ownTracks(), change)), 'out_of_range');
    },
  },
  null_island: {
    count: 100,
    draw: (kit) => {
      const zero = () => kit.rng.pick(['0', '0.0', '-0', '0e0', '-0.0', '0E+2', '0.000', '0e-5', '-0e3']);
      const change = (target: Fields) => {
        target.lat = RAW;
        target.lon = RAW;
      };
      const format = kit.format();
      return kit.own(format, raw(format === 'tripline' ? kit.message(change) : withChange(kit.ownTracks(), change), zero(), zero()), 'out_of_range');
    },
  },
  timestamp_out_of_range: {
    count: 150,
    draw: (kit) => {
      const { rng } = kit;
      if (rng.chance(0.3)) {
        const tst = rng.pick([rng.int(0, 946_684_799), -rng.int(1, 1e9), rng.int(4_102_444_801, 9e12), rng.int(1.6e12, 1.9e12)]);
        return kit.own('owntracks', JSON.stringify(withChange(kit.ownTracks(), (l) => (l.tst = tst))), 'out_of_range');
      }
      if (rng.chance(0.1)) {
        const unsafe = rng.pick([1e16, 1e20, 2 ** 53, -1e17, 1.7e300]);
        return kit.own('tripline', JSON.stringify(kit.message((p) => (p.ts = unsafe))), 'schema');
      }
      const ms = rng.pick([
        rng.int(0, LIMITS.minTsMs - 1),
        -rng.int(1, 1e15),
        rng.int(1e9, 2e9),
        LIMITS.minTsMs - 1,
        LIMITS.maxTsMs + 1,
        rng.int(LIMITS.maxTsMs + 1, 9e15),
        rng.int(-62_167_219_200_000, LIMITS.minTsMs - 1),
        rng.int(LIMITS.maxTsMs + 1, 253_402_300_799_999),
      ]);
      const iso = ms >= -62_167_219_200_000 && ms <= 253_402_300_799_999 && rng.chance(0.4);
      return kit.own('tripline', JSON.stringify(kit.message((p) => (p.ts = iso ? new Date(ms).toISOString() : ms))), 'out_of_range');
    },
  },
  sensor_out_of_range: {
    count: 120,
    draw: (kit) => {
      const { rng } = kit;
      const outside = (min: number, max: number) => Number((rng.chance(0.5) ? min - rng.range(0.01, 1000) : max + rng.range(0.01, 1e6)).toFixed(3));
      if (rng.chance(0.3)) {
        const [field, value] = rng.pick<[string, number]>([
          ['vel', rng.chance(0.5) ? -rng.int(1, 100) : rng.int(541, 10_000)],
          ['cog', rng.chance(0.5) ? -rng.int(1, 359) : rng.int(361, 10_000)],
          ['acc', rng.chance(0.5) ? -rng.int(1, 100) : rng.int(100_001, 1e7)],
        ]);
        return kit.own('owntracks', JSON.stringify(withChange(kit.ownTracks(), (l) => (l[field] = value))), 'out_of_range');
      }
      const field = rng.pick(['speed', 'heading', 'accuracy', 'speedLimit', 'accel', 'gyro']);
      const value: Json =
        field === 'speed' ? outside(0, LIMITS.maxSpeedMps)
        : field === 'heading' ? outside(0, 360)
        : field === 'accuracy' ? outside(0, LIMITS.maxAccuracyM)
        : field === 'speedLimit' ? (rng.chance(0.2) ? 0 : outside(0, LIMITS.maxSpeedMps))
        : { x: 0.1, y: 0.2, z: 9.8, [rng.pick(['x', 'y', 'z'])]: outside(field === 'accel' ? -LIMITS.maxAccelMps2 : -LIMITS.maxGyroRadps, field === 'accel' ? LIMITS.maxAccelMps2 : LIMITS.maxGyroRadps) };
      return kit.own('tripline', JSON.stringify(kit.message((p) => (p[field] = value))), 'out_of_range');
    },
  },
  huge_strings: {
    count: 100,
    draw: (kit) => {
      const { rng, ids } = kit;
      const budget = Math.max(64, ids.maxPayloadBytes - 1000);
      const size = rng.int(Math.min(1000, budget), budget);
      const fill = (length: number) => kit.word().repeat(Math.ceil(length / 3)).slice(0, length);
      const point = { ts: Date.UTC(2026, 10, 24), lat: 50.85, lon: 4.35 };
      const location = { _type: 'location', tst: Date.UTC(2026, 10, 24) / 1000, lat: 50.85, lon: 4.35 };
      const shapes: Array<() => Draft> = [
        () => kit.own('tripline', JSON.stringify({ ...point, ts: fill(size) }), 'schema'),
        () => kit.own('tripline', JSON.stringify({ ...point, lat: '5'.repeat(size) }), 'schema'),
        () => kit.own('tripline', JSON.stringify({ ...point, [fill(size)]: 1 }), 'schema'),
        () => kit.own('tripline', JSON.stringify({ ...point, ts: `2026-11-24T08:00:00.${'1'.repeat(size)}Z` }), 'schema'),
        () => kit.own('tripline', raw({ ...point, ts: RAW }, `"${'\\u0041'.repeat(Math.floor(size / 6))}"`), 'schema'),
        () => kit.own('tripline', JSON.stringify({ ...point, ts: '\u{1F697}'.repeat(Math.floor(size / 4)) }), 'schema'),
        () => kit.own('tripline', JSON.stringify({ deviceId: ids.deviceId + fill(size), points: [point] }), 'device_mismatch'),
        () => kit.own('owntracks', JSON.stringify({ ...location, _type: 'location' + fill(size) }), 'schema'),
        () => kit.own('owntracks', JSON.stringify({ ...location, lat: fill(size) }), 'schema'),
        () => kit.own('owntracks', JSON.stringify({ ...location, topic: `owntracks/${kit.word()}/${fill(size)}` }), 'device_mismatch'),
      ];
      return rng.pick(shapes)();
    },
  },
  deep_nesting: {
    count: 100,
    draw: (kit) => {
      const { rng, ids } = kit;
      const deepest = (bytesPerLevel: number) => Math.max(2, Math.min(10_000, Math.floor((ids.maxPayloadBytes - 500) / bytesPerLevel)));
      const depth = (bytesPerLevel: number) => (rng.chance(0.3) ? deepest(bytesPerLevel) : rng.int(2, deepest(bytesPerLevel)));
      const arrays = (d: number) => '['.repeat(d) + ']'.repeat(d);
      const shapes: Array<() => Draft> = [
        () => kit.own(kit.format(), arrays(depth(2)), 'schema'),
        () => {
          const d = depth(11);
          const key = rng.pick(['a', 'points', 'ts', 'x', '_type', 'lat']);
          return kit.own(kit.format(), `{"${key}":`.repeat(d) + '1' + '}'.repeat(d), 'schema');
        },
        () => kit.own('tripline', `{"points":${arrays(depth(2))}}`, 'schema'),
        () => kit.own('tripline', raw(kit.message((p) => (p[rng.pick(['accel', 'ts', 'lat', 'gyro'])] = RAW)), arrays(depth(2))), 'schema'),
        () => {
          const d = depth(12);
          return kit.own('tripline', '[{"a":'.repeat(d) + '1' + '}]'.repeat(d), 'schema');
        },
        () => kit.own('owntracks', raw(withChange(kit.ownTracks(), (l) => (l[rng.pick(['_type', 'lat', 'tst'])] = RAW)), arrays(depth(2))), 'schema'),
      ];
      return rng.pick(shapes)();
    },
  },
  prototype_keys: {
    count: 120,
    draw: (kit) => {
      const { rng } = kit;
      const entry = `"${rng.pick(PROTO_KEYS)}":${rng.pick(PROTO_VALUES)}`;
      const place = (json: Json) => JSON.stringify(json).replace(`"${KEY}":"${RAW}"`, () => entry);
      const format = kit.format();
      if (format === 'owntracks') {
        const nested = rng.chance(0.4);
        return kit.own(format, place(withChange(kit.ownTracks(), (l) => (nested ? (l[kit.word()] = { inner: { [KEY]: RAW } }) : (l[KEY] = RAW)))), 'forbidden_key');
      }
      const shapes: Array<() => string> = [
        () => place(kit.message((p) => (p[KEY] = RAW))),
        () => place(kit.message((p) => (p.accel = { x: 0.1, y: 0.2, z: 9.8, [KEY]: RAW }))),
        () => place({ points: [kit.point()], [KEY]: RAW }),
        () => {
          const d = rng.int(1, 1000);
          return '['.repeat(d) + `{${entry}}` + ']'.repeat(d);
        },
      ];
      return kit.own(format, rng.pick(shapes)(), 'forbidden_key');
    },
  },
  invalid_utf8: {
    count: 120,
    draw: (kit) => {
      const { rng } = kit;
      const format = kit.format();
      const text = JSON.stringify(kit.valid(format));
      const shape = rng.int(0, 9);
      if (shape === 0) return kit.own(format, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]), 'invalid_utf8');
      if (shape === 1) {
        const latin1 = { ...(format === 'tripline' ? kit.point() : kit.ownTracks()), [rng.pick(['note', 'desc', 'addr'])]: `Caf\u00e9 ${kit.word()}` };
        return kit.own(format, Buffer.from(JSON.stringify(latin1), 'latin1'), 'invalid_utf8');
      }
      if (shape <= 3) {
        const surrogate = rng.pick(LONE_SURROGATES);
        if (format === 'owntracks') return kit.own(format, raw(withChange(kit.ownTracks(), (l) => (l[rng.pick(['tid', 'desc', '_type'])] = RAW)), surrogate), 'invalid_utf8');
        if (rng.chance(0.5)) return kit.own(format, raw(kit.message((p) => (p.ts = RAW)), surrogate), 'invalid_utf8');
        return kit.own(format, JSON.stringify(kit.message((p) => (p[KEY] = 1))).replace(`"${KEY}"`, () => surrogate), 'invalid_utf8');
      }
      const at = rng.int(0, text.length);
      return kit.own(format, Buffer.concat([Buffer.from(text.slice(0, at)), Buffer.from(rng.pick(BAD_UTF8)), Buffer.from(text.slice(at))]), 'invalid_utf8');
    },
  },
  oversize: {
    count: 80,
    draw: (kit) => {
      const { rng, ids } = kit;
      const size = rng.chance(0.2) ? ids.maxPayloadBytes + 1 : ids.maxPayloadBytes + rng.int(1, Math.ceil(ids.maxPayloadBytes / 4));
      const format = kit.format();
      const text = JSON.stringify(kit.valid(format));
      const shapes: Array<() => Buffer> = [
        () => Buffer.concat([Buffer.from(text), Buffer.alloc(Math.max(0, size - text.length), ' ')]),
        () => {
          const point = JSON.stringify(format === 'tripline' ? kit.point() : kit.ownTracks());
          return Buffer.from(`[${Array<string>(Math.ceil(size / point.length)).fill(point).join(',')}]`);
        },
        () => Buffer.alloc(size, rng.pick(['x', '[', '{', ' ', '0'])),
        () => Buffer.alloc(size, Buffer.from(Array.from({ length: rng.int(1, 64) }, () => rng.int(0, 255)))),
      ];
      return kit.own(format, rng.pick(shapes)(), 'too_large');
    },
  },
  wildcard_topics: {
    count: 100,
    draw: (kit) => {
      const id = kit.ids.deviceId;
      const user = kit.word();
      const [topic, reason] = kit.rng.pick<[string, RejectReason]>([
        ['tripline/+/telemetry', 'invalid_device_id'],
        ['tripline/+/+', 'unknown_topic'],
        [`tripline/${id}+/telemetry`, 'invalid_device_id'],
        [`tripline/${id}#/telemetry`, 'invalid_device_id'],
        ['tripline/#', 'unknown_topic'],
        [`tripline/${id}/#`, 'unknown_topic'],
        [`tripline/${id}/+`, 'unknown_topic'],
        [`+/${id}/telemetry`, 'unknown_topic'],
        ['#', 'unknown_topic'],
        ['+', 'unknown_topic'],
        ['+/+/+', 'unknown_topic'],
        [`owntracks/+/${id}`, 'unknown_topic'],
        ['owntracks/+/+', 'unknown_topic'],
        ['owntracks/#', 'unknown_topic'],
        [`owntracks/${user}+/${id}`, 'unknown_topic'],
        [`owntracks/${user}/+`, 'invalid_device_id'],
        [`owntracks/${user}/#`, 'invalid_device_id'],
      ]);
      const format: Format = topic.startsWith('owntracks') ? 'owntracks' : 'tripline';
      return { topic, payload: JSON.stringify(kit.valid(format)), publisherId: id, reason };
    },
  },
  sys_topics: {
    count: 80,
    draw: (kit) => {
      const id = kit.ids.deviceId;
      const word = kit.word();
      const topic = kit.rng.pick([
        '$SYS', `$SYS/broker/${word}`, `$SYS/broker/clients/${id}`, `$SYS/tripline/${id}/telemetry`, `$SYS/${id}/telemetry`,
        `$share/${word}/tripline/${id}/telemetry`, `$queue/tripline/${id}/telemetry`, `$aws/things/${id}/shadow/update`,
        `$SYS/owntracks/${word}/${id}`, '$', `$tripline/${id}/telemetry`, `$owntracks/${word}/${id}`, '$SYS/+', '$SYS/#',
      ]);
      return { topic, payload: JSON.stringify(kit.valid(kit.format())), publisherId: id, reason: 'unknown_topic' };
    },
  },
  foreign_topics: {
    count: 100,
    draw: (kit) => {
      const id = kit.ids.deviceId;
      const user = kit.word();
      const [topic, reason] = kit.rng.pick<[string, RejectReason]>([
        [`tripline/${id}/downlink`, 'unknown_topic'],
        [`tripline/${id}/${kit.word()}`, 'unknown_topic'],
        [`tripline/${id}/telemetry/${kit.word()}`, 'unknown_topic'],
        [`tripline/${id}/telemetry/`, 'unknown_topic'],
        [`tripline/${id}`, 'unknown_topic'],
        ['tripline', 'unknown_topic'],
        ['', 'unknown_topic'],
        ['/', 'unknown_topic'],
        [`Tripline/${id}/telemetry`, 'unknown_topic'],
        [`/tripline/${id}/telemetry`, 'unknown_topic'],
        [`tripline/${id}/Telemetry`, 'unknown_topic'],
        [`tripline/${id}/telemetry `, 'unknown_topic'],
        [`owntracks/${user}/${id}/event`, 'unknown_topic'],
        [`owntracks/${id}`, 'unknown_topic'],
        [`owntracks//${id}`, 'unknown_topic'],
        [`${kit.word()}/${id}/telemetry`, 'unknown_topic'],
        ['tripline//telemetry', 'invalid_device_id'],
        [`tripline/${'a'.repeat(65)}/telemetry`, 'invalid_device_id'],
        [`tripline/${id} ${kit.word()}/telemetry`, 'invalid_device_id'],
        [`tripline/${id}.${kit.word()}/telemetry`, 'invalid_device_id'],
        [`tripline/..${id}/telemetry`, 'invalid_device_id'],
        [`tripline/${kit.word()}\u00e4/telemetry`, 'invalid_device_id'],
        [`tripline/${id}\u0000/telemetry`, 'invalid_device_id'],
        [`owntracks/${user}/`, 'invalid_device_id'],
        [`owntracks/${user}/${id}:${kit.word()}`, 'invalid_device_id'],
        [`owntracks/${user}/\u{1F697}`, 'invalid_device_id'],
      ]);
      const format: Format = topic.startsWith('owntracks') ? 'owntracks' : 'tripline';
      return { topic, payload: JSON.stringify(kit.valid(format)), publisherId: id, reason };
    },
  },
  unknown_device: {
    count: 100,
    draw: (kit) => {
      const format = kit.format();
      const payload = kit.rng.chance(0.7) ? JSON.stringify(kit.valid(format)) : kit.rng.pick(['', '{', 'NaN', '\ufeff[]', `{"__proto__":{}}`]) + kit.word();
      return { topic: topicOf(format, kit.ids.unknownDeviceId, kit), payload, publisherId: kit.ids.unknownDeviceId, reason: 'unknown_device' };
    },
  },
  another_device: {
    count: 120,
    draw: (kit) => {
      const { rng, ids } = kit;
      const shape = rng.int(0, 9);
      if (shape <= 3) {
        const format = kit.format();
        const payload = rng.chance(0.8) ? JSON.stringify(kit.valid(format)) : kit.word();
        return { topic: topicOf(format, rng.chance(0.8) ? ids.otherDeviceId : ids.unknownDeviceId, kit), payload, publisherId: ids.deviceId, reason: 'forbidden_topic' };
      }
      if (shape <= 6) {
        const named = rng.pick<Json>([ids.otherDeviceId, ids.unknownDeviceId, ids.deviceId + kit.word(), ` ${ids.deviceId}`, `${ids.deviceId}/`, '', 42, null, [ids.deviceId], { id: ids.deviceId }, true]);
        const json = rng.chance(0.8) ? { deviceId: named, points: [kit.point()] } : { ...kit.point(), deviceId: named };
        return kit.own('tripline', JSON.stringify(json), 'device_mismatch');
      }
      if (shape <= 8) {
        const topic = rng.pick<Json>([TOPICS.ownTracks(kit.word(), ids.otherDeviceId), TOPICS.telemetry(ids.otherDeviceId), ids.otherDeviceId, TOPICS.ownTracks(kit.word(), ids.unknownDeviceId), `owntracks/${kit.word()}/${ids.deviceId}/${kit.word()}`, null, 42]);
        return kit.own('owntracks', JSON.stringify({ ...kit.ownTracks(), topic }), 'device_mismatch');
      }
      return kit.own('tripline', JSON.stringify([{ ...kit.point(), deviceId: ids.otherDeviceId }, kit.point()]), 'schema');
    },
  },
  empty: {
    count: 80,
    draw: (kit) => {
      const { rng } = kit;
      const format = kit.format();
      if (rng.chance(0.3)) return kit.own(format, whitespace(kit, 40), 'invalid_json');
      const tokens = format === 'tripline'
        ? ['[]', '{}', '{"points":[]}', 'null', '""', '0', 'false', '[{}]', '[[]]', '{"points":null}', '{"points":[{}]}', '[null]', `{"deviceId":"${kit.ids.deviceId}","points":[]}`]
        : ['{}', '[]', 'null', '{"_type":"location"}', '""', '{"_type":""}', '[{}]'];
      return kit.own(format, whitespace(kit, 6) + rng.pick(tokens) + whitespace(kit, 6), 'schema');
    },
  },
  too_many_points: {
    count: 60,
    draw: (kit) => {
      const { rng } = kit;
      const count = LIMITS.maxPointsPerMessage + 1 + rng.int(0, 1500);
      if (rng.chance(0.2)) return kit.own('owntracks', JSON.stringify(Array.from({ length: count }, () => kit.ownTracks())), 'schema');
      const ts = rng.int(Date.UTC(2020, 0, 1), Date.UTC(2030, 0, 1));
      const points = Array.from({ length: count }, (_, i) => ({ ts: ts + i * 1000, lat: Number(rng.range(-80, 80).toFixed(4)) || 1, lon: Number(rng.range(-170, 170).toFixed(4)) }));
      return kit.own('tripline', JSON.stringify(rng.chance(0.5) ? points : { points }), 'schema');
    },
  },
  duplicate_keys: {
    count: 100,
    draw: (kit) => {
      const { rng, ids } = kit;
      /** Writes `fields` with `key` again at the end, maybe spelt with an escape, maybe with another value. */
      const duplicated = (fields: Fields, key: string) => {
        const again = rng.chance(0.5) ? fields[key] : fields[rng.pick(Object.keys(fields))];
        const spelling = rng.chance(0.3) ? (ESCAPED[key] ?? key) : key;
        return JSON.stringify(fields).replace(/}$/, () => `,"${spelling}":${JSON.stringify(again)}}`);
      };
      const shape = rng.int(0, 4);
      if (shape === 0) {
        const key = rng.pick(['_type', 'lat', 'lon', 'tst', 'tid', 'vel']);
        return kit.own('owntracks', duplicated({ ...kit.ownTracks(), tid: 'ab', vel: 10 }, key), 'invalid_json');
      }
      if (shape === 1) {
        const points = JSON.stringify([kit.point()]);
        return kit.own('tripline', rng.chance(0.5) ? `{"points":${points},"points":${points}}` : `{"deviceId":"${ids.deviceId}","points":${points},"deviceId":"${ids.otherDeviceId}"}`, 'invalid_json');
      }
      if (shape === 2) {
        const accel = duplicated({ x: 0.1, y: 0.2, z: 9.8 }, rng.pick(['x', 'y', 'z']));
        return kit.own('tripline', raw(kit.message((p) => (p.accel = RAW)), accel), 'invalid_json');
      }
      const points = Array.from({ length: rng.int(1, 5) }, () => kit.point());
      const victim = rng.int(0, points.length - 1);
      const key = rng.pick(['ts', 'lat', 'lon']);
      const texts = points.map((p, i) => (i === victim ? duplicated(p, key) : JSON.stringify(p)));
      return kit.own('tripline', rng.chance(0.5) ? `[${texts.join(',')}]` : `{"points":[${texts.join(',')}]}`, 'invalid_json');
    },
  },
};
