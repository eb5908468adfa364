import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { SearchIndex } from '../../ports/searchIndex.js';
import type { WriteStore } from '../../ports/writeStore.js';
import type { ApiEnv } from '../auth.js';
import { errorResponses } from '../schemas.js';

const MAX_POSITIONS = 500;

const PositionSchema = z
  .object({
    tripId: z.string(),
    deviceId: z.string(),
    vehicleId: z.string(),
    driverId: z.string().nullable(),
    lat: z.number(),
    lon: z.number(),
    speedMps: z.number().nullable(),
    atMs: z.number().openapi({ description: "epoch ms of the newest point processed (the device's clock)" }),
    tripStartMs: z.number(),
  })
  .openapi('Position');

const listPositions = createRoute({
  method: 'get',
  path: '/v1/positions',
  summary: 'Where each car on an active trip is now: its newest processed point (for a live map; poll it)',
  responses: {
    200: { content: { 'application/json': { schema: z.object({ positions: z.array(PositionSchema), asOfMs: z.number() }) } }, description: 'Up to 500 cars, newest trips first' },
    ...errorResponses,
  },
});

/**
 * `GET /v1/positions`: the tenant's active trips (search store) with each device's newest point
 * from its checkpointed trip state (write store, updated with every processed batch), so a
 * live map polls one cheap request instead of every active track. Stateless: any api process answers.
 */
export function registerPositionRoutes(app: OpenAPIHono<ApiEnv>, deps: { search: SearchIndex; store: WriteStore }): void {
  app.openapi(listPositions, async (c) => {
    const tenantId = c.get('principal').tenantId;
    const { trips } = await deps.search.searchTrips({ tenantId, status: 'active', sort: 'startMs', order: 'desc', limit: MAX_POSITIONS });
    const states = await deps.store.loadStates([...new Set(trips.map((trip) => trip.deviceId))]);
    const positions = trips.flatMap((trip) => {
      const state = states.get(trip.deviceId);
      const open = state?.trip;
      // The state is the device's; it counts only while it is this tenant's and still on this trip.
      if (!state || state.tenantId !== tenantId || !open || open.tripId !== trip.tripId) return [];
      return [{
        tripId: trip.tripId, deviceId: trip.deviceId, vehicleId: trip.vehicleId, driverId: trip.driverId,
        lat: open.last.lat, lon: open.last.lon, speedMps: open.last.speedMps, atMs: open.lastMs, tripStartMs: open.startMs,
      }];
    });
    c.header('cache-control', 'no-store');
    return c.json({ positions, asOfMs: Date.now() }, 200);
  });
}
