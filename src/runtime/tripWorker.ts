import type { Logger } from 'pino';
import type { TripConfig } from '../domain/tripConfig.js';
import type { DeviceTripState } from '../domain/tripSegmenter.js';
import { processBatch } from '../functions/processTrip.js';
import type { EventBus } from '../ports/eventBus.js';
import type { WriteStore } from '../ports/writeStore.js';
import type { Metrics } from './metrics.js';
import { Waker } from './waker.js';

export interface TripWorkerOptions {
  bus: EventBus;
  store: WriteStore;
  config: TripConfig;
  metrics: Metrics;
  logger: Logger;
  /** Bus messages taken from one partition per transaction. */
  batchSize: number;
  onCommitted: () => void;
}

/**
 * Consumes every partition of the bus in turn: a partition's batch is processed and its
 * effects committed together with the partition's new offset, so one device's points are
 * handled in order, and a crash replays from the last committed offset to the same result.
 */
export class TripWorker {
  private cursors = new Map<number, number>();
  /** The worker is the only writer of device states, so its cache stays true; it is filled from the store on a miss. */
  private readonly states = new Map<string, DeviceTripState>();
  /** When each device with an open trip last sent a message, by the wall clock: what the live-trip watchdog reads. */
  private readonly lastSeenWallMs = new Map<string, number>();
  /** Per partition, the bus head at the last read that found nothing newer: empty partitions are not "behind". */
  private caughtUpTo = new Map<number, number>();
  private running = false;
  private readonly waker = new Waker();
  private loop: Promise<void> | null = null;

  constructor(private readonly options: TripWorkerOptions) {
    options.bus.onAppend(() => this.waker.wake());
  }

  async start(): Promise<void> {
    this.cursors = await this.options.store.cursors();
    const now = Date.now();
    for (const state of await this.options.store.openTripStates()) {
      this.states.set(state.deviceId, state);
      this.lastSeenWallMs.set(state.deviceId, now);
    }
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.waker.wake();
    await this.loop;
  }

  /** Messages that may still wait, an upper bound that needs no scan: newest offset minus the slowest partition's position. */
  async backlog(): Promise<number> {
    const head = await this.options.bus.head();
    let slowest = head;
    for (let partition = 0; partition < this.options.bus.partitionCount; partition++) {
      const position = Math.max(this.cursors.get(partition) ?? 0, this.caughtUpTo.get(partition) ?? 0);
      slowest = Math.min(slowest, position);
    }
    return head - slowest;
  }

  committedCursors(): ReadonlyMap<number, number> {
    return this.cursors;
  }

  /** Devices whose trip is open, with their last point time and when they were last heard from. */
  *openTrips(): Iterable<{ deviceId: string; lastPointMs: number; lastSeenWallMs: number }> {
    for (const [deviceId, lastSeenWallMs] of this.lastSeenWallMs) {
      const lastPointMs = this.states.get(deviceId)?.lastPointMs;
      if (lastPointMs != null) yield { deviceId, lastPointMs, lastSeenWallMs };
    }
  }

  private async run(): Promise<void> {
    const { bus, logger } = this.options;
    while (this.running) {
      let processed = 0;
      for (let partition = 0; partition < bus.partitionCount && this.running; partition++) {
        try {
          processed += await this.consume(partition);
        } catch (error) {
          // Nothing was committed for this batch: it is read again on the next pass.
          this.options.metrics.workerErrors.inc();
          logger.error({ err: error, partition }, 'trip worker batch failed; will retry');
          await sleep(500);
        }
      }
      if (processed === 0 && this.running) await this.waker.sleep(200);
    }
  }

  private async consume(partition: number): Promise<number> {
    const { bus, store, config, metrics, batchSize } = this.options;
    const head = await bus.head();
    const after = this.cursors.get(partition) ?? 0;
    const records = await bus.read(partition, after, batchSize);
    if (records.length === 0) {
      this.caughtUpTo.set(partition, head);
      return 0;
    }
    const started = performance.now();
    const states = await this.statesOf(records.map((record) => record.message.deviceId));
    const outcome = processBatch(records, states, config);
    await store.commit(outcome.effects);
    this.cursors.set(partition, outcome.effects.offset);
    const now = Date.now();
    for (const state of outcome.effects.states) {
      this.states.set(state.deviceId, state);
      if (state.trip) this.lastSeenWallMs.set(state.deviceId, now);
      else this.lastSeenWallMs.delete(state.deviceId);
    }
    metrics.pointsStored.inc(outcome.pointsAccepted);
    metrics.pointsDropped.inc({ reason: 'duplicate' }, outcome.dropped.duplicate);
    metrics.pointsDropped.inc({ reason: 'out_of_order' }, outcome.dropped.out_of_order);
    metrics.tripsChanged.inc(outcome.effects.trips.length);
    metrics.stageSeconds.observe({ stage: 'trip_worker' }, (performance.now() - started) / 1000);
    metrics.activeTrips.set(this.lastSeenWallMs.size);
    for (const record of records) {
      if (record.message.kind === 'points') metrics.ingestToStoredSeconds.observe((now - record.message.receivedAtMs) / 1000);
    }
    if (outcome.effects.trips.length > 0) this.options.onCommitted();
    return records.length;
  }

  private async statesOf(deviceIds: string[]): Promise<Map<string, DeviceTripState>> {
    const wanted = new Set(deviceIds);
    const missing = [...wanted].filter((id) => !this.states.has(id));
    if (missing.length > 0) for (const [id, state] of await this.options.store.loadStates(missing)) this.states.set(id, state);
    const states = new Map<string, DeviceTripState>();
    for (const id of wanted) {
      const state = this.states.get(id);
      if (state) states.set(id, state);
    }
    return states;
  }

}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
