import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { SearchIndex, StatsQuery } from '../../ports/searchIndex.js';
import { decodeTripCursor } from '../../ports/tripCursor.js';
import type { ApiEnv } from '../auth.js';
import { bboxParam, DrivingEventSchema, errorResponses, eventTypesParam, instant } from '../schemas.js';
import { MAX_PAGE_SIZE } from './trips.js';

const window = {
  from: instant.optional().openapi({ description: 'from this instant (ISO-8601 or epoch ms)' }),
  to: instant.optional().openapi({ description: 'up to this instant' }),
  vehicleId: z.string().min(1).max(64).optional(),
  driverId: z.string().min(1).max(64).optional(),
};

const eventsQuery = z.object({
  ...window,
  event: eventTypesParam.optional().openapi({ type: 'string', description: 'event types, comma-separated', example: 'harsh_braking' }),
  severity: z.enum(['low', 'medium', 'high']).optional().openapi({ description: 'at least this severity' }),
  bbox: bboxParam.optional().openapi({ type: 'string', description: 'events inside this box (W,S,E,N): hotspots', example: '4.30,50.80,4.45,50.90' }),
  limit: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(100).openapi({ type: 'integer' }),
  cursor: z.string().max(512).refine((c) => decodeTripCursor(c)?.sort === 'event', 'not a cursor this API returned').optional(),
});

const EventPageSchema = z
  .object({
    events: z.array(z.object({ tripId: z.string(), vehicleId: z.string(), event: DrivingEventSchema })),
    nextCursor: z.string().nullable(),
  })
  .openapi('EventPage');

const GroupStatsSchema = z
  .object({
    id: z.string().openapi({ description: 'the vehicle or driver id' }),
    trips: z.number().int(),
    distanceM: z.number(),
    meanScore: z.number().nullable().openapi({ description: 'distance-weighted mean score of its completed trips' }),
    events: z.number().int(),
    eventsPer100Km: z.number().nullable(),
  })
  .openapi('GroupStats');

const FleetStatsSchema = z
  .object({
    trips: z.number().int(),
    distanceM: z.number(),
    scoreHistogram: z.array(z.object({ from: z.number(), to: z.number(), trips: z.number().int() })),
    eventsByType: z.record(z.string(), z.number()),
    kmPerDay: z.array(z.object({ day: z.string().openapi({ example: '2026-11-24' }), km: z.number() })),
  })
  .openapi('FleetStats');

const listEvents = createRoute({
  method: 'get',
  path: '/v1/events',
  summary: 'Driving events, newest first: by type, severity, vehicle, time and box',
  request: { query: eventsQuery },
  responses: { 200: { content: { 'application/json': { schema: EventPageSchema } }, description: 'One page of events' }, ...errorResponses },
});

const groupRoute = (by: 'vehicle' | 'driver') =>
  createRoute({
    method: 'get',
    path: `/v1/${by}s`,
    summary: `Per ${by}: completed trips, km, mean score and events per 100 km in the window`,
    request: { query: z.object(window) },
    responses: { 200: { content: { 'application/json': { schema: z.object({ [`${by}s`]: z.array(GroupStatsSchema) }) } }, description: `Every ${by} with trips in the window` }, ...errorResponses },
  });

const stats = createRoute({
  method: 'get',
  path: '/v1/stats',
  summary: 'Fleet figures: score histogram, events by type, km per day (UTC) of completed trips',
  request: { query: z.object(window) },
  responses: { 200: { content: { 'application/json': { schema: FleetStatsSchema } }, description: 'The figures' }, ...errorResponses },
});

function statsQuery(query: { from?: number | undefined; to?: number | undefined; vehicleId?: string | undefined; driverId?: string | undefined }, tenantId: string): StatsQuery {
  return {
    tenantId,
    ...(query.from !== undefined ? { fromMs: query.from } : {}),
    ...(query.to !== undefined ? { toMs: query.to } : {}),
    ...(query.vehicleId !== undefined ? { vehicleId: query.vehicleId } : {}),
    ...(query.driverId !== undefined ? { driverId: query.driverId } : {}),
  };
}

export function registerAnalyticsRoutes(app: OpenAPIHono<ApiEnv>, deps: { search: SearchIndex }): void {
  app.openapi(listEvents, async (c) => {
    const query = c.req.valid('query');
    const page = await deps.search.searchEvents({
      ...statsQuery(query, c.get('principal').tenantId),
      limit: query.limit,
      ...(query.event ? { types: query.event } : {}),
      ...(query.severity ? { severity: query.severity } : {}),
      ...(query.bbox ? { bbox: query.bbox } : {}),
      ...(query.cursor ? { cursor: query.cursor } : {}),
    });
    return c.json(page, 200);
  });
  app.openapi(groupRoute('vehicle'), async (c) => c.json({ vehicles: await deps.search.groupStats(statsQuery(c.req.valid('query'), c.get('principal').tenantId), 'vehicle') }, 200));
  app.openapi(groupRoute('driver'), async (c) => c.json({ drivers: await deps.search.groupStats(statsQuery(c.req.valid('query'), c.get('principal').tenantId), 'driver') }, 200));
  app.openapi(stats, async (c) => c.json(await deps.search.fleetStats(statsQuery(c.req.valid('query'), c.get('principal').tenantId)), 200));
}
