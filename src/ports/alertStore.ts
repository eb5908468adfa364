import type { AlertType } from '../domain/alerts/alert.js';

/** A tenant's webhook subscription; the secret signs every delivery and is shown once, at creation. */
export interface Webhook {
  webhookId: string;
  tenantId: string;
  url: string;
  /** Alert types delivered; null: all. */
  types: AlertType[] | null;
  createdAtMs: number;
}

export type DeliveryStatus = 'pending' | 'delivered' | 'dead_letter';

/** One alert owed to one webhook, until it is delivered or dead-lettered. */
export interface Delivery {
  deliveryId: string;
  alertId: string;
  webhookId: string;
  tenantId: string;
  status: DeliveryStatus;
  /** Attempts made so far. */
  attempts: number;
  nextAttemptAtMs: number;
  /** The JSON body sent (the alert). */
  body: string;
  /** When the point behind the alert was received: for the latency metric. */
  receivedAtMs: number;
  lastError: string | null;
  updatedAtMs: number;
}

export interface DeliveryAttempt {
  attempt: number;
  atMs: number;
  durationMs: number;
  /** The receiver's HTTP status, or null when none came (timeout, refused connection). */
  httpStatus: number | null;
  error: string | null;
}

/** Webhook subscriptions, the deliveries owed to them, and the dispatcher's position in the alert outbox. */
export interface AlertStore {
  addWebhook(webhook: Webhook, secret: string): Promise<void>;
  webhooks(tenantId: string): Promise<Webhook[]>;
  webhook(tenantId: string, webhookId: string): Promise<Webhook | null>;
  /** Where to deliver and the secret to sign with; null once deleted. */
  webhookTarget(webhookId: string): Promise<{ url: string; secret: string } | null>;
  deleteWebhook(tenantId: string, webhookId: string): Promise<boolean>;
  dispatchCursor(): Promise<number>;
  /** Queues deliveries (ignoring ones already queued) and moves the dispatch cursor forward (never back), in one transaction. */
  enqueue(deliveries: Delivery[], cursor: number): Promise<void>;
  /**
   * Pending deliveries due at `nowMs`, earliest first. A store shared by several processes claims
   * them for the calling process until their attempt is recorded or the claim lapses: no other
   * process gets them meanwhile, this one gets them again (the caller skips those in flight).
   */
  dueDeliveries(nowMs: number, limit: number): Promise<Delivery[]>;
  /** When the next pending delivery this process may take is due, or null. */
  nextDueAtMs(): Promise<number | null>;
  recordAttempt(delivery: Delivery, attempt: DeliveryAttempt): Promise<void>;
  deliveries(tenantId: string, webhookId: string, limit: number): Promise<Array<Delivery & { history: DeliveryAttempt[] }>>;
  /** Deletes finished deliveries (delivered, dead letters) last updated before `beforeMs`, with their tries; returns how many. */
  pruneDeliveries(beforeMs: number): Promise<number>;
  close(): Promise<void>;
}
