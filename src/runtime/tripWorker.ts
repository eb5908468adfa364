import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { PipelineConfig } from '../domain/pipelineConfig.js';
import type { TripContext } from '../domain/tripContext.js';
import { isActive, type DeviceTripState } from '../domain/tripSegmenter.js';
import { nextWaitEndMs } from '../domain/cleaning/cleanPoints.js';
import type { Alert } from '../domain/alerts/alert.js';
import { processBatch, type ProcessOutcome } from '../functions/processTrip.js';
import { partitionOf, type BusRecord, type EventBus } from '../ports/eventBus.js';
import { CursorConflictError, type WriteStore } from '../ports/writeStore.js';
import type { Metrics } from './metrics.js';
import { contextFromHeaders, headersOf, isSampled, otelContext, TENANT_ATTRIBUTE, trace, type Tracing } from './tracing.js';
import { BackgroundLoop } from './backgroundLoop.js';
import { ROOT_CONTEXT, type Span } from '@opentelemetry/api';

export interface TripWorkerOptions {
  bus: EventBus;
  store: WriteStore;
  config: PipelineConfig;
  context: TripContext;
  metrics: Metrics;
  logger: Logger;
  /** Bus messages taken from one partition per transaction. */
  batchSize: number;
  onCommitted: () => void;
  /** Alerts were committed to the alert outbox (with their batch): the dispatcher should look now. */
  onAlertsCommitted: () => void;
  tracing?: Tracing;
  /**
   * The partitions this worker may consume now (cluster mode: those it holds a lease on); all
   * when absent. Call `ownershipChanged` when they change.
   */
  ownedPartitions?: () => Iterable<number>;
}

/**
 * Consumes every partition of the bus in turn: a partition's batch is processed and its
 * effects committed together with the partition's new offset, so one device's points are
 * handled in order, and a crash replays from the last committed offset to the same result.
 */
export class TripWorker extends BackgroundLoop {
  private cursors = new Map<number, number>();
  /** The worker is the only writer of device states, so its cache stays true; it is filled from the store on a miss. */
  private readonly states = new Map<string, DeviceTripState>();
  /** Of the cached states: how many have an open trip, and when each device's held points stop waiting (see `cache`). */
  private openTrips = 0;
  private readonly waitEndsMs = new Map<string, number>();
  private startedAtMs = Date.now();
  /** Per partition, the bus head at the last read that found nothing newer: empty partitions are not "behind". */
  private caughtUpTo = new Map<number, number>();
  /** Partitions whose last read found nothing new. */
  private readonly drained = new Set<number>();
  /** The bus head as `backlog` last saw it. */
  private knownHead = 0;
  /** Partitions whose cursor and states are being read from the store. */
  private readonly reloading = new Set<number>();
  /**
   * Per partition, how many times it was forgotten. A pass or a reload applies what it read only
   * if this has not moved meanwhile: otherwise a reload racing a commit could cache states older
   * than the commit's (the next commit, fenced on the cursor, would then build on them).
   */
  private readonly generations = new Map<number, number>();

  constructor(private readonly options: TripWorkerOptions) {
    super();
    options.bus.onAppend(() => this.kick());
  }

  async start(): Promise<void> {
    this.startedAtMs = Date.now();
    this.knownHead = await this.options.bus.head();
    await this.reload(new Set(this.owned()));
    this.startLoop();
  }

  /**
   * Partitions gained start from the write store's cursor and states (another worker may have
   * moved them on); what this worker knew of partitions lost is forgotten.
   */
  async ownershipChanged(gained: readonly number[], lost: readonly number[]): Promise<void> {
    this.forget(new Set(lost));
    if (gained.length > 0) await this.reload(new Set(gained));
    this.options.metrics.activeTrips.set(this.openTrips);
    this.kick();
  }

  private owned(): Iterable<number> {
    if (this.options.ownedPartitions) return this.options.ownedPartitions();
    return Array.from({ length: this.options.bus.partitionCount }, (_, partition) => partition);
  }

  private async reload(partitions: ReadonlySet<number>): Promise<void> {
    this.forget(partitions);
    const generations = this.generationsOf(partitions);
    for (const partition of partitions) this.reloading.add(partition);
    try {
      // The cursors first, then the states, not both at once: a pass committing in between leaves
      // an old cursor with new states, which its next commit's fence refuses; the other way round
      // (new cursor, old states) would pass the fence and build on stale states.
      const cursors = await this.options.store.cursors();
      const states = await this.options.store.activeStates([...partitions], this.options.bus.partitionCount);
      // Lost, or forgotten by a newer reload or a cursor conflict, while these were read: not ours to keep.
      const current = this.unchanged(generations);
      for (const [partition, offset] of cursors) if (current.has(partition)) this.cursors.set(partition, offset);
      for (const state of states) if (current.has(this.partitionOf(state.deviceId))) this.cache(state);
    } finally {
      for (const partition of partitions) if (generations.get(partition) === this.generation(partition)) this.reloading.delete(partition);
    }
  }

  private partitionOf(deviceId: string): number {
    return partitionOf(deviceId, this.options.bus.partitionCount);
  }

  private generation(partition: number): number {
    return this.generations.get(partition) ?? 0;
  }

  private generationsOf(partitions: Iterable<number>): Map<number, number> {
    return new Map([...partitions].map((partition) => [partition, this.generation(partition)]));
  }

  /** Of partitions seen at `generations`, those still owned and not forgotten since. */
  private unchanged(generations: ReadonlyMap<number, number>): Set<number> {
    const owned = new Set(this.owned());
    return new Set([...generations].filter(([partition, generation]) => owned.has(partition) && this.generation(partition) === generation).map(([partition]) => partition));
  }

  private forget(partitions: ReadonlySet<number>): void {
    if (partitions.size === 0) return;
    for (const partition of partitions) {
      this.generations.set(partition, this.generation(partition) + 1);
      this.cursors.delete(partition);
      this.caughtUpTo.delete(partition);
      this.drained.delete(partition);
    }
    for (const deviceId of this.states.keys()) {
      if (partitions.has(this.partitionOf(deviceId))) this.uncache(deviceId);
    }
  }

  /**
   * Messages that may still wait in this worker's partitions, an upper bound that needs no scan:
   * newest offset minus the slowest partition's position.
   */
  async backlog(): Promise<number> {
    const head = await this.options.bus.head();
    this.knownHead = Math.max(this.knownHead, head);
    return head - Math.min(head, ...this.positions().values());
  }

  /** How long the oldest message waiting in this worker's partitions has waited (0 when none waits). */
  async busLagMs(): Promise<number> {
    const oldestMs = await this.options.bus.oldestUnconsumedAtMs(this.positions());
    return oldestMs === null ? 0 : Math.max(0, Date.now() - oldestMs);
  }

  /**
   * How far each owned partition is read: its cursor, or further, the head before its last read
   * that found nothing newer (an idle partition is not behind). Partitions being reloaded are
   * left out until their cursor is known, rather than counted from offset 0.
   */
  private positions(): Map<number, number> {
    const positions = new Map<number, number>();
    for (const partition of this.owned()) {
      if (this.reloading.has(partition)) continue;
      positions.set(partition, Math.max(this.cursors.get(partition) ?? 0, this.caughtUpTo.get(partition) ?? 0));
    }
    return positions;
  }

  committedCursors(): ReadonlyMap<number, number> {
    return this.cursors;
  }

  /**
   * Devices with an open trip or held points, with when their last message was received and when
   * they were last heard from: a restart counts as hearing from everyone, so downtime closes no trip.
   */
  *activeDevices(): Iterable<{ deviceId: string; lastMessageAtMs: number; lastSeenWallMs: number }> {
    for (const [deviceId, state] of this.states) {
      if (state.lastMessageAtMs === null) continue;
      yield { deviceId, lastMessageAtMs: state.lastMessageAtMs, lastSeenWallMs: Math.max(state.lastMessageAtMs, this.startedAtMs) };
    }
  }

  /**
   * Devices whose held points a tick would release, with when (receipt time); only in partitions
   * read to their end, so no tick is appended for a state the worker is still catching up on.
   */
  *waitEnds(): Iterable<{ deviceId: string; endMs: number }> {
    for (const [deviceId, endMs] of this.waitEndsMs) {
      if (this.drained.has(this.partitionOf(deviceId))) yield { deviceId, endMs };
    }
  }

  protected async run(): Promise<void> {
    while (this.running) {
      let processed = 0;
      try {
        processed = await this.pass();
      } catch (error) {
        // Nothing of this pass was committed: it is read again on the next one.
        if (error instanceof CursorConflictError) {
          // Another worker took the partition over (our lease lapsed): start again from the store.
          this.options.logger.warn({ partition: error.partition }, 'partition moved on without this worker; reloading');
          // Only that partition: the failed commit changed nothing this worker knows of the others.
          const moved = new Set([error.partition]);
          if ([...this.owned()].includes(error.partition)) await this.reload(moved).catch(() => undefined);
          else this.forget(moved);
          continue;
        }
        this.options.metrics.workerErrors.inc();
        this.options.logger.error({ err: error }, 'trip worker pass failed; will retry');
        await sleep(500);
      }
      if (processed === 0 && this.running) await this.waker.sleep(200);
    }
  }

  /**
   * Takes the next batch of every partition and commits all their effects and offsets in one
   * transaction: one fsync per pass rather than one per partition, which matters on a light
   * load of many devices, where each batch holds only a message or two.
   */
  private async pass(): Promise<number> {
    const { bus, store, config, context, metrics, batchSize } = this.options;
    const started = performance.now();
    // Asked by `backlog`, not here: in cluster mode a head is a request to the server, and a
    // partition that finds nothing is caught up at least to a head taken before its read.
    const head = this.knownHead;
    const outcomes: ProcessOutcome[] = [];
    const receivedAtMs: number[] = [];
    const spans: TracedMessage[] = [];
    let consumedPoints = 0;
    let processed = 0;
    // Being reloaded after a lease move: its cursor is not known yet (reading from 0 would redo it all).
    const partitions = [...this.owned()].filter((partition) => !this.reloading.has(partition));
    const generations = this.generationsOf(partitions);
    // All at once: in cluster mode each read is a round trip to NATS, and one after another they
    // were half of a pass under load.
    const fromOffsets = partitions.map((partition) => this.cursors.get(partition) ?? 0);
    const reads = await Promise.all(partitions.map((partition, i) => bus.read(partition, fromOffsets[i]!, batchSize)));
    for (const [i, partition] of partitions.entries()) {
      const fromOffset = fromOffsets[i]!;
      let records = reads[i]!;
      if (records.length === 0) {
        this.caughtUpTo.set(partition, head);
        this.drained.add(partition);
        continue;
      }
      this.drained.delete(partition);
      if (this.options.tracing) records = this.traceRecords(this.options.tracing, records, spans);
      // Devices never span partitions, so each batch sees the states the previous ones left.
      const outcome = processBatch(records, await this.statesOf(records.map((record) => record.message.deviceId)), config, context);
      outcomes.push({ ...outcome, effects: { ...outcome.effects, fromOffset } });
      processed += records.length;
      for (const { message } of records) {
        if (message.kind !== 'points') continue;
        receivedAtMs.push(message.receivedAtMs);
        consumedPoints += message.points.length;
      }
    }
    if (outcomes.length === 0) return 0;
    const commitSpans = this.options.tracing && spans.length > 0 ? this.startCommitSpans(this.options.tracing, spans, outcomes) : [];
    const commitStarted = performance.now();
    try {
      await store.commit(outcomes.map((outcome) => outcome.effects));
      metrics.stageSeconds.observe({ stage: 'commit' }, (performance.now() - commitStarted) / 1000);
    } catch (error) {
      for (const span of [...commitSpans, ...spans.map((traced) => traced.span)]) {
        span.setStatus({ code: 2, message: error instanceof Error ? error.message : String(error) });
        span.end();
      }
      throw error;
    }
    for (const span of commitSpans) span.end();
    for (const { span } of spans) span.end();

    const now = Date.now();
    let tripChanges = 0;
    let alerts = 0;
    // A partition lost during this pass was committed (nobody had moved it on), but is no longer
    // this worker's to remember: its new owner reloads it from the store. One forgotten (and maybe
    // reloading) meanwhile is left to the reload: the next commit's cursor fence catches a stale one.
    const current = this.unchanged(generations);
    for (const { effects, filtered, enrichmentFailures, pointsAccepted } of outcomes) {
      if (current.has(effects.partition)) {
        this.cursors.set(effects.partition, effects.offset);
        for (const state of effects.states) {
          this.cache(state);
        }
      }
      metrics.pointsStored.inc(pointsAccepted);
      for (const [reason, n] of Object.entries(filtered)) metrics.pointsFiltered.inc({ reason }, n);
      for (const [enricher, n] of Object.entries(enrichmentFailures)) metrics.enrichmentFailures.inc({ enricher }, n);
      for (const alert of effects.alerts) metrics.alertsRaised.inc({ type: alert.type });
      alerts += effects.alerts.length;
      this.markRaised(effects.alerts);
      tripChanges += effects.trips.length;
    }
    metrics.tripsChanged.inc(tripChanges);
    metrics.pointsConsumed.inc(consumedPoints);
    for (const received of receivedAtMs) metrics.ingestToStoredSeconds.observe((now - received) / 1000);
    metrics.stageSeconds.observe({ stage: 'trip_worker' }, (performance.now() - started) / 1000);
    metrics.activeTrips.set(this.openTrips);
    if (alerts > 0) this.options.onAlertsCommitted();
    if (tripChanges > 0) this.options.onCommitted();
    return processed;
  }

  /**
   * A committed alert of a traced message gets an `alert.raise` span in that message's trace
   * (the alert row keeps the context, so its deliveries can continue it), and a log line in it.
   */
  private markRaised(alerts: readonly Alert[]): void {
    for (const alert of alerts) {
      const parent = this.options.tracing && alert.traceparent ? contextFromHeaders({ traceparent: alert.traceparent }) : undefined;
      if (!this.options.tracing || !parent || !isSampled(parent)) {
        this.options.logger.warn({ alert }, 'alert raised');
        continue;
      }
      const span = this.options.tracing.start('alert.raise', parent, {
        [TENANT_ATTRIBUTE]: alert.tenantId,
        'tripline.device_id': alert.deviceId,
        'tripline.alert_type': alert.type,
        ...(alert.tripId ? { 'tripline.trip_id': alert.tripId } : {}),
      });
      try {
        otelContext.with(trace.setSpan(parent, span), () => this.options.logger.warn({ alert }, 'alert raised'));
      } finally {
        span.end();
      }
    }
  }

  /**
   * One `worker.process` span per traced message, in the message's own trace (a pass covers
   * many messages of many traces, so there is no batch span); the records handed on carry the
   * span's context instead of the bus append's, so what they change links to it.
   */
  private traceRecords(tracing: Tracing, records: BusRecord[], spans: TracedMessage[]): BusRecord[] {
    return records.map((record) => {
      const parent = contextFromHeaders(record.headers);
      if (!isSampled(parent)) return record;
      const message = record.message;
      const tenantId = message.kind === 'points' ? message.tenantId : '';
      const span = tracing.start('worker.process', parent, {
        [TENANT_ATTRIBUTE]: tenantId,
        'tripline.device_id': message.deviceId,
        'messaging.operation.type': 'process',
        'tripline.bus.partition': record.partition,
        'tripline.bus.offset': record.offset,
        'tripline.batch_size': records.length,
      });
      spans.push({ span, tenantId });
      return { ...record, headers: headersOf(span) };
    });
  }

  /** A `writeStore.commit` span under each message's worker span; trips changed by the message then carry the commit's context to sync. */
  private startCommitSpans(tracing: Tracing, spans: TracedMessage[], outcomes: ProcessOutcome[]): Span[] {
    const bySpanId = new Map<string, string>();
    const commitSpans = spans.map(({ span: parent, tenantId }) => {
      const span = tracing.start('writeStore.commit', trace.setSpan(ROOT_CONTEXT, parent), {
        [TENANT_ATTRIBUTE]: tenantId,
        'db.system.name': tracing.dbSystem,
        'db.operation.name': 'commit',
      });
      const traceparent = headersOf(span).traceparent;
      if (traceparent) bySpanId.set(parent.spanContext().spanId, traceparent);
      return span;
    });
    for (const { effects } of outcomes) {
      if (!effects.tripTraces) continue;
      for (const traceparents of Object.values(effects.tripTraces)) {
        for (let i = 0; i < traceparents.length; i++) {
          const spanId = traceparents[i]!.split('-')[2];
          const replacement = spanId ? bySpanId.get(spanId) : undefined;
          if (replacement) traceparents[i] = replacement;
        }
      }
    }
    return commitSpans;
  }

  /**
   * Keeps a device's state in memory while it is active (isActive), so memory follows the trips
   * driving now; with it the open trip count and when its held points stop waiting, so that
   * neither needs a scan of every cached state.
   */
  private cache(state: DeviceTripState): void {
    this.uncache(state.deviceId);
    if (!isActive(state)) return;
    this.states.set(state.deviceId, state);
    if (state.trip) this.openTrips++;
    const endMs = nextWaitEndMs(state.cleaning, this.options.config.cleaning);
    if (endMs !== null) this.waitEndsMs.set(state.deviceId, endMs);
  }

  private uncache(deviceId: string): void {
    const known = this.states.get(deviceId);
    if (!known) return;
    this.states.delete(deviceId);
    if (known.trip) this.openTrips--;
    this.waitEndsMs.delete(deviceId);
  }

  private async statesOf(deviceIds: string[]): Promise<Map<string, DeviceTripState>> {
    const wanted = new Set(deviceIds);
    const missing = [...wanted].filter((id) => !this.states.has(id));
    const states = new Map<string, DeviceTripState>();
    // Like the states a commit leaves, only active devices stay cached; and only while their
    // partition is still this worker's (it may have been lost while the states were loading).
    if (missing.length > 0) {
      const loaded = await this.options.store.loadStates(missing);
      const owned = new Set(this.owned());
      for (const [id, state] of loaded) {
        states.set(id, state);
        const partition = this.partitionOf(id);
        if (owned.has(partition) && !this.reloading.has(partition)) this.cache(state);
      }
    }
    for (const id of wanted) {
      const state = this.states.get(id);
      if (state) states.set(id, state);
    }
    return states;
  }

}

interface TracedMessage {
  span: Span;
  tenantId: string;
}
