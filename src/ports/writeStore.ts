import type { Alert } from '../domain/alerts/alert.js';
import type { TelemetryPoint } from '../domain/point.js';
import type { TripSummary } from '../domain/trip.js';
import type { DeviceTripState } from '../domain/tripSegmenter.js';

/** One device's points from one consumed batch: the unit of storage (not one row per point). */
export interface PointChunk {
  deviceId: string;
  firstMs: number;
  lastMs: number;
  points: TelemetryPoint[];
}

/** Everything one consumed batch changes; written in one transaction with the bus cursor. */
export interface BatchEffects {
  partition: number;
  /** The last bus offset this batch consumed. */
  offset: number;
  /**
   * The partition's cursor the batch was read after. When given, the store commits only if the
   * partition's stored cursor is still exactly this (absent counts as 0) and otherwise throws
   * CursorConflictError, rolling back the whole commit: a worker that lost its partition lease
   * to another can never write over the new owner's progress.
   */
  fromOffset?: number;
  chunks: PointChunk[];
  trips: TripSummary[];
  states: DeviceTripState[];
  /** Alerts raised by this batch: written with it (an outbox), so none is lost or doubled by a crash and replay. */
  alerts: Alert[];
  /**
   * Per trip, the W3C traceparents of this batch's messages that changed it or added points to
   * it: the trip keeps their trace ids (`traceIds`), and the outbox row of a changed trip carries
   * them on to sync.
   */
  tripTraces?: Record<string, string[]>;
}

/** Another consumer moved the partition's cursor: this worker no longer owns the partition. */
export class CursorConflictError extends Error {
  constructor(readonly partition: number, readonly expected: number, readonly actual: number) {
    super(`partition ${partition}: cursor is ${actual}, expected ${expected}; another worker owns it`);
    this.name = 'CursorConflictError';
  }
}

/** A row of the alert outbox the dispatcher tails. */
export interface AlertRow {
  seq: number;
  writtenAtMs: number;
  alert: Alert;
}

/** A row of the transactional outbox: the trip document after its `version`-th change. */
export interface TripChange {
  seq: number;
  tripId: string;
  version: number;
  writtenAtMs: number;
  trip: TripSummary;
  /** Trace contexts of the messages behind this change (none for rows written before tracing). */
  traceparents?: string[];
}

export interface WriteStore {
  cursors(): Promise<Map<number, number>>;
  loadStates(deviceIds: string[]): Promise<Map<string, DeviceTripState>>;
  /**
   * The device states that need watching (isActive: an open trip or held points) of the devices
   * in `partitions` (by `partitionOf` over `partitionCount`), for a worker that starts or takes
   * partitions over: it reads its own devices' states, not the whole cluster's.
   */
  activeStates(partitions: readonly number[], partitionCount: number): Promise<DeviceTripState[]>;
  /** Writes the effects of one or more partitions' batches, with their offsets, in one transaction. */
  commit(batches: BatchEffects[]): Promise<void>;
  trip(tenantId: string, tripId: string): Promise<TripSummary | null>;
  points(deviceId: string, fromMs: number, toMs: number): Promise<TelemetryPoint[]>;
  counts(): Promise<{ trips: number; chunks: number; points: number }>;
  /** How many trips there are (cheaper than `counts()`, which also sums the points). */
  tripCount(): Promise<number>;
  /**
   * Up to `limit` trips with their current version, in trip id order, starting after
   * `afterTripId` ('' for the first page): keyset paging over every trip, to rebuild the search store.
   */
  tripsAfter(afterTripId: string, limit: number): Promise<Array<{ version: number; trip: TripSummary }>>;
  close(): Promise<void>;
}

/** The alert outbox: alerts in commit order; an alert id appears once however often its batch is replayed. */
export interface AlertFeed {
  alertsAfter(seq: number, limit: number): Promise<AlertRow[]>;
  /** The outbox position of an alert id, or null (for resuming a stream after it). */
  alertSeq(alertId: string): Promise<number | null>;
  alertsHead(): Promise<number>;
  /** Deletes alerts at or before `upToSeq` written before `beforeMs`; returns how many. */
  pruneAlerts(upToSeq: number, beforeMs: number): Promise<number>;
}

/** The change feed (outbox) that sync tails. */
export interface ChangeFeed {
  readAfter(seq: number, limit: number): Promise<TripChange[]>;
  head(): Promise<{ seq: number; writtenAtMs: number }>;
}
