import type { AlertStore, Delivery, DeliveryAttempt, Webhook } from '../../ports/alertStore.js';
import { toAttempt, toDelivery, type AttemptRow, type DeliveryRow } from '../deliveryRows.js';
import { openSqlite, type SqliteSynchronous } from './sqlite.js';

/**
 * The embedded alert store: webhook subscriptions, the deliveries owed to them with every attempt,
 * and the dispatcher's cursor in the write store's alert outbox, in one SQLite file.
 */
export class SqliteAlertStore implements AlertStore {
  private readonly db;
  private readonly stmt;

  constructor(path: string, synchronous: SqliteSynchronous) {
    this.db = openSqlite(path, synchronous);
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS webhooks (
        webhook_id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, url TEXT NOT NULL, secret TEXT NOT NULL,
        types TEXT, created_at_ms INTEGER NOT NULL
      );
      CREATE INDEX IF NOT EXISTS webhooks_tenant ON webhooks (tenant_id, created_at_ms);
      CREATE TABLE IF NOT EXISTS deliveries (
        delivery_id TEXT PRIMARY KEY, alert_id TEXT NOT NULL, webhook_id TEXT NOT NULL, tenant_id TEXT NOT NULL,
        status TEXT NOT NULL, attempts INTEGER NOT NULL, next_attempt_ms INTEGER NOT NULL, body TEXT NOT NULL,
        received_at_ms INTEGER NOT NULL, last_error TEXT, updated_at_ms INTEGER NOT NULL
      );
      CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries (next_attempt_ms) WHERE status = 'pending';
      CREATE INDEX IF NOT EXISTS deliveries_webhook ON deliveries (webhook_id, updated_at_ms);
      CREATE TABLE IF NOT EXISTS delivery_attempts (
        delivery_id TEXT NOT NULL, attempt INTEGER NOT NULL, at_ms INTEGER NOT NULL, duration_ms INTEGER NOT NULL,
        http_status INTEGER, error TEXT, PRIMARY KEY (delivery_id, attempt)
      ) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS dispatch_cursor (id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER NOT NULL);
    `);
    this.stmt = {
      insertWebhook: this.db.prepare('INSERT INTO webhooks VALUES (?, ?, ?, ?, ?, ?)'),
      selectWebhooks: this.db.prepare('SELECT * FROM webhooks WHERE tenant_id = ? ORDER BY created_at_ms, webhook_id'),
      selectWebhook: this.db.prepare('SELECT * FROM webhooks WHERE tenant_id = ? AND webhook_id = ?'),
      selectTarget: this.db.prepare('SELECT url, secret FROM webhooks WHERE webhook_id = ?'),
      deleteWebhook: this.db.prepare('DELETE FROM webhooks WHERE tenant_id = ? AND webhook_id = ?'),
      // A deleted subscription is owed nothing more.
      dropPending: this.db.prepare("UPDATE deliveries SET status = 'dead_letter', last_error = 'webhook deleted', updated_at_ms = ? WHERE webhook_id = ? AND status = 'pending'"),
      selectCursor: this.db.prepare('SELECT seq FROM dispatch_cursor WHERE id = 1'),
      // Forward only: a slower dispatcher sharing the store must not move it back.
      upsertCursor: this.db.prepare('INSERT INTO dispatch_cursor VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET seq = MAX(seq, excluded.seq)'),
      insertDelivery: this.db.prepare('INSERT OR IGNORE INTO deliveries VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)'),
      selectDue: this.db.prepare("SELECT * FROM deliveries WHERE status = 'pending' AND next_attempt_ms <= ? ORDER BY next_attempt_ms LIMIT ?"),
      selectNextDue: this.db.prepare("SELECT MIN(next_attempt_ms) AS at FROM deliveries WHERE status = 'pending'"),
      updateDelivery: this.db.prepare('UPDATE deliveries SET status = ?, attempts = ?, next_attempt_ms = ?, last_error = ?, updated_at_ms = ? WHERE delivery_id = ?'),
      insertAttempt: this.db.prepare('INSERT OR REPLACE INTO delivery_attempts VALUES (?, ?, ?, ?, ?, ?)'),
      selectDeliveries: this.db.prepare('SELECT * FROM deliveries WHERE tenant_id = ? AND webhook_id = ? ORDER BY updated_at_ms DESC LIMIT ?'),
      pruneAttempts: this.db.prepare("DELETE FROM delivery_attempts WHERE delivery_id IN (SELECT delivery_id FROM deliveries WHERE status != 'pending' AND updated_at_ms < ?)"),
      pruneDeliveries: this.db.prepare("DELETE FROM deliveries WHERE status != 'pending' AND updated_at_ms < ?"),
      selectAttempts: this.db.prepare('SELECT * FROM delivery_attempts WHERE delivery_id = ? ORDER BY attempt'),
    };
  }

  async addWebhook(webhook: Webhook, secret: string): Promise<void> {
    this.stmt.insertWebhook.run(webhook.webhookId, webhook.tenantId, webhook.url, secret, webhook.types ? JSON.stringify(webhook.types) : null, webhook.createdAtMs);
  }

  async webhooks(tenantId: string): Promise<Webhook[]> {
    return (this.stmt.selectWebhooks.all(tenantId) as WebhookRow[]).map(toWebhook);
  }

  async webhook(tenantId: string, webhookId: string): Promise<Webhook | null> {
    const row = this.stmt.selectWebhook.get(tenantId, webhookId) as WebhookRow | undefined;
    return row ? toWebhook(row) : null;
  }

  async webhookTarget(webhookId: string): Promise<{ url: string; secret: string } | null> {
    return (this.stmt.selectTarget.get(webhookId) as { url: string; secret: string } | undefined) ?? null;
  }

  async deleteWebhook(tenantId: string, webhookId: string): Promise<boolean> {
    return this.db.transaction(() => {
      const deleted = this.stmt.deleteWebhook.run(tenantId, webhookId).changes > 0;
      if (deleted) this.stmt.dropPending.run(Date.now(), webhookId);
      return deleted;
    })();
  }

  async dispatchCursor(): Promise<number> {
    return (this.stmt.selectCursor.get() as { seq: number } | undefined)?.seq ?? 0;
  }

  async enqueue(deliveries: Delivery[], cursor: number): Promise<void> {
    this.db.transaction(() => {
      for (const d of deliveries) {
        this.stmt.insertDelivery.run(d.deliveryId, d.alertId, d.webhookId, d.tenantId, d.status, d.attempts, d.nextAttemptAtMs, d.body, d.receivedAtMs, d.lastError, d.updatedAtMs);
      }
      this.stmt.upsertCursor.run(cursor);
    })();
  }

  async dueDeliveries(nowMs: number, limit: number): Promise<Delivery[]> {
    return (this.stmt.selectDue.all(nowMs, limit) as DeliveryRow[]).map(toDelivery);
  }

  async nextDueAtMs(): Promise<number | null> {
    return (this.stmt.selectNextDue.get() as { at: number | null }).at;
  }

  async recordAttempt(delivery: Delivery, attempt: DeliveryAttempt): Promise<void> {
    this.db.transaction(() => {
      this.stmt.updateDelivery.run(delivery.status, delivery.attempts, delivery.nextAttemptAtMs, delivery.lastError, delivery.updatedAtMs, delivery.deliveryId);
      this.stmt.insertAttempt.run(delivery.deliveryId, attempt.attempt, attempt.atMs, attempt.durationMs, attempt.httpStatus, attempt.error);
    })();
  }

  async deliveries(tenantId: string, webhookId: string, limit: number): Promise<Array<Delivery & { history: DeliveryAttempt[] }>> {
    const rows = this.stmt.selectDeliveries.all(tenantId, webhookId, limit) as DeliveryRow[];
    return rows.map((row) => ({
      ...toDelivery(row),
      history: (this.stmt.selectAttempts.all(row.delivery_id) as AttemptRow[]).map(toAttempt),
    }));
  }

  async pruneDeliveries(beforeMs: number): Promise<number> {
    return this.db.transaction(() => {
      this.stmt.pruneAttempts.run(beforeMs);
      return this.stmt.pruneDeliveries.run(beforeMs).changes;
    })();
  }

  async close(): Promise<void> {
    this.db.close();
  }
}

interface WebhookRow { webhook_id: string; tenant_id: string; url: string; types: string | null; created_at_ms: number }

function toWebhook(row: WebhookRow): Webhook {
  return { webhookId: row.webhook_id, tenantId: row.tenant_id, url: row.url, types: row.types ? (JSON.parse(row.types) as Webhook['types']) : null, createdAtMs: row.created_at_ms };
}
