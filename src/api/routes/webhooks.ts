import { randomBytes } from 'node:crypto';
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { ALERT_TYPES } from '../../domain/alerts/alert.js';
import type { AlertStore, Webhook } from '../../ports/alertStore.js';
import type { ApiEnv } from '../auth.js';
import { errorResponses, notFoundResponse } from '../schemas.js';

const webhookIdParam = z.object({
  webhookId: z.string().regex(/^wh_[0-9a-f]{24}$/, 'expected wh_ and 24 hex digits').openapi({ param: { name: 'webhookId', in: 'path' }, example: 'wh_4f0c2a9d1e7b3c5a6d8e9f01' }),
});

const WebhookSchema = z
  .object({
    webhookId: z.string(),
    tenantId: z.string(),
    url: z.string(),
    types: z.array(z.enum(ALERT_TYPES)).nullable().openapi({ description: 'alert types delivered; null: all' }),
    createdAtMs: z.number(),
  })
  .openapi('Webhook');

const AttemptSchema = z.object({
  attempt: z.number().int(),
  atMs: z.number(),
  durationMs: z.number(),
  httpStatus: z.number().int().nullable().openapi({ description: "the receiver's status; null when none came (timeout, connection refused)" }),
  error: z.string().nullable(),
});

const DeliverySchema = z
  .object({
    deliveryId: z.string(),
    alertId: z.string(),
    status: z.enum(['pending', 'delivered', 'dead_letter']).openapi({ description: 'dead_letter: every try failed (or the webhook was deleted); nothing more is sent' }),
    attempts: z.number().int(),
    nextAttemptAtMs: z.number().nullable().openapi({ description: 'when pending: the next try' }),
    lastError: z.string().nullable(),
    updatedAtMs: z.number(),
    history: z.array(AttemptSchema),
  })
  .openapi('WebhookDelivery');

const httpUrl = z
  .string()
  .max(2048)
  .url()
  .refine((url) => /^https?:\/\//i.test(url), 'expected an http or https URL');

const json = <T extends z.ZodType>(schema: T, description: string) => ({ content: { 'application/json': { schema } }, description });

const addWebhook = createRoute({
  method: 'post',
  path: '/v1/webhooks',
  summary: "Subscribe a URL to the tenant's alerts; returns the signing secret once (scope admin)",
  request: {
    body: {
      content: { 'application/json': { schema: z.object({ url: httpUrl, types: z.array(z.enum(ALERT_TYPES)).min(1).optional() }).strict() } },
      required: true,
    },
  },
  responses: {
    201: json(WebhookSchema.extend({ secret: z.string().openapi({ description: 'HMAC-SHA256 key of the tripline-signature header; shown only this once' }) }), 'Created'),
    ...errorResponses,
  },
});

const listWebhooks = createRoute({
  method: 'get',
  path: '/v1/webhooks',
  summary: "The tenant's webhooks (scope admin)",
  responses: { 200: json(z.object({ webhooks: z.array(WebhookSchema) }), 'The webhooks'), ...errorResponses },
});

const getWebhook = createRoute({
  method: 'get',
  path: '/v1/webhooks/{webhookId}',
  summary: 'One webhook (scope admin)',
  request: { params: webhookIdParam },
  responses: { 200: json(WebhookSchema, 'The webhook'), ...errorResponses, ...notFoundResponse },
});

const deleteWebhook = createRoute({
  method: 'delete',
  path: '/v1/webhooks/{webhookId}',
  summary: 'Unsubscribe; deliveries still pending are dropped (scope admin)',
  request: { params: webhookIdParam },
  responses: { 200: json(z.object({ deleted: z.literal(true) }), 'Deleted'), ...errorResponses, ...notFoundResponse },
});

const listDeliveries = createRoute({
  method: 'get',
  path: '/v1/webhooks/{webhookId}/deliveries',
  summary: 'Recent deliveries to a webhook, newest first, with every try and the dead letters (scope admin)',
  request: { params: webhookIdParam, query: z.object({ limit: z.coerce.number().int().min(1).max(500).default(100) }) },
  responses: { 200: json(z.object({ deliveries: z.array(DeliverySchema) }), 'Deliveries'), ...errorResponses, ...notFoundResponse },
});

const notFound = { error: 'not_found', message: 'no such webhook' } as const;

/** Webhook subscriptions of the caller's tenant. */
export function registerWebhookRoutes(app: OpenAPIHono<ApiEnv>, deps: { alerts: AlertStore }): void {
  const { alerts } = deps;
  app.openapi(addWebhook, async (c) => {
    const body = c.req.valid('json');
    const webhook: Webhook = {
      webhookId: `wh_${randomBytes(12).toString('hex')}`,
      tenantId: c.get('principal').tenantId,
      url: body.url,
      types: body.types ? [...new Set(body.types)] : null,
      createdAtMs: Date.now(),
    };
    const secret = `whsec_${randomBytes(32).toString('base64url')}`;
    await alerts.addWebhook(webhook, secret);
    return c.json({ ...webhook, secret }, 201);
  });
  app.openapi(listWebhooks, async (c) => c.json({ webhooks: await alerts.webhooks(c.get('principal').tenantId) }, 200));
  app.openapi(getWebhook, async (c) => {
    const webhook = await alerts.webhook(c.get('principal').tenantId, c.req.valid('param').webhookId);
    return webhook ? c.json(webhook, 200) : c.json(notFound, 404);
  });
  app.openapi(deleteWebhook, async (c) => {
    const deleted = await alerts.deleteWebhook(c.get('principal').tenantId, c.req.valid('param').webhookId);
    return deleted ? c.json({ deleted: true as const }, 200) : c.json(notFound, 404);
  });
  app.openapi(listDeliveries, async (c) => {
    const tenantId = c.get('principal').tenantId;
    const { webhookId } = c.req.valid('param');
    if (!(await alerts.webhook(tenantId, webhookId))) return c.json(notFound, 404);
    const deliveries = await alerts.deliveries(tenantId, webhookId, c.req.valid('query').limit);
    return c.json({
      deliveries: deliveries.map((d) => ({
        deliveryId: d.deliveryId,
        alertId: d.alertId,
        status: d.status,
        attempts: d.attempts,
        nextAttemptAtMs: d.status === 'pending' ? d.nextAttemptAtMs : null,
        lastError: d.lastError,
        updatedAtMs: d.updatedAtMs,
        history: d.history,
      })),
    }, 200);
  });
}
