import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { SearchIndex } from '../../ports/searchIndex.js';
import type { WriteStore } from '../../ports/writeStore.js';
import type { ApiEnv } from '../auth.js';
import { decodeTripCursor } from '../../ports/tripCursor.js';
import { errorResponses, notFoundResponse, instant, TrackSchema, TripPageSchema, TripSchema } from '../schemas.js';

export const MAX_PAGE_SIZE = 500;

const listQuery = z.object({
  vehicleId: z.string().min(1).max(64).optional().openapi({ example: 'car-007' }),
  from: instant.optional().openapi({ description: 'trips that end at or after this instant (ISO-8601 or epoch ms)' }),
  to: instant.optional().openapi({ description: 'trips that start at or before this instant' }),
  status: z.enum(['active', 'completed']).optional(),
  limit: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(50).openapi({ type: 'integer', example: 50 }),
  cursor: z
    .string()
    .max(512)
    .refine((cursor) => decodeTripCursor(cursor) !== null, 'not a cursor this API returned')
    .optional(),
});

const tripParams = z.object({ tripId: z.string().min(1).max(200).openapi({ param: { name: 'tripId', in: 'path' }, example: 'car-007.1716497651000' }) });

const listTrips = createRoute({
  method: 'get',
  path: '/v1/trips',
  summary: 'Search trips, newest first',
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
    const { tenantId } = c.get('principal');
    const page = await deps.search.searchTrips({ ...query, fromMs: query.from, toMs: query.to, tenantId });
    return c.json(page, 200);
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
