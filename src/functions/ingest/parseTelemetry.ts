import { ID_PATTERN, ID_RULE } from '../../domain/ids.js';
import type { TelemetryPoint } from '../../domain/point.js';
import type { PointsMessage } from '../../ports/eventBus.js';
import { fromWire, LIMITS, ownTracksSchema, triplineMessageSchema } from './wireFormat.js';

/** Every reason ingest rejects a message for: `tripline_messages_rejected_total` is labelled by these. */
export const REJECT_REASONS = [
  'too_large',
  'unknown_topic',
  'invalid_device_id',
  'forbidden_topic',
  'unknown_device',
  'invalid_utf8',
  'invalid_json',
  'forbidden_key',
  'device_mismatch',
  'schema',
  'out_of_range',
  'internal_error',
] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

export interface IngestInput {
  topic: string;
  payload: Uint8Array;
  /** The identity the transport authenticated (today the MQTT client id). */
  publisherId: string;
  receivedAtMs: number;
}

export interface DeviceIdentity {
  deviceId: string;
  vehicleId: string;
  tenantId: string;
  /** Who drives and which policy covers the vehicle, when the registry knows. */
  driverId?: string;
  policyId?: string;
}

/** `traceparent`: the W3C trace context the payload carried, unchecked (tracing validates it). */
export type IngestOutcome = { ok: true; message: PointsMessage; traceparent?: string } | Rejection;
type Rejection = { ok: false; reason: RejectReason; detail: string };

export interface IngestOptions {
  maxPayloadBytes: number;
  resolveDevice: (deviceId: string) => DeviceIdentity | null;
}

type Format = 'tripline' | 'owntracks';

/** An OwnTracks user level: not empty, and no MQTT wildcard (a PUBLISH topic may not hold one). */
const OWNTRACKS_USER = /^[^+#]+$/;
/** ignoreBOM keeps a byte order mark in the text, so JSON.parse rejects it (RFC 8259 §8.1). */
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Turns one MQTT publish into a bus message, or says why not. Never throws. */
export function parseTelemetry(input: IngestInput, options: IngestOptions): IngestOutcome {
  try {
    return parse(input, options);
  } catch (error) {
    // A bug here or a failing resolveDevice must cost one message, not the connection or the process.
    return reject('internal_error', error instanceof Error ? error.message.slice(0, 200) : 'a non-Error was thrown');
  }
}

function parse(input: IngestInput, options: IngestOptions): IngestOutcome {
  if (input.payload.byteLength > options.maxPayloadBytes) {
    return reject('too_large', `payload of ${input.payload.byteLength} bytes exceeds ${options.maxPayloadBytes}`);
  }
  const route = routeOf(input.topic);
  if (!route) return reject('unknown_topic', `topic ${JSON.stringify(input.topic.slice(0, 200))} is not an ingest topic`);
  if (!ID_PATTERN.test(route.deviceId)) return reject('invalid_device_id', `device ids are ${ID_RULE}`);
  if (route.deviceId !== input.publisherId) return reject('forbidden_topic', 'a device may publish only to its own topic');
  const device = options.resolveDevice(route.deviceId);
  if (!device) return reject('unknown_device', `device ${route.deviceId} is not registered`);

  let text: string;
  try {
    text = utf8.decode(input.payload);
  } catch {
    return reject('invalid_utf8', 'payload is not well-formed UTF-8');
  }
  const json = parseStrictJson(text);
  if ('reason' in json) return json;
  const named = namedDevice(json.value, route.format);
  if (named !== undefined && named !== route.deviceId) {
    return reject('device_mismatch', `payload names device ${typeof named === 'string' ? JSON.stringify(named.slice(0, 64)) : `of type ${typeof named}`}`);
  }
  const parsed = route.format === 'owntracks' ? parseOwnTracks(json.value) : parseTripline(json.value);
  if ('reason' in parsed) return parsed;
  const { points, traceparent } = parsed;
  for (const point of points) {
    const problem = rangeProblem(point);
    if (problem) return reject('out_of_range', problem);
  }
  points.sort((a, b) => a.tsMs - b.tsMs);
  return {
    ok: true,
    message: { kind: 'points', ...device, receivedAtMs: input.receivedAtMs, points },
    ...(traceparent !== undefined ? { traceparent } : {}),
  };
}

/** Which device a topic belongs to and in which format it publishes, or null for a topic that is not an ingest topic. */
export function routeOf(topic: string): { deviceId: string; format: Format } | null {
  const parts = topic.split('/');
  if (parts.length !== 3) return null;
  if (parts[0] === 'tripline' && parts[2] === 'telemetry') return { deviceId: parts[1]!, format: 'tripline' };
  if (parts[0] === 'owntracks' && OWNTRACKS_USER.test(parts[1]!)) return { deviceId: parts[2]!, format: 'owntracks' };
  return null;
}

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
/** Only a \uD800-\uDFFF escape can put a lone surrogate in the text: the decoder refused raw ones. */
const SURROGATE_ESCAPE = /\\u[dD][89abcdefABCDEF]/;
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * JSON.parse restricted to I-JSON (RFC 7493): finite numbers, unique member names, no lone
 * surrogates. Keys that lead to prototypes are refused outright rather than stripped, so a
 * later copy or merge of the payload can never reach Object.prototype. The walk is iterative:
 * JSON.parse takes any depth, and so must this.
 */
function parseStrictJson(text: string): { value: unknown } | Rejection {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return reject('invalid_json', error instanceof Error ? error.message.slice(0, 200) : 'unparseable');
  }
  const checkStrings = SURROGATE_ESCAPE.test(text);
  let memberNames = 0;
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const node = pending.pop();
    if (typeof node !== 'object') {
      if (typeof node === 'number' && !Number.isFinite(node)) return reject('invalid_json', 'a number is beyond the range of a double');
      if (checkStrings && typeof node === 'string' && LONE_SURROGATE.test(node)) return reject('invalid_utf8', 'a string holds a lone surrogate');
    } else if (Array.isArray(node)) {
      for (const item of node) pending.push(item);
    } else if (node !== null) {
      const fields = node as Record<string, unknown>;
      const keys = Object.keys(fields);
      for (const key of keys) {
        if (FORBIDDEN_KEYS.has(key)) return reject('forbidden_key', `key ${key} is not allowed`);
        if (checkStrings && LONE_SURROGATE.test(key)) return reject('invalid_utf8', 'a key holds a lone surrogate');
        pending.push(fields[key]);
      }
      memberNames += keys.length;
    }
  }
  // JSON.parse keeps the last of duplicate names silently, so then the text has more names than
  // the value. Each name is followed by a colon: no more colons than names rules duplicates out.
  if (countColons(text) > memberNames && countMemberNames(text) > memberNames) return reject('invalid_json', 'an object has a duplicate key');
  return { value };
}

const BACKSLASH = 0x5c;
const COLON = 0x3a;

function countColons(text: string): number {
  let colons = 0;
  for (let at = text.indexOf(':'); at !== -1; at = text.indexOf(':', at + 1)) colons++;
  return colons;
}

/** Member names in text that JSON.parse accepted: the strings followed by a colon. */
function countMemberNames(text: string): number {
  let names = 0;
  let open = text.indexOf('"');
  while (open !== -1) {
    let close = text.indexOf('"', open + 1);
    while (close !== -1 && isEscaped(text, close)) close = text.indexOf('"', close + 1);
    if (close === -1) break;
    let after = close + 1;
    while (isJsonWhitespace(text.charCodeAt(after))) after++;
    if (text.charCodeAt(after) === COLON) names++;
    open = text.indexOf('"', after);
  }
  return names;
}

function isEscaped(text: string, quoteAt: number): boolean {
  let backslashes = 0;
  while (text.charCodeAt(quoteAt - 1 - backslashes) === BACKSLASH) backslashes++;
  return backslashes % 2 === 1;
}

function isJsonWhitespace(code: number): boolean {
  return code === 0x20 || code === 0x0a || code === 0x0d || code === 0x09;
}

/** The device a payload names itself, if any: a tripline envelope's `deviceId`, the last level of an OwnTracks `topic`. */
function namedDevice(json: unknown, format: Format): unknown {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) return undefined;
  const fields = json as Record<string, unknown>;
  if (format === 'tripline') return fields.deviceId;
  return typeof fields.topic === 'string' ? fields.topic.slice(fields.topic.lastIndexOf('/') + 1) : fields.topic;
}

function parseTripline(json: unknown): { points: TelemetryPoint[]; traceparent: string | undefined } | Rejection {
  const parsed = triplineMessageSchema(json).safeParse(json);
  if (!parsed.success) return reject('schema', summariseIssues(parsed.error.issues));
  return { points: parsed.data.points.map(fromWire), traceparent: parsed.data.traceparent };
}

function parseOwnTracks(json: unknown): { points: TelemetryPoint[]; traceparent: undefined } | Rejection {
  const parsed = ownTracksSchema.safeParse(json);
  if (!parsed.success) return reject('schema', summariseIssues(parsed.error.issues));
  const m = parsed.data;
  const point: TelemetryPoint = { tsMs: m.tst * 1000, lat: m.lat, lon: m.lon };
  if (m.vel !== undefined) point.speedMps = m.vel / 3.6;
  if (m.cog !== undefined) point.headingDeg = m.cog;
  if (m.acc !== undefined) point.accuracyM = m.acc;
  return { points: [point], traceparent: undefined };
}

/** Written as "not within" so that a NaN, whatever let it through, is out of range too. */
function rangeProblem(p: TelemetryPoint): string | null {
  if (!within(p.tsMs, LIMITS.minTsMs, LIMITS.maxTsMs)) return `ts ${p.tsMs} is not between 2000 and 2100`;
  if (!within(p.lat, -90, 90)) return `lat ${p.lat} is outside [-90, 90]`;
  if (!within(p.lon, -180, 180)) return `lon ${p.lon} is outside [-180, 180]`;
  if (p.lat === 0 && p.lon === 0) return 'lat 0, lon 0 is the no-fix marker of GNSS receivers, not a position';
  if (p.speedMps !== undefined && !within(p.speedMps, 0, LIMITS.maxSpeedMps)) return `speed ${p.speedMps} m/s is outside [0, ${LIMITS.maxSpeedMps}]`;
  if (p.speedLimitMps !== undefined && !(p.speedLimitMps > 0 && p.speedLimitMps <= LIMITS.maxSpeedMps)) return `speedLimit ${p.speedLimitMps} m/s is out of range`;
  if (p.headingDeg !== undefined && !within(p.headingDeg, 0, 360)) return `heading ${p.headingDeg} is outside [0, 360]`;
  if (p.accuracyM !== undefined && !within(p.accuracyM, 0, LIMITS.maxAccuracyM)) return `accuracy ${p.accuracyM} m is out of range`;
  const accel = p.accelMps2;
  if (accel && ![accel.x, accel.y, accel.z].every((v) => within(v, -LIMITS.maxAccelMps2, LIMITS.maxAccelMps2))) return 'accel is out of range';
  const gyro = p.gyroRadps;
  if (gyro && ![gyro.x, gyro.y, gyro.z].every((v) => within(v, -LIMITS.maxGyroRadps, LIMITS.maxGyroRadps))) return 'gyro is out of range';
  return null;
}

function within(value: number, min: number, max: number): boolean {
  return value >= min && value <= max;
}

function summariseIssues(issues: readonly { path: PropertyKey[]; message: string }[]): string {
  return issues
    .slice(0, 3)
    .map((issue) => `${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`)
    .join('; ')
    .slice(0, 300);
}

function reject(reason: RejectReason, detail: string): Rejection {
  return { ok: false, reason, detail };
}
