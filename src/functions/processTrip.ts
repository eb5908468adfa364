import type { Alert } from '../domain/alerts/alert.js';
import type { DrivingEvent } from '../domain/events/drivingEvent.js';
import type { CleaningReason } from '../domain/cleaning/cleanPoints.js';
import { onPoints, onSilence, onTick, type StreamStep } from '../domain/deviceStream.js';
import type { PipelineConfig } from '../domain/pipelineConfig.js';
import type { TripSummary } from '../domain/trip.js';
import type { Enricher, TripContext } from '../domain/tripContext.js';
import { initialState, type DeviceTripState } from '../domain/tripSegmenter.js';
import type { BusRecord } from '../ports/eventBus.js';
import type { BatchEffects, PointChunk } from '../ports/writeStore.js';

export interface ProcessOutcome {
  effects: BatchEffects;
  /** Points filtered out by cleaning, by reason: counted, never stored, never scored. */
  filtered: Partial<Record<CleaningReason, number>>;
  enrichmentFailures: Partial<Record<Enricher, number>>;
  pointsAccepted: number;
}

/**
 * Runs one partition's batch of bus records through each device's pipeline (cleaning,
 * detection, segmentation, enrichment, scoring). Pure given the context's lookups: the caller
 * loads the states of the batch's devices and commits the effects together with the bus
 * offset, so a replay after a crash starts from the same state and changes nothing.
 */
export function processBatch(
  records: BusRecord[],
  loaded: ReadonlyMap<string, DeviceTripState>,
  config: PipelineConfig,
  context: TripContext,
): ProcessOutcome {
  const states = new Map(loaded);
  const chunks = new Map<string, PointChunk>();
  const trips = new Map<string, TripSummary>();
  const alerts = new Map<string, Alert>();
  const outcome: Omit<ProcessOutcome, 'effects'> = { filtered: {}, enrichmentFailures: {}, pointsAccepted: 0 };

  const tripTraces: Record<string, string[]> = {};
  for (const { message, headers } of records) {
    let step: StreamStep;
    // A silence has no receipt of its own: its alerts (if any) date from the device's last message.
    let receivedAtMs = 0;
    if (message.kind === 'silence') {
      const state = states.get(message.deviceId);
      // A message arrived after the watchdog looked: the device is not silent after all.
      if (!state || state.lastMessageAtMs !== message.lastMessageAtMs) continue;
      receivedAtMs = message.lastMessageAtMs;
      step = onSilence(state, config, context);
    } else if (message.kind === 'tick') {
      const state = states.get(message.deviceId);
      if (!state) continue;
      // Like a silence: what a tick releases was received with the device's last message.
      receivedAtMs = state.lastMessageAtMs ?? message.atMs;
      step = onTick(state, message.atMs, config, context);
    } else {
      const known = states.get(message.deviceId);
      // The registry's assignment as of this message: a trip is credited to who drove it then.
      const state = known
        ? { ...known, driverId: message.driverId ?? null, policyId: message.policyId ?? null }
        : initialState(message.deviceId, message.vehicleId, message.tenantId, message.driverId ?? null, message.policyId ?? null);
      receivedAtMs = message.receivedAtMs;
      step = onPoints(state, message.points, message.receivedAtMs, config, context);
    }
    const traceparent = headers.traceparent;
    const traceId = traceparent?.split('-')[1];
    if (traceId) step = linkNewEvents(step, states.get(message.deviceId)?.trip?.events ?? [], traceId);
    states.set(message.deviceId, step.state);
    for (const trip of step.changes) {
      trips.set(trip.tripId, trip);
      if (traceparent) (tripTraces[trip.tripId] ??= []).push(traceparent);
    }
    // Points that went into the open trip without changing its summary built it too.
    const open = step.state.trip;
    if (traceparent && open && step.accepted.length > 0 && !step.changes.some((trip) => trip.tripId === open.tripId)) {
      (tripTraces[open.tripId] ??= []).push(traceparent);
    }
    for (const { reason } of step.rejected) outcome.filtered[reason] = (outcome.filtered[reason] ?? 0) + 1;
    for (const enricher of step.enrichmentFailures) outcome.enrichmentFailures[enricher] = (outcome.enrichmentFailures[enricher] ?? 0) + 1;
    // The alert continues the trace of the message that raised it, so its deliveries can too.
    for (const alert of step.alerts) {
      if (!alerts.has(alert.alertId)) alerts.set(alert.alertId, { ...alert, receivedAtMs, ...(traceparent ? { traceparent } : {}) });
    }
    for (const point of step.accepted) {
      let chunk = chunks.get(message.deviceId);
      if (!chunk) chunks.set(message.deviceId, (chunk = { deviceId: message.deviceId, firstMs: point.tsMs, lastMs: point.tsMs, points: [] }));
      chunk.points.push(point);
      chunk.lastMs = point.tsMs;
      outcome.pointsAccepted += 1;
    }
  }

  const last = records[records.length - 1];
  return {
    ...outcome,
    effects: {
      partition: last?.partition ?? 0,
      offset: last?.offset ?? 0,
      chunks: [...chunks.values()],
      trips: [...trips.values()],
      states: [...states.values()].filter((s) => s !== loaded.get(s.deviceId)),
      alerts: [...alerts.values()],
      ...(Object.keys(tripTraces).length > 0 ? { tripTraces } : {}),
    },
  };
}

/**
 * Stamps the events this message's step added (to the open trip or to trips it completed) with
 * the message's trace id: each event then links to the trace of the point that completed it.
 * Events the device had before keep their own; objects are copied, never changed in place.
 */
function linkNewEvents(step: StreamStep, known: readonly DrivingEvent[], traceId: string): StreamStep {
  const before = new Set(known);
  const stamped = new Map<DrivingEvent, DrivingEvent>();
  const link = <T extends { events: DrivingEvent[] }>(holder: T): T => {
    if (holder.events.every((event) => before.has(event))) return holder;
    const events = holder.events.map((event) => {
      if (before.has(event)) return event;
      let linked = stamped.get(event);
      if (!linked) stamped.set(event, (linked = { ...event, traceId }));
      return linked;
    });
    return { ...holder, events };
  };
  const trip = step.state.trip;
  return {
    ...step,
    state: trip ? { ...step.state, trip: link(trip) } : step.state,
    changes: step.changes.map(link),
  };
}
