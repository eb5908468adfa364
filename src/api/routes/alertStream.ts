import { z, type OpenAPIHono } from '@hono/zod-openapi';
import { streamSSE, type SSEStreamingApi } from 'hono/streaming';
import type { Alert } from '../../domain/alerts/alert.js';
import type { AlertFeed } from '../../ports/writeStore.js';
import type { AlertHub } from '../../runtime/alertHub.js';
import type { ApiEnv } from '../auth.js';
import { errorResponses } from '../schemas.js';

export interface AlertStreamDeps {
  hub: AlertHub;
  feed: AlertFeed;
  keepAliveMs?: number;
  /** Events waiting to be written to one slow client before its stream is closed. */
  maxQueuedEvents?: number;
  /** Most outbox rows scanned to replay after a Last-Event-ID. */
  maxReplayRows?: number;
}

/**
 * `GET /v1/alerts/stream`: the tenant's alerts as Server-Sent Events (event `alert`, id = alert id,
 * data = the alert JSON), with a keep-alive comment every 15 s. A client that reconnects with
 * `Last-Event-ID` first gets the tenant's alerts written after that one.
 */
export function registerAlertStreamRoute(app: OpenAPIHono<ApiEnv>, deps: AlertStreamDeps): void {
  const keepAliveMs = deps.keepAliveMs ?? 15_000;
  const maxQueued = deps.maxQueuedEvents ?? 1000;
  app.openAPIRegistry.registerPath({
    method: 'get',
    path: '/v1/alerts/stream',
    summary: "The tenant's alerts live, as Server-Sent Events; reconnect with Last-Event-ID to get the ones missed (scope trips:read)",
    request: { headers: z.object({ 'last-event-id': z.string().optional() }) },
    responses: {
      200: { description: 'An event stream: `event: alert`, `id: <alertId>`, `data: <Alert JSON>`', content: { 'text/event-stream': { schema: z.string() } } },
      ...errorResponses,
    },
  });
  app.get('/v1/alerts/stream', (c) => {
    const tenantId = c.get('principal').tenantId;
    const lastEventId = c.req.header('last-event-id');
    c.header('cache-control', 'no-store');
    c.header('x-accel-buffering', 'no');
    return streamSSE(c, async (stream) => {
      // Ids sent while replaying, so an alert both replayed and held goes out once; dropped once live.
      let sent: Set<string> | null = new Set<string>();
      let replaying = true;
      const held: Alert[] = [];
      let chain = Promise.resolve();
      let queued = 0;
      const send = (alert: Alert): void => {
        if (sent) {
          if (sent.has(alert.alertId)) return;
          sent.add(alert.alertId);
        }
        // A client that stops reading is cut off rather than buffered for: it resumes with Last-Event-ID.
        if (queued >= maxQueued) return stream.abort();
        queued++;
        chain = chain.then(() => write(stream, alert)).catch(() => undefined).finally(() => void queued--);
      };
      // Subscribed before the replay, so nothing falls between the two; what both see goes out once.
      const unsubscribe = deps.hub.subscribe(tenantId, (alert) => (replaying ? held.push(alert) : send(alert)));
      let closed = false;
      const done = new Promise<void>((resolve) => stream.onAbort(() => {
        closed = true;
        resolve();
      }));
      try {
        await stream.write(': connected\n\n');
        if (lastEventId) for (const alert of await replay(deps, tenantId, lastEventId)) send(alert);
        replaying = false;
        for (const alert of held.splice(0)) send(alert);
        sent = null;
        while (!closed) {
          await Promise.race([done, new Promise((resolve) => setTimeout(resolve, keepAliveMs).unref())]);
          if (!closed) chain = chain.then(() => stream.write(': keep-alive\n\n')).then(() => undefined).catch(() => undefined);
        }
      } finally {
        unsubscribe();
      }
    });
  });
}

function write(stream: SSEStreamingApi, alert: Alert): Promise<void> {
  return stream.writeSSE({ event: 'alert', id: alert.alertId, data: JSON.stringify(alert) });
}

async function replay(deps: AlertStreamDeps, tenantId: string, lastEventId: string): Promise<Alert[]> {
  let seq = await deps.feed.alertSeq(lastEventId);
  if (seq === null) return [];
  const alerts: Alert[] = [];
  let scanned = 0;
  const max = deps.maxReplayRows ?? 10_000;
  while (scanned < max) {
    const rows = await deps.feed.alertsAfter(seq, 500);
    if (rows.length === 0) break;
    scanned += rows.length;
    seq = rows[rows.length - 1]!.seq;
    for (const { alert } of rows) if (alert.tenantId === tenantId) alerts.push(alert);
  }
  return alerts;
}
