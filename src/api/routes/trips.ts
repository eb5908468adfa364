import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { TRIP_SORT_KEYS, type SearchIndex, type TripQuery } from '../../ports/searchIndex.js';
import type { WriteStore } from '../../ports/writeStore.js';
import type { ApiEnv } from '../auth.js';
import { decodeTripCursor } from '../../ports/tripCursor.js';
import { bboxParam, errorResponses, eventTypesParam, notFoundResponse, pointRadiusParam, instant, TrackSchema, TripPageSchema, TripSchema } from '../schemas.js';

export const MAX_PAGE_SIZE = 500;

const number = (description: string) => z.coerce.number().optional().openapi({ type: 'number', description });
const share = (description: string) => z.coerce.number().min(0).max(1).optional().openapi({ type: 'number', description });

const listQuery = z
  .object({
    vehicleId: z.string().min(1).max(64).optional().openapi({ example: 'demo-0001' }),
    driverId: z.string().min(1).max(64).optional(),
    policyId: z.string().min(1).max(64).optional(),
    from: instant.optional().openapi({ description: 'trips that end at or after this instant (ISO-8601 or epoch ms)' }),
    to: instant.optional().openapi({ description: 'trips that start at or before this instant' }),
    status: z.enum(['active', 'completed']).optional(),
    minDistanceM: number('at least this many metres'),
    maxDistanceM: number('at most this many metres'),
    minDurationS: number('at least this many seconds'),
    maxDurationS: number('at most this many seconds'),
    minScore: z.coerce.number().min(0).max(100).optional().openapi({ type: 'number', example: 80 }),
    maxScore: z.coerce.number().min(0).max(100).optional().openapi({ type: 'number', example: 60 }),
    minNightShare: share('share of moving time at night, 0–1'),
    maxNightShare: share('share of moving time at night, 0–1'),
    minSpeedingShare: share('share of moving time over the limit, 0–1'),
    maxSpeedingShare: share('share of moving time over the limit, 0–1'),
    event: eventTypesParam.optional().openapi({ type: 'string', description: 'trips with events of these types (comma-separated)', example: 'harsh_braking,speeding' }),
    minEvents: z.coerce.number().int().min(1).max(10_000).optional().openapi({ type: 'integer', description: 'at least this many such events (default 1 when event or severity is given)' }),
    severity: z.enum(['low', 'medium', 'high']).optional().openapi({ description: 'events of at least this severity' }),
    q: z.string().min(1).max(200).optional().openapi({ description: 'start or end place name; each word matches as a prefix', example: 'brus' }),
    bbox: bboxParam.optional().openapi({ type: 'string', description: 'trips that started or ended inside this box', example: '4.30,50.80,4.45,50.90' }),
    endsNear: pointRadiusParam
      .optional()
      .openapi({ type: 'string', description: 'trips that started or ended within RADIUS_M of LAT,LON', example: '50.8466,4.3528,500' }),
    near: pointRadiusParam
      .optional()
      .openapi({ type: 'string', description: 'trips whose track passed within RADIUS_M of LAT,LON between `from` and `to` (both required), nearest first, with their closest approach', example: '50.8466,4.3528,200' }),
    sort: z.enum(TRIP_SORT_KEYS).default('startMs'),
    order: z.enum(['asc', 'desc']).default('desc'),
    limit: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(50).openapi({ type: 'integer', example: 50 }),
    cursor: z
      .string()
      .max(512)
      .refine((cursor) => decodeTripCursor(cursor) !== null, 'not a cursor this API returned')
      .optional(),
  })
  .superRefine((query, ctx) => {
    if (query.near && (query.from === undefined || query.to === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['near'], message: 'near needs a time window: give from and to' });
    }
    if (query.near && query.from !== undefined && query.to !== undefined && query.to - query.from > 31 * 86_400_000) {
      ctx.addIssue({ code: 'custom', path: ['near'], message: 'near searches a window of at most 31 days' });
    }
    const cursor = query.cursor ? decodeTripCursor(query.cursor) : null;
    if (cursor && cursor.sort !== `${query.sort}:${query.order}`) {
      ctx.addIssue({ code: 'custom', path: ['cursor'], message: `this cursor pages a ${cursor.sort} sort, not ${query.sort}:${query.order}` });
    }
  });

type ListQuery = z.output<typeof listQuery>;

/** API parameters to the search port's query; the tenant comes from the verified principal only. */
function toTripQuery(query: ListQuery, tenantId: string): TripQuery {
  const range = (min?: number, max?: number) => (min === undefined && max === undefined ? undefined : { ...(min !== undefined ? { min } : {}), ...(max !== undefined ? { max } : {}) });
  const optional = <K extends keyof TripQuery>(key: K, value: TripQuery[K] | undefined): Partial<TripQuery> => (value === undefined ? {} : { [key]: value });
  const events = query.event || query.minEvents || query.severity
    ? { ...(query.event ? { types: query.event } : {}), ...(query.minEvents ? { minEvents: query.minEvents } : {}), ...(query.severity ? { severity: query.severity } : {}) }
    : undefined;
  return {
    tenantId,
    sort: query.sort,
    order: query.order,
    limit: query.limit,
    ...optional('vehicleId', query.vehicleId),
    ...optional('driverId', query.driverId),
    ...optional('policyId', query.policyId),
    ...optional('fromMs', query.from),
    ...optional('toMs', query.to),
    ...optional('status', query.status),
    ...optional('distanceM', range(query.minDistanceM, query.maxDistanceM)),
    ...optional('durationS', range(query.minDurationS, query.maxDurationS)),
    ...optional('score', range(query.minScore, query.maxScore)),
    ...optional('nightShare', range(query.minNightShare, query.maxNightShare)),
    ...optional('speedingShare', range(query.minSpeedingShare, query.maxSpeedingShare)),
    ...optional('events', events),
    ...optional('placeText', query.q),
    ...optional('bbox', query.bbox),
    ...optional('endsNear', query.endsNear),
    ...optional('cursor', query.cursor),
  };
}

const tripParams = z.object({ tripId: z.string().min(1).max(200).openapi({ param: { name: 'tripId', in: 'path' }, example: 'car-007.1716497651000' }) });

const listTrips = createRoute({
  method: 'get',
  path: '/v1/trips',
  summary: 'Search trips: filters combine with AND; sorted by `sort` (default newest first), paged by `cursor`',
  request: { query: listQuery },
  responses: { 200: { content: { 'application/json': { schema: TripPageSchema } }, description: 'One page of trips' }, ...errorResponses },
});

const getTrip = createRoute({
  method: 'get',
  path: '/v1/trips/{tripId}',
  summary: 'One trip summary',
  request: { params: tripParams },
  responses: { 200: { content: { 'application/json': { schema: TripSchema } }, description: 'The trip' }, ...errorResponses, ...notFoundResponse },
});

const getTrack = createRoute({
  method: 'get',
  path: '/v1/trips/{tripId}/track',
  summary: 'The trip track as a GeoJSON Feature',
  request: { params: tripParams },
  responses: { 200: { content: { 'application/geo+json': { schema: TrackSchema } }, description: 'The track' }, ...errorResponses, ...notFoundResponse },
});

export function registerTripRoutes(app: OpenAPIHono<ApiEnv>, deps: { search: SearchIndex; store: WriteStore }): void {
  app.openapi(listTrips, async (c) => {
    const query = c.req.valid('query');
    const tenantId = c.get('principal').tenantId;
    if (query.near && query.from !== undefined && query.to !== undefined) {
      const hits = await deps.search.nearTracks({ tenantId, ...query.near, fromMs: query.from, toMs: query.to, limit: query.limit });
      const trips = await Promise.all(hits.map(async ({ tripId, vehicleId: _, ...approach }) => ({ ...(await deps.search.trip(tenantId, tripId))!, approach })));
      return c.json({ trips, nextCursor: null }, 200);
    }
    return c.json(await deps.search.searchTrips(toTripQuery(query, tenantId)), 200);
  });

  app.openapi(getTrip, async (c) => {
    const trip = await deps.search.trip(c.get('principal').tenantId, c.req.valid('param').tripId);
    return trip ? c.json(trip, 200) : c.json({ error: 'not_found', message: 'no such trip' }, 404);
  });

  app.openapi(getTrack, async (c) => {
    const trip = await deps.store.trip(c.get('principal').tenantId, c.req.valid('param').tripId);
    if (!trip) return c.json({ error: 'not_found', message: 'no such trip' }, 404);
    const points = await deps.store.points(trip.deviceId, trip.startMs, trip.endMs);
    const track = {
      type: 'Feature' as const,
      geometry: { type: 'LineString' as const, coordinates: points.map((p) => [p.lon, p.lat]) },
      properties: { tripId: trip.tripId, timesMs: points.map((p) => p.tsMs), speedsMps: points.map((p) => p.speedMps ?? null) },
    };
    c.header('content-type', 'application/geo+json');
    return c.json(track, 200);
  });
}
