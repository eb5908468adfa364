import type { Alert } from '../../domain/alerts/alert.js';
import type { TelemetryPoint } from '../../domain/point.js';
import type { TripSummary } from '../../domain/trip.js';
import type { DeviceTripState } from '../../domain/tripSegmenter.js';
import type { AlertFeed, AlertRow, BatchEffects, ChangeFeed, TripChange, WriteStore } from '../../ports/writeStore.js';
import { decodeChunk } from '../embedded/pointChunkCodec.js';
import { inPartitions, type SelectedState } from '../partitionStates.js';
import { ChunkPartitions } from './pgChunkPartitions.js';
import { latestStates, planTripChanges, tracedTripIds, uniqueAlerts } from './pgCommitPlan.js';
import {
  appendToFeeds, fence, insertChunks, lockTraceLinks, upsertStates, upsertTrips, writeCursors, writeTraceLinks,
} from './pgCommitWrites.js';
import { createWriteSchema, WRITE_SCHEMA as S } from './pgWriteSchema.js';
import { inTransaction, openWithPool, type Pool } from './pool.js';

export interface PgWriteStoreOptions {
  /** Connections of this process's pool. */
  poolSize?: number;
  /**
   * PostgreSQL's `synchronous_commit` for the store's commits. 'on' (the default) makes a
   * returned commit survive a server crash, which the bus acknowledgement after it relies on;
   * 'remote_apply' also waits for synchronous standbys to apply it.
   */
  synchronousCommit?: SynchronousCommit;
}

export type SynchronousCommit = 'on' | 'remote_write' | 'remote_apply' | 'local';

/** Opens the store, creating its schema if missing (safe when several processes start at once). */
export async function openPgWriteStore(url: string, options: PgWriteStoreOptions = {}): Promise<PgWriteStore> {
  return openWithPool(url, options.poolSize ?? 10, async (pool) => {
    await createWriteSchema(pool);
    const partitions = new ChunkPartitions(pool);
    await partitions.ensure([]);
    return new PgWriteStore(pool, partitions, options.synchronousCommit ?? 'on');
  });
}

/**
 * The cluster write store: point chunks (monthly partitions), trips, trace links, device
 * checkpoints, bus cursors and both outboxes in PostgreSQL, one transaction per commit, each
 * table written by one multi-row statement.
 */
export class PgWriteStore implements WriteStore, ChangeFeed, AlertFeed {
  constructor(
    private readonly pool: Pool,
    private readonly partitions: ChunkPartitions,
    private readonly synchronousCommit: SynchronousCommit,
  ) {}

  async cursors(): Promise<Map<number, number>> {
    const { rows } = await this.pool.query<{ partition: number; bus_offset: number }>(`SELECT partition, bus_offset FROM ${S}.consumer_cursors`);
    return new Map(rows.map((row) => [row.partition, row.bus_offset]));
  }

  async loadStates(deviceIds: string[]): Promise<Map<string, DeviceTripState>> {
    if (deviceIds.length === 0) return new Map();
    const { rows } = await this.pool.query<{ state: DeviceTripState }>(`SELECT state FROM ${S}.device_states WHERE device_id = ANY($1::text[])`, [deviceIds]);
    return new Map(rows.map((row) => [row.state.deviceId, row.state]));
  }

  async activeStates(partitions: readonly number[], partitionCount: number): Promise<DeviceTripState[]> {
    if (partitions.length === 0) return [];
    const { rows } = await this.pool.query<SelectedState>(
      `SELECT state, device_hash IS NULL AS unhashed FROM ${S}.device_states
       WHERE open_trip AND (device_hash IS NULL OR device_hash % $2 = ANY($1::int[]))`,
      [partitions, partitionCount],
    );
    return inPartitions(rows, partitions, partitionCount);
  }

  /**
   * Every commit takes its locks in one order (cursors, trace links, trips, states, each in key
   * order, then the feeds lock last), so concurrent commits wait for each other, not deadlock.
   */
  async commit(batches: BatchEffects[]): Promise<void> {
    await this.partitions.ensure(batches.flatMap((batch) => batch.chunks.map((chunk) => chunk.firstMs)));
    const writtenAtMs = Date.now();
    await inTransaction(this.pool, async (client) => {
      // Per transaction, whatever the server's default (and through a transaction-pooling PgBouncer too).
      await client.query("SELECT set_config('synchronous_commit', $1, true)", [this.synchronousCommit]);
      await fence(client, batches);
      await writeCursors(client, batches);
      await insertChunks(client, batches);
      const { links, changes } = planTripChanges(batches, await lockTraceLinks(client, tracedTripIds(batches)));
      await writeTraceLinks(client, links);
      const versions = await upsertTrips(client, changes);
      await upsertStates(client, latestStates(batches));
      await appendToFeeds(client, changes, versions, uniqueAlerts(batches), writtenAtMs);
    });
  }

  async trip(tenantId: string, tripId: string): Promise<TripSummary | null> {
    const { rows } = await this.pool.query<{ doc: TripSummary }>(`SELECT doc FROM ${S}.trips WHERE trip_id = $1 AND tenant_id = $2`, [tripId, tenantId]);
    return rows[0]?.doc ?? null;
  }

  async points(deviceId: string, fromMs: number, toMs: number): Promise<TelemetryPoint[]> {
    const { rows } = await this.pool.query<{ points: string }>(
      `SELECT points FROM ${S}.point_chunks WHERE device_id = $1 AND first_ms <= $2 AND last_ms >= $3 ORDER BY first_ms`,
      [deviceId, toMs, fromMs],
    );
    return rows.flatMap((row) => decodeChunk(row.points)).filter((p) => p.tsMs >= fromMs && p.tsMs <= toMs);
  }

  async counts(): Promise<{ trips: number; chunks: number; points: number }> {
    const { rows } = await this.pool.query<{ chunks: number; points: number }>(
      `SELECT count(*) AS chunks, COALESCE(sum(point_count), 0)::bigint AS points FROM ${S}.point_chunks`,
    );
    return { trips: await this.tripCount(), chunks: rows[0]!.chunks, points: rows[0]!.points };
  }

  async tripCount(): Promise<number> {
    const { rows } = await this.pool.query<{ n: number }>(`SELECT count(*) AS n FROM ${S}.trips`);
    return rows[0]!.n;
  }

  async tripsAfter(afterTripId: string, limit: number): Promise<Array<{ version: number; trip: TripSummary }>> {
    const { rows } = await this.pool.query<{ version: number; doc: TripSummary }>(
      `SELECT version, doc FROM ${S}.trips WHERE trip_id > $1 ORDER BY trip_id LIMIT $2`,
      [afterTripId, limit],
    );
    return rows.map((row) => ({ version: row.version, trip: row.doc }));
  }

  async readAfter(seq: number, limit: number): Promise<TripChange[]> {
    const { rows } = await this.pool.query<{ seq: number; trip_id: string; version: number; written_at_ms: number; doc: TripSummary; traceparents: string[] | null }>(
      `SELECT seq, trip_id, version, written_at_ms, doc, traceparents FROM ${S}.trip_outbox WHERE seq > $1 ORDER BY seq LIMIT $2`,
      [seq, limit],
    );
    return rows.map((row) => ({
      seq: row.seq, tripId: row.trip_id, version: row.version, writtenAtMs: row.written_at_ms, trip: row.doc, traceparents: row.traceparents ?? [],
    }));
  }

  async head(): Promise<{ seq: number; writtenAtMs: number }> {
    const { rows } = await this.pool.query<{ seq: number; written_at_ms: number }>(`SELECT seq, written_at_ms FROM ${S}.trip_outbox ORDER BY seq DESC LIMIT 1`);
    return { seq: rows[0]?.seq ?? 0, writtenAtMs: rows[0]?.written_at_ms ?? 0 };
  }

  async alertsAfter(seq: number, limit: number): Promise<AlertRow[]> {
    const { rows } = await this.pool.query<{ seq: number; written_at_ms: number; doc: Alert }>(
      `SELECT seq, written_at_ms, doc FROM ${S}.alert_outbox WHERE seq > $1 ORDER BY seq LIMIT $2`,
      [seq, limit],
    );
    return rows.map((row) => ({ seq: row.seq, writtenAtMs: row.written_at_ms, alert: row.doc }));
  }

  async alertSeq(alertId: string): Promise<number | null> {
    const { rows } = await this.pool.query<{ seq: number }>(`SELECT seq FROM ${S}.alert_outbox WHERE alert_id = $1`, [alertId]);
    return rows[0]?.seq ?? null;
  }

  async alertsHead(): Promise<number> {
    const { rows } = await this.pool.query<{ seq: number }>(
      `SELECT GREATEST((SELECT max(seq) FROM ${S}.alert_outbox), (SELECT seq FROM ${S}.alert_outbox_pruned), 0) AS seq`,
    );
    return rows[0]!.seq;
  }

  async pruneAlerts(upToSeq: number, beforeMs: number): Promise<number> {
    const { rows } = await this.pool.query<{ n: number }>(
      `WITH gone AS (DELETE FROM ${S}.alert_outbox WHERE seq <= $1 AND written_at_ms < $2 RETURNING seq),
       mark AS (
         INSERT INTO ${S}.alert_outbox_pruned AS p (seq) SELECT max(seq) FROM gone HAVING count(*) > 0
         ON CONFLICT (singleton) DO UPDATE SET seq = GREATEST(p.seq, EXCLUDED.seq)
       )
       SELECT count(*) AS n FROM gone`,
      [upToSeq, beforeMs],
    );
    return rows[0]!.n;
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
