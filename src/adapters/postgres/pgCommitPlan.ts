import type { Alert } from '../../domain/alerts/alert.js';
import type { TripSummary } from '../../domain/trip.js';
import type { DeviceTripState } from '../../domain/tripSegmenter.js';
import { CursorConflictError, type BatchEffects } from '../../ports/writeStore.js';
import { linkTraces, syncTraces } from '../tripTraceLinks.js';

/**
 * The rows one commit writes, worked out in memory so each table takes one multi-row
 * statement. Batches apply in order, as if written one after another: what a later batch
 * writes to the same row wins, and a trip changed n times gets n versions and n outbox rows.
 */

/** Partitions whose stored cursor must be checked (and locked). */
export function fencedPartitions(batches: readonly BatchEffects[]): number[] {
  return [...new Set(batches.filter((b) => b.fromOffset !== undefined).map((b) => b.partition))];
}

/** Throws CursorConflictError unless every batch's fromOffset is the cursor it would find. */
export function checkFences(batches: readonly BatchEffects[], stored: ReadonlyMap<number, number>): void {
  const cursors = new Map(stored);
  for (const batch of batches) {
    const current = cursors.get(batch.partition) ?? 0;
    if (batch.fromOffset !== undefined && batch.fromOffset !== current) throw new CursorConflictError(batch.partition, batch.fromOffset, current);
    cursors.set(batch.partition, batch.offset);
  }
}

/** Each partition's cursor after the commit. */
export function finalCursors(batches: readonly BatchEffects[]): { partitions: number[]; offsets: number[] } {
  const last = new Map<number, number>();
  for (const batch of batches) last.set(batch.partition, batch.offset);
  return { partitions: [...last.keys()], offsets: [...last.values()] };
}

/** The newest checkpoint of each device. */
export function latestStates(batches: readonly BatchEffects[]): DeviceTripState[] {
  const latest = new Map<string, DeviceTripState>();
  for (const batch of batches) for (const state of batch.states) latest.set(state.deviceId, state);
  return [...latest.values()];
}

/** Alerts in raise order, each id once (the first wins, as a replay would find it stored). */
export function uniqueAlerts(batches: readonly BatchEffects[]): Alert[] {
  const seen = new Map<string, Alert>();
  for (const batch of batches) for (const alert of batch.alerts) if (!seen.has(alert.alertId)) seen.set(alert.alertId, alert);
  return [...seen.values()];
}

/** Trips whose stored trace links the commit needs: those it links traces to or changes. */
export function tracedTripIds(batches: readonly BatchEffects[]): string[] {
  const ids = new Set<string>();
  for (const batch of batches) {
    for (const tripId of Object.keys(batch.tripTraces ?? {})) ids.add(tripId);
    for (const trip of batch.trips) ids.add(trip.tripId);
  }
  return [...ids];
}

export interface TripChangeRow {
  tripId: string;
  /** The document as the outbox and the trip row carry it (with its trace ids). */
  doc: TripSummary;
  traceparents: string[] | null;
}

export interface TripChangesPlan {
  /** New trace links per trip (only trips whose links changed). */
  links: Map<string, string[]>;
  /** One row per change, in commit order. */
  changes: TripChangeRow[];
}

/** Applies the batches' trace links and trip changes to the stored links (`known`), in order. */
export function planTripChanges(batches: readonly BatchEffects[], known: ReadonlyMap<string, string[]>): TripChangesPlan {
  const current = new Map(known);
  const links = new Map<string, string[]>();
  const changes: TripChangeRow[] = [];
  for (const batch of batches) {
    // Trace links first (also of open trips whose summary did not change): the documents below include them.
    for (const [tripId, traceparents] of Object.entries(batch.tripTraces ?? {})) {
      const traceIds = linkTraces(current.get(tripId) ?? [], traceparents);
      current.set(tripId, traceIds);
      links.set(tripId, traceIds);
    }
    for (const trip of batch.trips) {
      const traceIds = current.get(trip.tripId) ?? [];
      const traceparents = batch.tripTraces?.[trip.tripId];
      changes.push({
        tripId: trip.tripId,
        doc: traceIds.length > 0 ? { ...trip, traceIds } : trip,
        traceparents: traceparents ? syncTraces(traceparents) : null,
      });
    }
  }
  return { links, changes };
}

/** Per trip, how many changes the commit makes and its last document. */
export function tripUpserts(changes: readonly TripChangeRow[]): Array<{ tripId: string; tenantId: string; count: number; doc: TripSummary }> {
  const byTrip = new Map<string, { tripId: string; tenantId: string; count: number; doc: TripSummary }>();
  for (const { tripId, doc } of changes) {
    const entry = byTrip.get(tripId);
    if (entry) {
      entry.count++;
      entry.doc = doc;
    } else {
      byTrip.set(tripId, { tripId, tenantId: doc.tenantId, count: 1, doc });
    }
  }
  return [...byTrip.values()];
}
