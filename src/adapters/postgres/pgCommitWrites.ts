import type { Alert } from '../../domain/alerts/alert.js';
import { isActive, type DeviceTripState } from '../../domain/tripSegmenter.js';
import { deviceHash } from '../../ports/eventBus.js';
import type { BatchEffects } from '../../ports/writeStore.js';
import { encodeChunk } from '../embedded/pointChunkCodec.js';
import { checkFences, fencedPartitions, finalCursors, tripUpserts, type TripChangeRow } from './pgCommitPlan.js';
import { FEEDS_LOCK_KEY, WRITE_SCHEMA as S } from './pgWriteSchema.js';
import type { PoolClient } from './pool.js';

/**
 * The statements of one commit, in the order PgWriteStore.commit runs them; each writes all its
 * rows at once (unnest of arrays) and is skipped when it has none.
 */

/**
 * Locks the cursor rows of fenced partitions (creating absent ones at 0, the "absent counts
 * as 0" of the port) and checks them: a worker racing for the same partition waits here until
 * this commit ends, then finds the cursor moved and fails with CursorConflictError.
 */
export async function fence(client: PoolClient, batches: BatchEffects[]): Promise<void> {
  const partitions = fencedPartitions(batches);
  if (partitions.length === 0) return;
  const { rows } = await client.query<{ partition: number; bus_offset: number }>(
    // The no-op update is what locks an existing row and returns its value in one round trip.
    `INSERT INTO ${S}.consumer_cursors AS c (partition, bus_offset)
     SELECT partition, 0 FROM unnest($1::int[]) AS p(partition) ORDER BY partition
     ON CONFLICT (partition) DO UPDATE SET bus_offset = c.bus_offset
     RETURNING partition, bus_offset`,
    [partitions],
  );
  checkFences(batches, new Map(rows.map((row) => [row.partition, row.bus_offset])));
}

/** Each partition's new cursor, in partition order. */
export async function writeCursors(client: PoolClient, batches: BatchEffects[]): Promise<void> {
  const { partitions, offsets } = finalCursors(batches);
  if (partitions.length === 0) return;
  await client.query(
    `INSERT INTO ${S}.consumer_cursors (partition, bus_offset)
     SELECT * FROM unnest($1::int[], $2::bigint[]) AS c(partition, bus_offset) ORDER BY partition
     ON CONFLICT (partition) DO UPDATE SET bus_offset = EXCLUDED.bus_offset`,
    [partitions, offsets],
  );
}

export async function insertChunks(client: PoolClient, batches: BatchEffects[]): Promise<void> {
  const chunks = batches.flatMap((batch) => batch.chunks);
  if (chunks.length === 0) return;
  await client.query(
    `INSERT INTO ${S}.point_chunks (device_id, first_ms, last_ms, point_count, points)
     SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::int[], $5::text[])`,
    [
      chunks.map((c) => c.deviceId), chunks.map((c) => c.firstMs), chunks.map((c) => c.lastMs),
      chunks.map((c) => c.points.length), chunks.map((c) => encodeChunk(c.points)),
    ],
  );
}

/** The stored trace links of these trips, locked until the commit ends so no link is lost to a concurrent commit. */
export async function lockTraceLinks(client: PoolClient, tripIds: string[]): Promise<Map<string, string[]>> {
  if (tripIds.length === 0) return new Map();
  const { rows } = await client.query<{ trip_id: string; trace_ids: string[] }>(
    `SELECT trip_id, trace_ids FROM ${S}.trip_traces WHERE trip_id = ANY($1::text[]) ORDER BY trip_id FOR UPDATE`,
    [tripIds],
  );
  return new Map(rows.map((row) => [row.trip_id, row.trace_ids]));
}

export async function writeTraceLinks(client: PoolClient, links: Map<string, string[]>): Promise<void> {
  if (links.size === 0) return;
  await client.query(
    `INSERT INTO ${S}.trip_traces (trip_id, trace_ids)
     SELECT * FROM unnest($1::text[], $2::json[]) AS t(trip_id, trace_ids) ORDER BY trip_id
     ON CONFLICT (trip_id) DO UPDATE SET trace_ids = EXCLUDED.trace_ids`,
    [[...links.keys()], [...links.values()].map((ids) => JSON.stringify(ids))],
  );
}

/**
 * Adds each trip's changes to its version in the upsert itself (the row lock it takes makes a
 * concurrent change of the same trip wait, then add to the new version): versions count up by
 * one per change even if two processes changed one trip. Returns each trip's version after the commit.
 */
export async function upsertTrips(client: PoolClient, changes: TripChangeRow[]): Promise<Map<string, number>> {
  const trips = tripUpserts(changes);
  if (trips.length === 0) return new Map();
  const { rows } = await client.query<{ trip_id: string; version: number }>(
    `INSERT INTO ${S}.trips AS t (trip_id, tenant_id, version, doc)
     SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::json[]) AS u(trip_id, tenant_id, version, doc) ORDER BY trip_id
     ON CONFLICT (trip_id) DO UPDATE SET version = t.version + EXCLUDED.version, doc = EXCLUDED.doc
     RETURNING trip_id, version`,
    [trips.map((t) => t.tripId), trips.map((t) => t.tenantId), trips.map((t) => t.count), trips.map((t) => JSON.stringify(t.doc))],
  );
  return new Map(rows.map((row) => [row.trip_id, row.version]));
}

export async function upsertStates(client: PoolClient, states: DeviceTripState[]): Promise<void> {
  if (states.length === 0) return;
  await client.query(
    `INSERT INTO ${S}.device_states (device_id, open_trip, state, device_hash)
     SELECT * FROM unnest($1::text[], $2::boolean[], $3::json[], $4::bigint[]) AS s(device_id, open_trip, state, device_hash) ORDER BY device_id
     ON CONFLICT (device_id) DO UPDATE SET open_trip = EXCLUDED.open_trip, state = EXCLUDED.state, device_hash = EXCLUDED.device_hash`,
    [states.map((s) => s.deviceId), states.map(isActive), states.map((s) => JSON.stringify(s)), states.map((s) => deviceHash(s.deviceId))],
  );
}

/**
 * Readers tail the outboxes by `seq > cursor`. A sequence alone would let a commit holding a
 * lower seq become visible after a reader moved past a higher one, and that row would be
 * skipped for good. So a commit takes one advisory lock before it draws its first seq and keeps
 * it until it has committed: seqs are drawn and made visible in the same order, and a reader
 * that sees a seq sees every lower one. Only commits that write feed rows take it, as their
 * last step (all their row locks are already held, so the holder never waits on another commit).
 */
export async function appendToFeeds(client: PoolClient, changes: TripChangeRow[], versions: Map<string, number>, alerts: Alert[], writtenAtMs: number): Promise<void> {
  if (changes.length === 0 && alerts.length === 0) return;
  await client.query('SELECT pg_advisory_xact_lock($1)', [FEEDS_LOCK_KEY]);
  if (changes.length > 0) {
    // The k-th of a trip's n changes in this commit is version (final - n + k).
    const remaining = new Map(tripUpserts(changes).map((t) => [t.tripId, t.count]));
    const changeVersions = changes.map(({ tripId }) => {
      const left = remaining.get(tripId)!;
      remaining.set(tripId, left - 1);
      return versions.get(tripId)! - left + 1;
    });
    await client.query(
      `INSERT INTO ${S}.trip_outbox (trip_id, version, written_at_ms, doc, traceparents)
       SELECT trip_id, version, $5::bigint, doc, traceparents
       FROM unnest($1::text[], $2::bigint[], $3::json[], $4::json[]) WITH ORDINALITY AS o(trip_id, version, doc, traceparents, n) ORDER BY n`,
      [
        changes.map((c) => c.tripId), changeVersions, changes.map((c) => JSON.stringify(c.doc)),
        changes.map((c) => (c.traceparents ? JSON.stringify(c.traceparents) : null)), writtenAtMs,
      ],
    );
  }
  if (alerts.length > 0) {
    await client.query(
      `INSERT INTO ${S}.alert_outbox (alert_id, tenant_id, written_at_ms, doc)
       SELECT alert_id, tenant_id, $4::bigint, doc
       FROM unnest($1::text[], $2::text[], $3::json[]) WITH ORDINALITY AS a(alert_id, tenant_id, doc, n) ORDER BY n
       ON CONFLICT (alert_id) DO NOTHING`,
      [alerts.map((a) => a.alertId), alerts.map((a) => a.tenantId), alerts.map((a) => JSON.stringify(a)), writtenAtMs],
    );
  }
}
