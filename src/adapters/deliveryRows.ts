import type { Delivery, DeliveryAttempt } from '../ports/alertStore.js';

/** A webhook delivery as every alert store keeps it (SQLite and PostgreSQL share the column names). */
export interface DeliveryRow {
  delivery_id: string;
  alert_id: string;
  webhook_id: string;
  tenant_id: string;
  status: Delivery['status'];
  attempts: number;
  next_attempt_ms: number;
  body: string;
  received_at_ms: number;
  last_error: string | null;
  updated_at_ms: number;
}

export interface AttemptRow {
  attempt: number;
  at_ms: number;
  duration_ms: number;
  http_status: number | null;
  error: string | null;
}

export function toDelivery(row: DeliveryRow): Delivery {
  return {
    deliveryId: row.delivery_id, alertId: row.alert_id, webhookId: row.webhook_id, tenantId: row.tenant_id, status: row.status,
    attempts: row.attempts, nextAttemptAtMs: row.next_attempt_ms, body: row.body, receivedAtMs: row.received_at_ms,
    lastError: row.last_error, updatedAtMs: row.updated_at_ms,
  };
}

export function toAttempt(row: AttemptRow): DeliveryAttempt {
  return { attempt: row.attempt, atMs: row.at_ms, durationMs: row.duration_ms, httpStatus: row.http_status, error: row.error };
}
