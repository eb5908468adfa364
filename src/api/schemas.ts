import { z } from '@hono/zod-openapi';

const position = z.object({ lat: z.number(), lon: z.number() });

export const DrivingEventSchema = z
  .object({
    type: z.enum(['harsh_braking', 'harsh_acceleration', 'harsh_cornering', 'speeding', 'crash', 'phone_handling']),
    startMs: z.number(),
    endMs: z.number(),
    lat: z.number(),
    lon: z.number(),
    peak: z.number().openapi({ description: 'peak value in peakUnit: |acceleration| for harsh events and crashes, speed over the limit for speeding' }),
    peakUnit: z.enum(['mps2', 'mps', 's']),
    severity: z.enum(['low', 'medium', 'high']),
    source: z.string().openapi({ description: 'accelerometer, speed, heading or device' }),
    details: z.record(z.string(), z.number()).optional(),
    traceId: z.string().optional().openapi({ description: 'trace of the device message whose point completed the detection: GET /v1/traces/{traceId}' }),
  })
  .openapi('DrivingEvent');

export const ScoreFactorSchema = z
  .object({
    factor: z.string().openapi({ example: 'harsh_braking' }),
    group: z.enum(['behaviour', 'exposure']),
    value: z.number(),
    unit: z.string().openapi({ example: 'per 100 km' }),
    points: z.number().openapi({ description: 'points this factor took off 100; all factors add up to 100 − score' }),
    explanation: z.string(),
  })
  .openapi('ScoreFactor');

export const TripScoreSchema = z
  .object({ score: z.number().min(0).max(100).openapi({ description: '0–100, 100 best (docs/scoring.md)' }), breakdown: z.array(ScoreFactorSchema) })
  .openapi('TripScore');

export const TripSchema = z
  .object({
    tripId: z.string().openapi({ example: 'car-007.1716497651000' }),
    deviceId: z.string(),
    vehicleId: z.string(),
    tenantId: z.string(),
    driverId: z.string().nullable().openapi({ description: 'from the device registry at the time of the trip' }),
    policyId: z.string().nullable(),
    status: z.enum(['active', 'completed']),
    startMs: z.number().int().openapi({ description: 'epoch ms of the first point' }),
    endMs: z.number().int().openapi({ description: 'epoch ms of the last point' }),
    start: position,
    end: position,
    distanceM: z.number().openapi({ description: 'metres driven while tracked (speed integrated over time)' }),
    gapDistanceM: z.number().openapi({ description: 'straight-line metres across data gaps longer than 10 s' }),
    durationS: z.number(),
    maxSpeedMps: z.number(),
    meanSpeedMps: z.number(),
    pointCount: z.number().int(),
    bbox: z.tuple([z.number(), z.number(), z.number(), z.number()]).openapi({ description: '[west, south, east, north]' }),
    endReason: z.enum(['ignition_off', 'gap', 'idle', 'live_timeout']).nullable(),
    events: z.array(DrivingEventSchema).openapi({ description: 'in time order, at most 500 (eventCounts counts all)' }),
    eventCounts: z.record(z.string(), z.number()),
    exposure: z
      .object({ movingS: z.number(), nightS: z.number(), rushHourS: z.number(), speedingS: z.number(), roadM: z.record(z.string(), z.number()) })
      .openapi({ description: 'seconds moving, and of those at night and in rush hours (local time), and over the posted limit; metres per OSM road type' }),
    startPlace: z.string().nullable().openapi({ description: 'nearest town (GeoNames, CC BY 4.0)', example: 'Brussels' }),
    endPlace: z.string().nullable(),
    timeZone: z.string().nullable().openapi({ example: 'Europe/Brussels' }),
    score: TripScoreSchema.nullable().openapi({ description: 'set when the trip completes' }),
    enrichmentFailures: z.array(z.string()).openapi({ description: 'enrichers that failed; the trip completed without them' }),
    traceIds: z.array(z.string()).optional().openapi({ description: 'traces of messages that built this trip (the first and the latest few): GET /v1/traces/{traceId}' }),
  })
  .openapi('Trip');

export const VehicleScoreSchema = z
  .object({
    vehicleId: z.string(),
    score: z.number().nullable().openapi({ description: 'distance-weighted mean of the trip scores in the window; null without trips' }),
    trips: z.number().int(),
    distanceM: z.number(),
    windowDays: z.number(),
    breakdown: z.array(ScoreFactorSchema),
  })
  .openapi('VehicleScore');

export const ApproachSchema = z
  .object({ closestMs: z.number(), distanceM: z.number(), lat: z.number(), lon: z.number() })
  .openapi('Approach', { description: 'with `near`: when and how close the track came to the point' });

export const TripPageSchema = z
  .object({ trips: z.array(TripSchema.extend({ approach: ApproachSchema.optional() })), nextCursor: z.string().nullable().openapi({ description: 'pass as `cursor` for the next page' }) })
  .openapi('TripPage');

export const ErrorSchema = z
  .object({ error: z.string().openapi({ example: 'bad_request' }), message: z.string().openapi({ example: 'from: expected ISO-8601 or epoch milliseconds' }) })
  .openapi('Error');

/** ISO-8601 or epoch milliseconds, as every time parameter of the API accepts. */
export const instant = z
  .string()
  .transform((value, ctx) => {
    const ms = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
    if (!Number.isFinite(ms)) {
      ctx.addIssue({ code: 'custom', message: 'expected ISO-8601 or epoch milliseconds' });
      return z.NEVER;
    }
    return ms;
  })
  .openapi({ type: 'string', example: '2026-11-24T08:00:00Z' });

export const TrackSchema = z
  .object({
    type: z.literal('Feature'),
    geometry: z.object({ type: z.literal('LineString'), coordinates: z.array(z.array(z.number())) }),
    properties: z.object({
      tripId: z.string(),
      timesMs: z.array(z.number()).openapi({ description: 'epoch ms of each coordinate' }),
      speedsMps: z.array(z.number().nullable()),
    }),
  })
  .openapi('Track', { description: 'GeoJSON Feature (RFC 7946); coordinates are [lon, lat]' });

const errorResponse = (description: string) => ({ content: { 'application/json': { schema: ErrorSchema } }, description });

export const errorResponses = {
  400: errorResponse('A parameter is invalid; the message names it'),
  401: errorResponse('Missing or invalid bearer token; the message says why'),
  403: errorResponse('The token lacks the scope this route needs'),
};

export const notFoundResponse = { 404: errorResponse('Not found for this tenant') };

/** W,S,E,N in degrees. */
export const bboxParam = z.string().transform((text, ctx) => {
  const values = text.split(',').map(Number);
  const [west, south, east, north] = values;
  if (values.length !== 4 || values.some((v) => !Number.isFinite(v)) || west! < -180 || east! > 180 || south! < -90 || north! > 90 || west! > east! || south! > north!) {
    ctx.addIssue({ code: 'custom', message: 'expected W,S,E,N in degrees with W <= E and S <= N' });
    return z.NEVER;
  }
  return values as [number, number, number, number];
});

export const EVENT_TYPES = ['harsh_braking', 'harsh_acceleration', 'harsh_cornering', 'speeding', 'crash', 'phone_handling'] as const;

/** A comma-separated list of event types. */
export const eventTypesParam = z
  .string()
  .transform((text) => text.split(','))
  .pipe(z.array(z.enum(EVENT_TYPES)));

/** LAT,LON,RADIUS_M: a circle of at most 50 km. */
export const pointRadiusParam = z.string().transform((text, ctx) => {
  const values = text.split(',').map(Number);
  const [lat, lon, radiusM] = values;
  if (values.length !== 3 || values.some((v) => !Number.isFinite(v)) || Math.abs(lat!) > 90 || Math.abs(lon!) > 180 || radiusM! <= 0 || radiusM! > 50_000) {
    ctx.addIssue({ code: 'custom', message: 'expected LAT,LON,RADIUS_M with a radius of at most 50,000 m' });
    return z.NEVER;
  }
  return { lat: lat!, lon: lon!, radiusM: radiusM! };
});
