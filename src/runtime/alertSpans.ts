import type { Span } from '@opentelemetry/api';
import type { Alert } from '../domain/alerts/alert.js';
import { contextFromTraceparent, isSampled, TENANT_ATTRIBUTE, type Tracing } from './tracing.js';

export type AlertChannel = 'mqtt' | 'sse' | 'webhook';

/**
 * A span for sending an alert on one channel, in the trace of the message that raised it (the
 * alert keeps that message's traceparent); null when the alert is untraced or unsampled.
 */
export function startDeliverySpan(tracing: Tracing | undefined, alert: Pick<Alert, 'alertId' | 'type' | 'tenantId' | 'deviceId' | 'traceparent'>, channel: AlertChannel): Span | null {
  const parent = tracing ? contextFromTraceparent(alert.traceparent) : undefined;
  if (!tracing || !isSampled(parent)) return null;
  return tracing.start(`alert.deliver.${channel}`, parent, {
    [TENANT_ATTRIBUTE]: alert.tenantId,
    'tripline.device_id': alert.deviceId,
    'tripline.alert_id': alert.alertId,
    'tripline.alert_type': alert.type,
    'tripline.alert_channel': channel,
  });
}

/** Ends a delivery span, marking it failed when `error` is given. */
export function endDeliverySpan(span: Span | null, error?: string | null, attributes: Record<string, number | string> = {}): void {
  if (!span) return;
  span.setAttributes(attributes);
  if (error) span.setStatus({ code: 2, message: error });
  span.end();
}
