import type { Logger } from 'pino';
import { DEFAULT_RETRY_POLICY } from '../domain/alerts/retryPolicy.js';
import type { AlertStore } from '../ports/alertStore.js';
import type { SearchIndex } from '../ports/searchIndex.js';
import type { AlertFeed, ChangeFeed, WriteStore } from '../ports/writeStore.js';
import type { PlatformConfig } from './config.js';
import type { Metrics } from './metrics.js';
import { SyncLoop } from './syncLoop.js';
import type { Tracing } from './tracing.js';
import { WebhookSender } from './webhookSender.js';

/** Health limits of sync and alerts, the same embedded and in the cluster: beyond them the process reports degraded. */
export const SYNC_LAG_LIMIT_MS = 60_000;
export const PENDING_ALERTS_LIMIT = 1000;

// Dispatched alerts stay a week (for streams resuming with Last-Event-ID), delivery records a month.
const ALERT_RETENTION_MS = 7 * 86_400_000;
const DELIVERY_RETENTION_MS = 30 * 86_400_000;

/** Sends webhook deliveries with the configured retries and timeout. */
export function createWebhookSender(alerts: AlertStore, config: PlatformConfig, metrics: Metrics, logger: Logger, tracing: Tracing): WebhookSender {
  return new WebhookSender({
    store: alerts,
    policy: { ...DEFAULT_RETRY_POLICY, maxAttempts: config.webhookMaxAttempts, baseDelayMs: config.webhookRetryBaseMs },
    timeoutMs: config.webhookTimeoutMs,
    concurrency: 64,
    metrics,
    logger,
    tracing,
  });
}

/** Keeps the search store in step with the write store's change feed, tracks included. */
export function createSyncLoop(store: WriteStore & ChangeFeed, search: SearchIndex, metrics: Metrics, logger: Logger, tracing: Tracing): SyncLoop {
  return new SyncLoop(store, search, metrics, logger, (trip) => store.points(trip.deviceId, trip.startMs, trip.endMs), undefined, tracing);
}

/** Drops dispatched alerts and delivery records past their retention; failures are logged, the next round tries again. */
export function pruneAlertHistory(store: AlertFeed, alerts: AlertStore, dispatchedUpTo: number, logger: Logger): void {
  const failed = (error: unknown): void => logger.warn({ err: error }, 'pruning alerts failed');
  store.pruneAlerts(dispatchedUpTo, Date.now() - ALERT_RETENTION_MS).catch(failed);
  alerts.pruneDeliveries(Date.now() - DELIVERY_RETENTION_MS).catch(failed);
}
