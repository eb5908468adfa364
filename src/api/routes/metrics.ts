import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Registry } from 'prom-client';
import type { ApiEnv } from '../auth.js';

/** The process's metrics in Prometheus' text format; public, like /healthz. */
export function registerMetricsRoute(app: OpenAPIHono<ApiEnv>, registry: Registry): void {
  app.get('/metrics', async (c) => {
    c.header('content-type', registry.contentType);
    return c.body(await registry.metrics());
  });
}
