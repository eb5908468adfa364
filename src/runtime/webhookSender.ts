import type { Logger } from 'pino';
import { nextAttemptDelayMs, type RetryPolicy } from '../domain/alerts/retryPolicy.js';
import { SIGNATURE_HEADER, signatureHeader } from '../domain/alerts/webhookSignature.js';
import type { AlertStore, Delivery, DeliveryAttempt } from '../ports/alertStore.js';
import type { Metrics } from './metrics.js';
import { BackgroundLoop } from './backgroundLoop.js';
import { endDeliverySpan, startDeliverySpan } from './alertSpans.js';
import { headersOf, type Tracing } from './tracing.js';
import type { Alert } from '../domain/alerts/alert.js';

export interface WebhookSenderOptions {
  store: AlertStore;
  policy: RetryPolicy;
  /** A try fails if no 2xx arrives within this. */
  timeoutMs: number;
  /** Deliveries in flight at once, over all webhooks. */
  concurrency: number;
  metrics: Metrics;
  logger: Logger;
  /** Each try gets a span in the alert's trace, and the POST carries it as `traceparent`. */
  tracing?: Tracing;
}

/**
 * Sends queued webhook deliveries: a signed POST of the alert; a 2xx within the timeout delivers
 * it, anything else is retried with exponential backoff and jitter, and the last failure leaves a
 * dead letter. Every try is recorded. The queue is durable, so a restart resumes where it was.
 */
export class WebhookSender extends BackgroundLoop {
  private readonly inFlight = new Map<string, Promise<void>>();
  /** Tries that ended while dueDeliveries ran: its answer may predate their record, so they are not started again from it. */
  private readonly endedDuringQuery = new Set<string>();

  constructor(private readonly options: WebhookSenderOptions) {
    super();
  }

  start(): void {
    this.startLoop();
  }

  override async stop(): Promise<void> {
    await super.stop();
    await Promise.all(this.inFlight.values());
  }

  protected async run(): Promise<void> {
    while (this.running) {
      let waitMs = 1000;
      try {
        const free = this.options.concurrency - this.inFlight.size;
        if (free > 0) {
          this.endedDuringQuery.clear();
          const due = await this.options.store.dueDeliveries(Date.now(), free + this.inFlight.size);
          for (const delivery of due) {
            if (this.inFlight.size >= this.options.concurrency) break;
            if (this.inFlight.has(delivery.deliveryId) || this.endedDuringQuery.has(delivery.deliveryId)) continue;
            const attempt = this.attempt(delivery)
              // A store that fails (a database restart) leaves the delivery pending: it is tried again, the process lives on.
              .catch((error: unknown) => this.options.logger.error({ err: error, deliveryId: delivery.deliveryId }, 'webhook delivery attempt failed'))
              .finally(() => {
                this.inFlight.delete(delivery.deliveryId);
                this.endedDuringQuery.add(delivery.deliveryId);
                this.waker.wake();
              });
            this.inFlight.set(delivery.deliveryId, attempt);
          }
        }
        const next = await this.options.store.nextDueAtMs();
        if (next !== null) waitMs = Math.min(waitMs, Math.max(0, next - Date.now()));
        // Due deliveries all in flight: wait for one to finish (it wakes this loop).
        if (waitMs === 0 && this.inFlight.size > 0) waitMs = 1000;
      } catch (error) {
        this.options.logger.error({ err: error }, 'webhook sender pass failed; will retry');
        waitMs = 500;
      }
      if (this.running && waitMs > 0) await this.waker.sleep(waitMs);
    }
  }

  private async attempt(delivery: Delivery): Promise<void> {
    const { store, metrics, policy } = this.options;
    const attempt = delivery.attempts + 1;
    const target = await store.webhookTarget(delivery.webhookId);
    const startedAt = Date.now();
    let httpStatus: number | null = null;
    let error: string | null = null;
    const span = startDeliverySpan(this.options.tracing, alertOf(delivery), 'webhook');
    if (!target) error = 'webhook deleted';
    else {
      try {
        const response = await fetch(target.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            [SIGNATURE_HEADER]: signatureHeader(target.secret, delivery.body, Math.floor(startedAt / 1000)),
            'tripline-alert-id': delivery.alertId,
            'tripline-delivery-attempt': String(attempt),
            'user-agent': 'tripline-webhooks/1',
            ...(span ? headersOf(span) : {}),
          },
          body: delivery.body,
          redirect: 'manual',
          signal: AbortSignal.timeout(this.options.timeoutMs),
        });
        httpStatus = response.status;
        await response.body?.cancel();
        if (response.status < 200 || response.status > 299) error = `HTTP ${response.status}`;
      } catch (failure) {
        error = failure instanceof Error ? (failure.name === 'TimeoutError' ? `no response within ${this.options.timeoutMs} ms` : failure.message) : String(failure);
      }
    }
    endDeliverySpan(span, error, { 'tripline.attempt': attempt, ...(httpStatus !== null ? { 'http.response.status_code': httpStatus } : {}) });
    const now = Date.now();
    const record: DeliveryAttempt = { attempt, atMs: startedAt, durationMs: now - startedAt, httpStatus, error };
    let next: Delivery;
    if (error === null) {
      next = { ...delivery, status: 'delivered', attempts: attempt, lastError: null, updatedAtMs: now };
      metrics.alertDeliveries.inc({ channel: 'webhook', outcome: 'sent' });
      metrics.alertLatencySeconds.observe({ channel: 'webhook' }, (now - delivery.receivedAtMs) / 1000);
    } else {
      const delayMs = target ? nextAttemptDelayMs(attempt, policy, Math.random()) : null;
      if (delayMs === null) {
        next = { ...delivery, status: 'dead_letter', attempts: attempt, lastError: error, updatedAtMs: now };
        metrics.alertDeliveries.inc({ channel: 'webhook', outcome: 'dead_letter' });
        this.options.logger.warn({ alertId: delivery.alertId, webhookId: delivery.webhookId, attempts: attempt, error }, 'webhook delivery dead-lettered');
      } else {
        next = { ...delivery, status: 'pending', attempts: attempt, nextAttemptAtMs: now + delayMs, lastError: error, updatedAtMs: now };
        metrics.alertDeliveries.inc({ channel: 'webhook', outcome: 'failed' });
      }
    }
    await store.recordAttempt(next, record);
  }
}

/** The alert behind a delivery, as far as its span needs it: the body is the alert's JSON. */
function alertOf(delivery: Delivery): Pick<Alert, 'alertId' | 'type' | 'tenantId' | 'deviceId' | 'traceparent'> {
  let traceparent: string | undefined;
  let type: Alert['type'] = 'crash';
  let deviceId = '';
  try {
    const alert = JSON.parse(delivery.body) as Partial<Alert>;
    traceparent = typeof alert.traceparent === 'string' ? alert.traceparent : undefined;
    if (typeof alert.type === 'string') type = alert.type;
    if (typeof alert.deviceId === 'string') deviceId = alert.deviceId;
  } catch {
    // A body we wrote ourselves; unreadable only if the store was edited by hand: no span then.
  }
  return { alertId: delivery.alertId, tenantId: delivery.tenantId, type, deviceId, ...(traceparent ? { traceparent } : {}) };
}
