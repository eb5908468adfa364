import type { Alert } from '../domain/alerts/alert.js';
import type { AlertHub } from './alertHub.js';
import { endDeliverySpan, startDeliverySpan } from './alertSpans.js';
import type { Metrics } from './metrics.js';
import type { Tracing } from './tracing.js';

/**
 * Hands an alert to this process's live streams (SSE): an `alert.deliver.sse` span when someone
 * listens, and the deliveries and latency counted. The embedded dispatcher and a cluster API
 * process's outbox tail both stream alerts this way.
 */
export function streamAlert(hub: AlertHub, alert: Alert, metrics: Metrics, tracing: Tracing | undefined): void {
  const span = hub.subscribers() > 0 ? startDeliverySpan(tracing, alert, 'sse') : null;
  const listeners = hub.publish(alert);
  endDeliverySpan(span, null, { 'tripline.listeners': listeners });
  if (listeners === 0) return;
  metrics.alertDeliveries.inc({ channel: 'sse', outcome: 'sent' }, listeners);
  metrics.alertLatencySeconds.observe({ channel: 'sse' }, (Date.now() - alert.receivedAtMs) / 1000);
}
