import type { TelemetryPoint } from '../../domain/point.js';
import type { PointsMessage } from '../../ports/eventBus.js';
import { fromWire, LIMITS, ownTracksSchema, triplineMessageSchema } from './wireFormat.js';

export const REJECT_REASONS = [
  'too_large',
  'unknown_topic',
  'invalid_device_id',
  'forbidden_topic',
  'unknown_device',
  'invalid_utf8',
  'invalid_json',
  'schema',
  'out_of_range',
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

export type IngestOutcome =
  | { ok: true; message: PointsMessage }
  | { ok: false; reason: RejectReason; detail: string };

export interface IngestOptions {
  maxPayloadBytes: number;
  resolveDevice: (deviceId: string) => DeviceIdentity | null;
}

const DEVICE_ID = /^[A-Za-z0-9_-]{1,64}$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Turns one MQTT publish into a bus message, or says why not. Never throws. */
export function parseTelemetry(input: IngestInput, options: IngestOptions): IngestOutcome {
  if (input.payload.byteLength > options.maxPayloadBytes) {
    return reject('too_large', `payload of ${input.payload.byteLength} bytes exceeds ${options.maxPayloadBytes}`);
  }
  const route = routeOf(input.topic);
  if (!route) return reject('unknown_topic', `topic ${JSON.stringify(input.topic.slice(0, 200))} is not an ingest topic`);
  if (!DEVICE_ID.test(route.deviceId)) return reject('invalid_device_id', 'device ids are 1-64 of [A-Za-z0-9_-]');
  if (route.deviceId !== input.publisherId) return reject('forbidden_topic', 'a device may publish only to its own topic');
  const device = options.resolveDevice(route.deviceId);
  if (!device) return reject('unknown_device', `device ${route.deviceId} is not registered`);

  let json: unknown;
  try {
    json = JSON.parse(utf8.decode(input.payload));
  } catch (error) {
    const reason = error instanceof TypeError ? 'invalid_utf8' : 'invalid_json';
    return reject(reason, error instanceof Error ? error.message.slice(0, 200) : 'unparseable');
  }
  const points = route.format === 'owntracks' ? parseOwnTracks(json) : parseTripline(json);
  if ('reason' in points) return points;
  const outOfRange = points.map(rangeProblem).find((problem) => problem !== null);
  if (outOfRange) return reject('out_of_range', outOfRange);
  points.sort((a, b) => a.tsMs - b.tsMs);
  return {
    ok: true,
    message: { kind: 'points', ...device, receivedAtMs: input.receivedAtMs, points },
  };
}

function routeOf(topic: string): { deviceId: string; format: 'tripline' | 'owntracks' } | null {
  const parts = topic.split('/');
  if (parts.length === 3 && parts[0] === 'tripline' && parts[2] === 'telemetry') return { deviceId: parts[1]!, format: 'tripline' };
  if (parts.length === 3 && parts[0] === 'owntracks') return { deviceId: parts[2]!, format: 'owntracks' };
  return null;
}

function parseTripline(json: unknown): TelemetryPoint[] | { ok: false; reason: RejectReason; detail: string } {
  const parsed = triplineMessageSchema.safeParse(json);
  if (!parsed.success) return reject('schema', summariseIssues(parsed.error.issues));
  return parsed.data.map(fromWire);
}

function parseOwnTracks(json: unknown): TelemetryPoint[] | { ok: false; reason: RejectReason; detail: string } {
  const parsed = ownTracksSchema.safeParse(json);
  if (!parsed.success) return reject('schema', summariseIssues(parsed.error.issues));
  const m = parsed.data;
  const point: TelemetryPoint = { tsMs: m.tst * 1000, lat: m.lat, lon: m.lon };
  if (m.vel !== undefined) point.speedMps = m.vel / 3.6;
  if (m.cog !== undefined) point.headingDeg = m.cog;
  if (m.acc !== undefined) point.accuracyM = m.acc;
  return [point];
}

function rangeProblem(p: TelemetryPoint): string | null {
  if (p.tsMs < LIMITS.minTsMs || p.tsMs > LIMITS.maxTsMs) return `ts ${p.tsMs} is not between 2000 and 2100`;
  if (Math.abs(p.lat) > 90) return `lat ${p.lat} is outside [-90, 90]`;
  if (Math.abs(p.lon) > 180) return `lon ${p.lon} is outside [-180, 180]`;
  if (p.speedMps !== undefined && (p.speedMps < 0 || p.speedMps > LIMITS.maxSpeedMps)) return `speed ${p.speedMps} m/s is outside [0, ${LIMITS.maxSpeedMps}]`;
  if (p.speedLimitMps !== undefined && (p.speedLimitMps <= 0 || p.speedLimitMps > LIMITS.maxSpeedMps)) return `speedLimit ${p.speedLimitMps} m/s is out of range`;
  if (p.headingDeg !== undefined && (p.headingDeg < 0 || p.headingDeg > 360)) return `heading ${p.headingDeg} is outside [0, 360]`;
  if (p.accuracyM !== undefined && (p.accuracyM < 0 || p.accuracyM > LIMITS.maxAccuracyM)) return `accuracy ${p.accuracyM} m is out of range`;
  const accel = p.accelMps2;
  if (accel && [accel.x, accel.y, accel.z].some((v) => Math.abs(v) > LIMITS.maxAccelMps2)) return 'accel is out of range';
  const gyro = p.gyroRadps;
  if (gyro && [gyro.x, gyro.y, gyro.z].some((v) => Math.abs(v) > LIMITS.maxGyroRadps)) return 'gyro is out of range';
  return null;
}

function summariseIssues(issues: readonly { path: PropertyKey[]; message: string }[]): string {
  return issues
    .slice(0, 3)
    .map((issue) => `${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`)
    .join('; ')
    .slice(0, 300);
}

function reject(reason: RejectReason, detail: string): { ok: false; reason: RejectReason; detail: string } {
  return { ok: false, reason, detail };
}
