import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { SpanView } from '../../runtime/tracing.js';
import type { ApiEnv } from '../auth.js';
import { errorResponses, notFoundResponse } from '../schemas.js';

/** Where recent traces are kept (the embedded in-memory store; an OTLP backend keeps them for good). */
export interface TraceSource {
  get(traceId: string, tenantId: string): SpanView[];
}

const SpanSchema = z
  .object({
    name: z.string().openapi({ example: 'worker.process' }),
    traceId: z.string(),
    spanId: z.string(),
    parentSpanId: z.string().nullable(),
    startMs: z.number().openapi({ description: 'epoch milliseconds (fractional)' }),
    endMs: z.number(),
    durationMs: z.number(),
    attributes: z.record(z.string(), z.unknown()),
    status: z.object({ code: z.enum(['unset', 'ok', 'error']), message: z.string().optional() }),
    links: z.array(z.object({ traceId: z.string(), spanId: z.string() })),
  })
  .openapi('Span');

const TraceSchema = z.object({ traceId: z.string(), spans: z.array(SpanSchema) }).openapi('Trace');

const getTrace = createRoute({
  method: 'get',
  path: '/v1/traces/{traceId}',
  summary: "A recent trace's spans, in start order (only spans done for the caller's tenant); kept in memory, the latest 1,000 traces",
  request: {
    params: z.object({
      traceId: z.string().regex(/^[0-9a-f]{32}$/, '32 lowercase hex digits').openapi({ param: { name: 'traceId', in: 'path' }, example: '4bf92f3577b34da6a3ce929d0e0e4736' }),
    }),
  },
  responses: { 200: { content: { 'application/json': { schema: TraceSchema } }, description: 'The trace' }, ...errorResponses, ...notFoundResponse },
});

export function registerTraceRoutes(app: OpenAPIHono<ApiEnv>, traces: TraceSource): void {
  app.openapi(getTrace, (c) => {
    const { traceId } = c.req.valid('param');
    const spans = traces.get(traceId, c.get('principal').tenantId);
    if (spans.length === 0) return c.json({ error: 'not_found', message: 'no such trace (or no longer kept)' }, 404);
    return c.json({ traceId, spans }, 200);
  });
}
