import type { DrivingEvent, Severity } from '../events/drivingEvent.js';

/** What an alert is about: a confirmed crash, or a risk condition met on the live stream. */
export const ALERT_TYPES = ['crash', 'sustained_speeding'] as const;
export type AlertType = (typeof ALERT_TYPES)[number];

/** An alert raised on the point that caused it; the payload of every channel (webhook, MQTT downlink, SSE). */
export interface Alert {
  /** Stable across replays (`${deviceId}:${type}:${startMs}`): the idempotency key receivers deduplicate on. */
  alertId: string;
  type: AlertType;
  tenantId: string;
  deviceId: string;
  vehicleId: string;
  driverId: string | null;
  tripId: string | null;
  /** Device time of the event's first point, and of the point that raised the alert. */
  startMs: number;
  raisedAtPointMs: number;
  /** When the platform received the message holding that point (the latency benchmark's origin). */
  receivedAtMs: number;
  lat: number;
  lon: number;
  severity: Severity;
  peak: number;
  peakUnit: DrivingEvent['peakUnit'];
  details: Record<string, number>;
  /** W3C trace context of the message that raised it, when it was traced: receivers may continue the trace. */
  traceparent?: string;
}

/** An alert as the stream step raises it, before the message's receipt time is known. */
export type RaisedAlert = Omit<Alert, 'receivedAtMs'>;

export function alertId(deviceId: string, type: AlertType, startMs: number): string {
  return `${deviceId}:${type}:${startMs}`;
}
