import { randomUUID } from 'node:crypto';
import type { AlertStore, Delivery, DeliveryAttempt, Webhook } from '../../ports/alertStore.js';
import { toAttempt, toDelivery, type AttemptRow, type DeliveryRow } from '../deliveryRows.js';
import { inTransaction, openWithPool, type Pool } from './pool.js';
import { applySchema } from './schema.js';

export interface PgAlertStoreOptions {
  /**
   * How long a delivery handed out by dueDeliveries stays reserved to this process. It must
   * outlast one try (the webhook timeout, at most 60 s); a crashed process's deliveries are sent
   * by another one this long after it claimed them.
   */
  claimMs?: number;
  /** Connections this store keeps open. */
  maxConnections?: number;
}

/** The store's tables live in their own schema, so the other stores can share the database without name clashes. */
const ALERTS_SCHEMA = 'tripline_alerts';
const WEBHOOKS = `${ALERTS_SCHEMA}.webhooks`;
const DELIVERIES = `${ALERTS_SCHEMA}.deliveries`;
const ATTEMPTS = `${ALERTS_SCHEMA}.delivery_attempts`;
const CURSOR = `${ALERTS_SCHEMA}.dispatch_cursor`;

const DDL = `
  CREATE SCHEMA IF NOT EXISTS ${ALERTS_SCHEMA};
  CREATE TABLE IF NOT EXISTS ${WEBHOOKS} (
    webhook_id text COLLATE "C" PRIMARY KEY, tenant_id text COLLATE "C" NOT NULL, url text NOT NULL, secret text NOT NULL,
    types text[], created_at_ms bigint NOT NULL
  );
  CREATE INDEX IF NOT EXISTS webhooks_tenant ON ${WEBHOOKS} (tenant_id, created_at_ms, webhook_id);
  CREATE TABLE IF NOT EXISTS ${DELIVERIES} (
    delivery_id text PRIMARY KEY, alert_id text NOT NULL, webhook_id text NOT NULL, tenant_id text NOT NULL,
    status text NOT NULL CHECK (status IN ('pending', 'delivered', 'dead_letter')), attempts integer NOT NULL,
    next_attempt_ms bigint NOT NULL, body text NOT NULL, received_at_ms bigint NOT NULL, last_error text, updated_at_ms bigint NOT NULL,
    claimed_by uuid, claimed_until_ms bigint NOT NULL DEFAULT 0
  );
  CREATE INDEX IF NOT EXISTS deliveries_due ON ${DELIVERIES} (next_attempt_ms) WHERE status = 'pending';
  CREATE INDEX IF NOT EXISTS deliveries_claimed ON ${DELIVERIES} (claimed_until_ms) WHERE status = 'pending';
  CREATE INDEX IF NOT EXISTS deliveries_webhook ON ${DELIVERIES} (webhook_id, updated_at_ms);
  CREATE INDEX IF NOT EXISTS deliveries_finished ON ${DELIVERIES} (updated_at_ms) WHERE status <> 'pending';
  CREATE TABLE IF NOT EXISTS ${ATTEMPTS} (
    delivery_id text NOT NULL REFERENCES ${DELIVERIES} ON DELETE CASCADE, attempt integer NOT NULL,
    at_ms bigint NOT NULL, duration_ms bigint NOT NULL, http_status integer, error text,
    PRIMARY KEY (delivery_id, attempt)
  );
  CREATE TABLE IF NOT EXISTS ${CURSOR} (singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton), seq bigint NOT NULL);
`;

/** Claims are timed on the database's clock, the one clock every process shares. */
const DB_NOW_MS = '(extract(epoch FROM clock_timestamp()) * 1000)::bigint';

/** Opens the alert store every process of a cluster shares, creating its tables when missing. */
export async function openPgAlertStore(url: string, options: PgAlertStoreOptions = {}): Promise<AlertStore> {
  const claimMs = options.claimMs ?? 120_000;
  if (!Number.isInteger(claimMs) || claimMs < 1) throw new RangeError(`claimMs must be a positive integer, got ${claimMs}`);
  return openWithPool(url, options.maxConnections ?? 10, async (pool) => {
    await applySchema(pool, DDL);
    return new PgAlertStore(pool, claimMs);
  });
}

/**
 * The cluster's alert store in PostgreSQL. Webhook senders may run in several processes: a
 * delivery handed out by dueDeliveries is claimed (claimed_by, claimed_until_ms) so no other
 * process gets it until its attempt is recorded or the claim lapses; the process holding it gets
 * it again, as a single-process store would (the sender skips the ones it has in flight).
 */
class PgAlertStore implements AlertStore {
  /** This store's claims; one per process. */
  private readonly claimant = randomUUID();

  constructor(private readonly pool: Pool, private readonly claimMs: number) {}

  async addWebhook(webhook: Webhook, secret: string): Promise<void> {
    await this.pool.query(
      `INSERT INTO ${WEBHOOKS} (webhook_id, tenant_id, url, secret, types, created_at_ms) VALUES ($1, $2, $3, $4, $5, $6)`,
      [webhook.webhookId, webhook.tenantId, webhook.url, secret, webhook.types, webhook.createdAtMs],
    );
  }

  async webhooks(tenantId: string): Promise<Webhook[]> {
    const { rows } = await this.pool.query<WebhookRow>(`SELECT * FROM ${WEBHOOKS} WHERE tenant_id = $1 ORDER BY created_at_ms, webhook_id`, [tenantId]);
    return rows.map(toWebhook);
  }

  async webhook(tenantId: string, webhookId: string): Promise<Webhook | null> {
    const { rows } = await this.pool.query<WebhookRow>(`SELECT * FROM ${WEBHOOKS} WHERE tenant_id = $1 AND webhook_id = $2`, [tenantId, webhookId]);
    return rows[0] ? toWebhook(rows[0]) : null;
  }

  async webhookTarget(webhookId: string): Promise<{ url: string; secret: string } | null> {
    const { rows } = await this.pool.query<{ url: string; secret: string }>(`SELECT url, secret FROM ${WEBHOOKS} WHERE webhook_id = $1`, [webhookId]);
    return rows[0] ?? null;
  }

  /** A deleted subscription is owed nothing more: its pending deliveries become dead letters, in the same statement. */
  async deleteWebhook(tenantId: string, webhookId: string): Promise<boolean> {
    const { rows } = await this.pool.query<{ deleted: number }>(
      `WITH deleted AS (DELETE FROM ${WEBHOOKS} WHERE tenant_id = $1 AND webhook_id = $2 RETURNING webhook_id),
       dropped AS (
         UPDATE ${DELIVERIES} SET status = 'dead_letter', last_error = 'webhook deleted', updated_at_ms = $3
         WHERE webhook_id IN (SELECT webhook_id FROM deleted) AND status = 'pending'
       )
       SELECT count(*) AS deleted FROM deleted`,
      [tenantId, webhookId, Date.now()],
    );
    return rows[0]!.deleted > 0;
  }

  async dispatchCursor(): Promise<number> {
    const { rows } = await this.pool.query<{ seq: number }>(`SELECT seq FROM ${CURSOR}`);
    return rows[0]?.seq ?? 0;
  }

  async enqueue(deliveries: Delivery[], cursor: number): Promise<void> {
    // One lock order for every writer (by id), so dispatchers queueing the same alerts at once cannot deadlock.
    const sorted = [...deliveries].sort((a, b) => (a.deliveryId < b.deliveryId ? -1 : a.deliveryId > b.deliveryId ? 1 : 0));
    const column = <T>(pick: (d: Delivery) => T): T[] => sorted.map(pick);
    await inTransaction(this.pool, async (client) => {
      if (sorted.length > 0) {
        await client.query(
          `INSERT INTO ${DELIVERIES} (delivery_id, alert_id, webhook_id, tenant_id, status, attempts, next_attempt_ms, body, received_at_ms, last_error, updated_at_ms)
           SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::integer[], $7::bigint[], $8::text[], $9::bigint[], $10::text[], $11::bigint[])
           ON CONFLICT (delivery_id) DO NOTHING`,
          [
            column((d) => d.deliveryId), column((d) => d.alertId), column((d) => d.webhookId), column((d) => d.tenantId),
            column((d) => d.status), column((d) => d.attempts), column((d) => d.nextAttemptAtMs), column((d) => d.body),
            column((d) => d.receivedAtMs), column((d) => d.lastError), column((d) => d.updatedAtMs),
          ],
        );
      }
      // Forward only: a slower dispatcher sharing the store must not move it back.
      await client.query(
        `INSERT INTO ${CURSOR} (seq) VALUES ($1)
         ON CONFLICT (singleton) DO UPDATE SET seq = GREATEST(${CURSOR}.seq, EXCLUDED.seq)`,
        [cursor],
      );
    });
  }

  /**
   * Claims up to `limit` due deliveries, earliest first: unclaimed ones, ones whose claim lapsed,
   * and this store's own (renewing their claim). SKIP LOCKED lets two processes claim at once
   * without waiting on each other or taking the same row.
   */
  async dueDeliveries(nowMs: number, limit: number): Promise<Delivery[]> {
    const { rows } = await this.pool.query<DeliveryRow>(
      // Materialised, so the locking scan runs once (a re-scanned subquery could skip different rows and exceed the limit).
      `WITH due AS MATERIALIZED (
         SELECT delivery_id FROM ${DELIVERIES}
         WHERE status = 'pending' AND next_attempt_ms <= $1 AND (claimed_until_ms <= ${DB_NOW_MS} OR claimed_by = $3)
         ORDER BY next_attempt_ms LIMIT $2
         FOR UPDATE SKIP LOCKED
       )
       UPDATE ${DELIVERIES} d SET claimed_by = $3, claimed_until_ms = ${DB_NOW_MS} + $4
       FROM due WHERE d.delivery_id = due.delivery_id
       RETURNING d.*`,
      [nowMs, limit, this.claimant, this.claimMs],
    );
    return rows.map(toDelivery).sort((a, b) => a.nextAttemptAtMs - b.nextAttemptAtMs);
  }

  /**
   * The earliest pending delivery this process may take: another process's claim counts as due
   * when it lapses (converted to this process's clock), so a sender does not spin on it.
   */
  async nextDueAtMs(): Promise<number | null> {
    const { rows } = await this.pool.query<{ at: number | null }>(
      `SELECT LEAST(
         (SELECT next_attempt_ms FROM ${DELIVERIES}
          WHERE status = 'pending' AND (claimed_until_ms <= ${DB_NOW_MS} OR claimed_by = $1) ORDER BY next_attempt_ms LIMIT 1),
         (SELECT min(claimed_until_ms) - ${DB_NOW_MS} + $2 FROM ${DELIVERIES}
          WHERE status = 'pending' AND claimed_until_ms > ${DB_NOW_MS} AND claimed_by <> $1)
       ) AS at`,
      [this.claimant, Date.now()],
    );
    return rows[0]!.at;
  }

  /** Records the try and releases this process's claim (a claim another process took after ours lapsed stays theirs). */
  async recordAttempt(delivery: Delivery, attempt: DeliveryAttempt): Promise<void> {
    await this.pool.query(
      `WITH updated AS (
         UPDATE ${DELIVERIES} SET status = $2, attempts = $3, next_attempt_ms = $4, last_error = $5, updated_at_ms = $6,
           claimed_by = NULLIF(claimed_by, $7), claimed_until_ms = CASE WHEN claimed_by = $7 THEN 0 ELSE claimed_until_ms END
         WHERE delivery_id = $1 RETURNING delivery_id
       )
       INSERT INTO ${ATTEMPTS} (delivery_id, attempt, at_ms, duration_ms, http_status, error)
       SELECT delivery_id, $8::integer, $9::bigint, $10::bigint, $11::integer, $12::text FROM updated
       ON CONFLICT (delivery_id, attempt) DO UPDATE
       SET at_ms = EXCLUDED.at_ms, duration_ms = EXCLUDED.duration_ms, http_status = EXCLUDED.http_status, error = EXCLUDED.error`,
      [
        delivery.deliveryId, delivery.status, delivery.attempts, delivery.nextAttemptAtMs, delivery.lastError, delivery.updatedAtMs, this.claimant,
        attempt.attempt, attempt.atMs, attempt.durationMs, attempt.httpStatus, attempt.error,
      ],
    );
  }

  async deliveries(tenantId: string, webhookId: string, limit: number): Promise<Array<Delivery & { history: DeliveryAttempt[] }>> {
    // One statement, so the tries belong to the deliveries as read.
    const { rows } = await this.pool.query<DeliveryRow & { history: AttemptRow[] }>(
      `SELECT d.*, COALESCE(h.history, '[]') AS history
       FROM ${DELIVERIES} d
       LEFT JOIN LATERAL (
         SELECT json_agg(json_build_object('attempt', a.attempt, 'at_ms', a.at_ms, 'duration_ms', a.duration_ms, 'http_status', a.http_status, 'error', a.error)
                         ORDER BY a.attempt) AS history
         FROM ${ATTEMPTS} a WHERE a.delivery_id = d.delivery_id
       ) h ON true
       WHERE d.tenant_id = $1 AND d.webhook_id = $2
       ORDER BY d.updated_at_ms DESC
       LIMIT $3`,
      [tenantId, webhookId, limit],
    );
    return rows.map((row) => ({ ...toDelivery(row), history: row.history.map(toAttempt) }));
  }

  /** Their tries go with them (ON DELETE CASCADE). */
  async pruneDeliveries(beforeMs: number): Promise<number> {
    const { rowCount } = await this.pool.query(`DELETE FROM ${DELIVERIES} WHERE status <> 'pending' AND updated_at_ms < $1`, [beforeMs]);
    return rowCount ?? 0;
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

interface WebhookRow { webhook_id: string; tenant_id: string; url: string; types: string[] | null; created_at_ms: number }

function toWebhook(row: WebhookRow): Webhook {
  return { webhookId: row.webhook_id, tenantId: row.tenant_id, url: row.url, types: row.types as Webhook['types'], createdAtMs: row.created_at_ms };
}
