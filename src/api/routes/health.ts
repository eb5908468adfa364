import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { ApiEnv } from '../auth.js';

export const HealthSchema = z
  .object({
    status: z.enum(['ok', 'degraded']),
    components: z.record(z.string(), z.object({ status: z.enum(['ok', 'degraded']) }).catchall(z.unknown())),
  })
  .openapi('Health');

export type Health = z.infer<typeof HealthSchema>;

const health = createRoute({
  method: 'get',
  path: '/healthz',
  summary: 'Readiness and the state of each component (no credentials needed)',
  security: [],
  responses: {
    200: { content: { 'application/json': { schema: HealthSchema } }, description: 'Ready' },
    503: { content: { 'application/json': { schema: HealthSchema } }, description: 'Not ready' },
  },
});

export function registerHealthRoute(app: OpenAPIHono<ApiEnv>, check: () => Promise<Health>): void {
  app.openapi(health, async (c) => {
    const result = await check();
    return result.status === 'ok' ? c.json(result, 200) : c.json(result, 503);
  });
}

const liveness = createRoute({
  method: 'get',
  path: '/livez',
  summary: 'Liveness: the process answers (for restart probes; readiness is /healthz)',
  security: [],
  responses: { 200: { content: { 'application/json': { schema: z.object({ status: z.literal('alive') }) } }, description: 'Alive' } },
});

/** Always 200 while the process runs: an engine outage makes /healthz 503, which must not get every pod restarted. */
export function registerLivenessRoute(app: OpenAPIHono<ApiEnv>): void {
  app.openapi(liveness, (c) => c.json({ status: 'alive' as const }, 200));
}
