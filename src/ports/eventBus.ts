import type { TelemetryPoint } from '../domain/point.js';

/** Points of one device message, as ingest accepted them. */
export interface PointsMessage {
  kind: 'points';
  deviceId: string;
  vehicleId: string;
  tenantId: string;
  driverId?: string;
  policyId?: string;
  receivedAtMs: number;
  points: TelemetryPoint[];
}

/** Scheduled by the live-trip watchdog: the device has sent nothing since the message received at `lastMessageAtMs`. */
export interface SilenceMessage {
  kind: 'silence';
  deviceId: string;
  lastMessageAtMs: number;
}

/**
 * Appended by a worker when a point the device's state holds has waited long enough (see
 * nextWaitEndMs) and the device sent nothing since: the device's clock moves on to `atMs`, in
 * order with its messages, so a replay releases the same points at the same place.
 */
export interface TickMessage {
  kind: 'tick';
  deviceId: string;
  atMs: number;
}

export type BusMessage = PointsMessage | SilenceMessage | TickMessage;

/** Metadata beside a message, such as its W3C trace context (`traceparent`, `tracestate`). */
export type BusHeaders = Record<string, string>;

export interface BusRecord {
  partition: number;
  offset: number;
  message: BusMessage;
  /** Empty for messages appended without headers (and for those written before headers existed). */
  headers: BusHeaders;
}

/**
 * An ordered, durable log keyed by device: one device always lands in the same partition,
 * so its messages are consumed in order; partitions are consumed independently.
 */
export interface EventBus {
  readonly partitionCount: number;
  /** Resolves once every message is durable. `headers` go with every message of the call. */
  append(messages: BusMessage[], headers?: BusHeaders): Promise<void>;
  read(partition: number, afterOffset: number, limit: number): Promise<BusRecord[]>;
  /** The offset of the newest message, over all partitions (offsets grow across partitions). */
  head(): Promise<number>;
  /**
   * When the oldest message past its partition's position was appended (epoch ms), over the
   * partitions in `positions` only (a worker asks about its own), or null when none waits.
   */
  oldestUnconsumedAtMs(positions: ReadonlyMap<number, number>): Promise<number | null>;
  /** Drops messages every consumer is past and that are older than the retention. */
  prune(cursors: ReadonlyMap<number, number>): Promise<number>;
  onAppend(listener: () => void): void;
  close(): Promise<void>;
}

/** Spreads devices over partitions, stable across processes and restarts. */
export function partitionOf(deviceId: string, partitionCount: number): number {
  return deviceHash(deviceId) % partitionCount;
}

/**
 * The 32-bit FNV-1a hash of a device id (over UTF-16 code units) that `partitionOf` takes
 * modulo the partition count; stores keep it to find a partition's devices for any count.
 */
export function deviceHash(deviceId: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < deviceId.length; i++) {
    hash ^= deviceId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
