import type { Logger } from 'pino';
import type { Alert } from '../domain/alerts/alert.js';
import type { AlertStore, Delivery, Webhook } from '../ports/alertStore.js';
import type { AlertFeed } from '../ports/writeStore.js';
import type { AlertHub } from './alertHub.js';
import type { Metrics } from './metrics.js';
import { BackgroundLoop } from './backgroundLoop.js';
import { endDeliverySpan, startDeliverySpan } from './alertSpans.js';
import { streamAlert } from './streamAlert.js';
import type { Tracing } from './tracing.js';

export interface AlertDispatcherOptions {
  feed: AlertFeed;
  store: AlertStore;
  hub: AlertHub;
  /** Publishes on the device's MQTT downlink topic. */
  downlink: (deviceId: string, payload: string) => Promise<void>;
  metrics: Metrics;
  logger: Logger;
  /** Webhook deliveries were queued: the sender should look now. */
  onEnqueued: () => void;
  batchSize?: number;
  /** Sends on the downlink and to streams get spans in the alert's trace. */
  tracing?: Tracing;
}

/**
 * Tails the alert outbox from its own persisted cursor, woken by the worker's commit: each alert
 * goes out on the device's downlink topic and to the tenant's live streams at once, and a
 * delivery is queued for each of the tenant's webhooks; the queue and the new cursor commit
 * together. After a crash, alerts past the cursor go out again (at least once; the alert id
 * lets receivers deduplicate), and queued webhook deliveries survive.
 */
export class AlertDispatcher extends BackgroundLoop {
  private cursor = 0;

  constructor(private readonly options: AlertDispatcherOptions) {
    super();
  }

  async start(): Promise<void> {
    this.cursor = await this.options.store.dispatchCursor();
    this.startLoop();
  }

  /** The outbox position up to which every alert has been dispatched. */
  dispatchedUpTo(): number {
    return this.cursor;
  }

  /** Alerts committed but not yet dispatched. */
  async pending(): Promise<number> {
    return Math.max(0, (await this.options.feed.alertsHead()) - this.cursor);
  }

  protected async run(): Promise<void> {
    while (this.running) {
      let moved = 0;
      try {
        moved = await this.pass();
      } catch (error) {
        this.options.logger.error({ err: error }, 'alert dispatch failed; will retry');
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
      // The poll is only a safety net: the worker wakes this loop on every commit with alerts.
      if (moved === 0 && this.running) await this.waker.sleep(1000);
    }
  }

  private async pass(): Promise<number> {
    const { feed, store, hub, metrics } = this.options;
    const rows = await feed.alertsAfter(this.cursor, this.options.batchSize ?? 200);
    if (rows.length === 0) return 0;
    const webhooksOf = new Map<string, Webhook[]>();
    const deliveries: Delivery[] = [];
    const now = Date.now();
    for (const { alert } of rows) {
      const body = JSON.stringify(alert);
      await this.toDevice(alert, body);
      streamAlert(hub, alert, metrics, this.options.tracing);
      let webhooks = webhooksOf.get(alert.tenantId);
      if (!webhooks) webhooksOf.set(alert.tenantId, (webhooks = await store.webhooks(alert.tenantId)));
      for (const webhook of webhooks) {
        if (webhook.types && !webhook.types.includes(alert.type)) continue;
        deliveries.push({
          deliveryId: `${webhook.webhookId}:${alert.alertId}`,
          alertId: alert.alertId,
          webhookId: webhook.webhookId,
          tenantId: alert.tenantId,
          status: 'pending',
          attempts: 0,
          nextAttemptAtMs: now,
          body,
          receivedAtMs: alert.receivedAtMs,
          lastError: null,
          updatedAtMs: now,
        });
      }
    }
    await store.enqueue(deliveries, rows[rows.length - 1]!.seq);
    this.cursor = rows[rows.length - 1]!.seq;
    if (deliveries.length > 0) this.options.onEnqueued();
    return rows.length;
  }

  private async toDevice(alert: Alert, body: string): Promise<void> {
    const span = startDeliverySpan(this.options.tracing, alert, 'mqtt');
    try {
      await this.options.downlink(alert.deviceId, body);
      endDeliverySpan(span);
      this.options.metrics.alertDeliveries.inc({ channel: 'mqtt', outcome: 'sent' });
      this.options.metrics.alertLatencySeconds.observe({ channel: 'mqtt' }, (Date.now() - alert.receivedAtMs) / 1000);
    } catch (error) {
      // The downlink is best effort (the device may be offline); webhooks are the durable channel.
      endDeliverySpan(span, error instanceof Error ? error.message : String(error));
      this.options.metrics.alertDeliveries.inc({ channel: 'mqtt', outcome: 'failed' });
      this.options.logger.warn({ err: error, alertId: alert.alertId }, 'alert downlink publish failed');
    }
  }
}
