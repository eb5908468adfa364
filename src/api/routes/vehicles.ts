import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { rollingScore, type ScoredTrip } from '../../domain/scoring/index.js';
import type { SearchIndex } from '../../ports/searchIndex.js';
import type { ApiEnv } from '../auth.js';
import { errorResponses, notFoundResponse, VehicleScoreSchema } from '../schemas.js';

const DAY_MS = 86_400_000;

const getScore = createRoute({
  method: 'get',
  path: '/v1/vehicles/{vehicleId}/score',
  summary: "A vehicle's rolling score with its breakdown (distance-weighted over its recent completed trips)",
  request: { params: z.object({ vehicleId: z.string().min(1).max(64).openapi({ param: { name: 'vehicleId', in: 'path' }, example: 'demo-0001' }) }) },
  responses: { 200: { content: { 'application/json': { schema: VehicleScoreSchema } }, description: 'The rolling score' }, ...errorResponses, ...notFoundResponse },
});

export function registerVehicleRoutes(app: OpenAPIHono<ApiEnv>, deps: { search: SearchIndex; windowDays: number; now?: () => number }): void {
  app.openapi(getScore, async (c) => {
    const { vehicleId } = c.req.valid('param');
    const tenantId = c.get('principal').tenantId;
    const known = await deps.search.searchTrips({ tenantId, vehicleId, limit: 1 });
    if (known.trips.length === 0) return c.json({ error: 'not_found', message: 'no trips of such a vehicle' }, 404);
    const nowMs = (deps.now ?? Date.now)();
    const trips: ScoredTrip[] = [];
    let cursor: string | undefined;
    do {
      const page = await deps.search.searchTrips({
        tenantId, vehicleId, status: 'completed', fromMs: nowMs - deps.windowDays * DAY_MS, limit: 500,
        ...(cursor ? { cursor } : {}),
      });
      for (const trip of page.trips) if (trip.score) trips.push({ startMs: trip.startMs, distanceM: trip.distanceM, score: trip.score.score, breakdown: trip.score.breakdown });
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    return c.json({ vehicleId, ...rollingScore(trips, nowMs) }, 200);
  });
}
