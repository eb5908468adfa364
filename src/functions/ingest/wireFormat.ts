import { z } from 'zod';
import type { TelemetryPoint } from '../../domain/point.js';

/**
 * Limits of a plausible fix; anything outside is rejected as `out_of_range`, not clamped. So is
 * lat 0, lon 0 exactly: receivers report it when they have no fix, and no car drives there.
 */
export const LIMITS = {
  maxSpeedMps: 150,
  maxAccuracyM: 100_000,
  maxAccelMps2: 2_000,
  maxGyroRadps: 100,
  maxPointsPerMessage: 1_000,
  /** 2000-01-01 .. 2100-01-01: catches seconds sent as milliseconds and garbage dates. */
  minTsMs: 946_684_800_000,
  maxTsMs: 4_102_444_800_000,
} as const;

const vector = z.strictObject({ x: z.number(), y: z.number(), z: z.number() });

const timestamp = z.union([
  z.number().int(),
  // 35 characters hold nanoseconds and a ±hh:mm offset; longer is padding, not precision.
  z.iso.datetime({ offset: true }).max(35).transform((iso) => Date.parse(iso)),
]);

/** One point of the tripline JSON format (docs/asyncapi.yaml). Unknown keys are an error. */
export const wirePointSchema = z.strictObject({
  ts: timestamp,
  lat: z.number(),
  lon: z.number(),
  speed: z.number().optional(),
  heading: z.number().optional(),
  accuracy: z.number().optional(),
  accel: vector.optional(),
  gyro: vector.optional(),
  ignition: z.boolean().optional(),
  seq: z.number().int().nonnegative().optional(),
  speedLimit: z.number().optional(),
  phoneUse: z.boolean().optional(),
});
export type WirePoint = z.input<typeof wirePointSchema>;

const pointsSchema = z.array(wirePointSchema).min(1).max(LIMITS.maxPointsPerMessage);

/** The envelope `{"points": [...]}`; it may name its device in `deviceId` (ingest rejects the message unless that is the publisher). */
const envelopeSchema = z.strictObject({
  deviceId: z.string().optional(),
  // 55 characters for version 00; later versions may append fields, hence some room.
  traceparent: z.string().max(256).optional(),
  points: pointsSchema,
});

/**
 * A message is one point, an array of points, or the envelope `{"points": [...]}`, the only one
 * that carries a W3C `traceparent` (MQTT 3.1.1 has no user properties for it): the trace the
 * message continues. Its shape is checked by tracing, not here: a malformed one starts a new
 * trace (W3C Trace Context §4.3), it rejects nothing.
 */
export interface TriplineMessage {
  points: Array<z.output<typeof wirePointSchema>>;
  traceparent: string | undefined;
}

const shapes = {
  array: pointsSchema.transform((points): TriplineMessage => ({ points, traceparent: undefined })),
  envelope: envelopeSchema.transform(({ points, traceparent }): TriplineMessage => ({ points, traceparent })),
  point: wirePointSchema.transform((point): TriplineMessage => ({ points: [point], traceparent: undefined })),
};

/**
 * The schema for a message's shape, picked from the value up front: a union would try each shape
 * in turn and build the errors of the ones that do not fit, for every valid envelope too.
 */
export function triplineMessageSchema(json: unknown): z.ZodType<TriplineMessage> {
  if (Array.isArray(json)) return shapes.array;
  return json !== null && typeof json === 'object' && 'points' in json ? shapes.envelope : shapes.point;
}

/**
 * OwnTracks location message (https://owntracks.org/booklet/tech/json/): `tst` in s, `vel` in
 * km/h. Other fields are ignored, except `topic`: ingest checks it names the publisher.
 */
export const ownTracksSchema = z.looseObject({
  _type: z.literal('location'),
  tst: z.number().int(),
  lat: z.number(),
  lon: z.number(),
  vel: z.number().optional(),
  cog: z.number().optional(),
  acc: z.number().optional(),
});

export function fromWire(p: z.output<typeof wirePointSchema>): TelemetryPoint {
  const point: TelemetryPoint = { tsMs: p.ts, lat: p.lat, lon: p.lon };
  if (p.speed !== undefined) point.speedMps = p.speed;
  if (p.heading !== undefined) point.headingDeg = p.heading;
  if (p.accuracy !== undefined) point.accuracyM = p.accuracy;
  if (p.accel !== undefined) point.accelMps2 = p.accel;
  if (p.gyro !== undefined) point.gyroRadps = p.gyro;
  if (p.ignition !== undefined) point.ignition = p.ignition;
  if (p.seq !== undefined) point.seq = p.seq;
  if (p.speedLimit !== undefined) point.speedLimitMps = p.speedLimit;
  if (p.phoneUse !== undefined) point.phoneUse = p.phoneUse;
  return point;
}

/** The inverse of fromWire, used by the simulator and replay to publish as a device would. */
export function toWire(point: TelemetryPoint): WirePoint {
  const wire: WirePoint = { ts: point.tsMs, lat: point.lat, lon: point.lon };
  if (point.speedMps !== undefined) wire.speed = point.speedMps;
  if (point.headingDeg !== undefined) wire.heading = point.headingDeg;
  if (point.accuracyM !== undefined) wire.accuracy = point.accuracyM;
  if (point.accelMps2 !== undefined) wire.accel = point.accelMps2;
  if (point.gyroRadps !== undefined) wire.gyro = point.gyroRadps;
  if (point.ignition !== undefined) wire.ignition = point.ignition;
  if (point.seq !== undefined) wire.seq = point.seq;
  if (point.speedLimitMps !== undefined) wire.speedLimit = point.speedLimitMps;
  if (point.phoneUse !== undefined) wire.phoneUse = point.phoneUse;
  return wire;
}

/** MQTT topics of the ingest contract. */
export const TOPICS = {
  telemetry: (deviceId: string) => `tripline/${deviceId}/telemetry`,
  ownTracks: (user: string, deviceId: string) => `owntracks/${user}/${deviceId}`,
  /** The downlink: the only topic a device may subscribe to, and the only one tripline publishes on. */
  alerts: (deviceId: string) => `tripline/${deviceId}/alerts`,
} as const;
