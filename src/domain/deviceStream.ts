import { alertId, type RaisedAlert } from './alerts/alert.js';
import { sustainedSpeedingReached } from './alerts/riskAlerts.js';
import { cleanPoints, flushCleaning, heldStillWait, type Rejection } from './cleaning/cleanPoints.js';
import { chooseSpeedLimit } from './enrichment/speedLimit.js';
import { isNight, isRushHour, localClock } from './enrichment/timeOfDay.js';
import { flushDetectors, initialDetectorsState, stepDetectors, type EventPoint } from './events/detectors.js';
import type { DrivingEvent } from './events/drivingEvent.js';
import { reaches } from './events/signals.js';
import { attachEvents, finalizeTrip } from './finalizeTrip.js';
import { haversineM } from './geo.js';
import type { TelemetryPoint } from './point.js';
import type { PipelineConfig } from './pipelineConfig.js';
import type { TripSummary } from './trip.js';
import { bestEffort, type Enricher, type TripContext } from './tripContext.js';
import { advance, closeIfSilent, summarise, type DeviceTripState } from './tripSegmenter.js';

/** What one message (or one silence) did to a device: trip changes, crash alerts, and the points kept or filtered. */
export interface StreamStep {
  state: DeviceTripState;
  changes: TripSummary[];
  /** Crash events and risk alerts, raised on the point that confirms them rather than at trip end. */
  alerts: RaisedAlert[];
  accepted: TelemetryPoint[];
  rejected: Rejection[];
  enrichmentFailures: Enricher[];
}

/**
 * One device's stream of points through the whole trip pipeline: clean, look up the posted limit,
 * detect events, segment, accumulate exposure by local time, and complete ended trips.
 */
export function onPoints(prev: DeviceTripState, points: TelemetryPoint[], receivedAtMs: number, config: PipelineConfig, context: TripContext): StreamStep {
  return advanceStream({ ...prev, lastMessageAtMs: receivedAtMs }, points, receivedAtMs, config, context);
}

/**
 * The device's receipt-time clock moved on to `atMs` without a message of its own (a worker's
 * tick, see nextWaitEndMs): held points whose wait has ended leave, as if a message had come.
 */
export function onTick(prev: DeviceTripState, atMs: number, config: PipelineConfig, context: TripContext): StreamStep {
  return advanceStream(prev, [], atMs, config, context);
}

function advanceStream(prev: DeviceTripState, points: TelemetryPoint[], nowMs: number, config: PipelineConfig, context: TripContext): StreamStep {
  const step = emptyStep(prev);
  const cleaned = cleanPoints(step.state.cleaning, points, nowMs, config.cleaning);
  let { state: cleaning, accepted, rejected } = cleaned;
  // Ignition off ends the trip now: nothing later will arrive to release the reorder buffer —
  // unless points sent before it may still be on their way (seqGapWaitS, arrivalHoldS): then once
  // they arrive, or when the wait ends. A possible crash cannot wait for it either (the alert is
  // due within a second): while an impact spike is held or awaits its confirming stop, each message
  // is processed whole, at the cost of judging a point that arrives later than it as out of order.
  const ignitionOff = points.some((p) => p.ignition === false) || cleaning.held.some((p) => p.ignition === false);
  if ((ignitionOff && !heldStillWait(cleaning, cleaning.clockMs ?? nowMs, config.cleaning)) || crashUrgent(prev, cleaning.held, config)) {
    const flushed = flushCleaning(cleaning, config.cleaning);
    cleaning = flushed.state;
    accepted = [...accepted, ...flushed.accepted];
    rejected = [...rejected, ...flushed.rejected];
  }
  step.state = { ...step.state, cleaning };
  step.rejected.push(...rejected);
  for (const point of accepted) stepPoint(step, point, config, context);
  return step;
}

/** The device went silent: release the reorder buffer and end the open trip. */
export function onSilence(prev: DeviceTripState, config: PipelineConfig, context: TripContext): StreamStep {
  const step = emptyStep(prev);
  const flushed = flushCleaning(prev.cleaning, config.cleaning);
  step.state = { ...prev, cleaning: flushed.state };
  step.rejected.push(...flushed.rejected);
  for (const point of flushed.accepted) stepPoint(step, point, config, context);
  const late = flushDetectors(step.state.detectors);
  if (step.state.trip) step.state = { ...step.state, trip: attachEvents(step.state.trip, late) };
  const closed = closeIfSilent({ ...step.state, detectors: initialDetectorsState() });
  step.state = closed.state;
  for (const trip of closed.changes) step.changes.push(trip.status === 'completed' ? finalizeTrip(trip, [], config, context) : trip);
  return step;
}

function stepPoint(step: StreamStep, point: TelemetryPoint, config: PipelineConfig, context: TripContext): void {
  const failed = (enricher: Enricher): void => void step.enrichmentFailures.push(enricher);
  let state = step.state;
  if (state.lastPointMs !== null && point.tsMs <= state.lastPointMs) {
    step.rejected.push({ point, reason: 'out_of_order' });
    return;
  }
  step.accepted.push(point);
  const gapS = state.lastPointMs === null ? Infinity : (point.tsMs - state.lastPointMs) / 1000;
  const endsByGap = state.trip !== null && gapS > config.trip.tripGapS;
  // A trip ended by a data gap owns the episodes still open in the detectors; this point starts afresh.
  if (state.trip && endsByGap) {
    state = { ...state, trip: attachEvents(state.trip, flushDetectors(state.detectors)), detectors: initialDetectorsState() };
  }
  const mapped = bestEffort('speed_limit', () => context.speedLimitAt(point), null, failed);
  const limit = chooseSpeedLimit({ deviceLimitMps: point.speedLimitMps ?? null, osm: mapped });
  const eventPoint: EventPoint = limit ? { ...point, speedLimitMps: limit.limitMps } : point;
  const speedingBefore = state.detectors.speeding.open;
  const detected = stepDetectors(state.detectors, eventPoint, config.detectors);
  const speedingNow = detected.state.speeding.open;
  const before = state.trip;
  const segmented = advance({ ...state, detectors: detected.state }, point, config.trip);
  state = segmented.state;

  // Ended by this very point (ignition off, idle): the trip takes this point's events and every episode still open.
  const endedHere = !endsByGap && segmented.changes.some((c) => c.status === 'completed' && c.tripId === before?.tripId);
  const late = endedHere ? [...detected.events, ...flushDetectors(state.detectors)] : [];
  if (endedHere) state = { ...state, detectors: initialDetectorsState() };
  for (const change of segmented.changes) {
    step.changes.push(change.status === 'completed' ? finalizeTrip(change, change.tripId === before?.tripId && endedHere ? late : [], config, context) : change);
  }
  if (state.trip) {
    let trip = state.trip;
    if (trip.timeZone === null) trip = { ...trip, timeZone: bestEffort('time_zone', () => context.timeZoneAt(trip.start.lat, trip.start.lon), 'UTC', failed) };
    if (!endedHere) trip = attachEvents(trip, detected.events);
    if (before && before.tripId === trip.tripId) trip = addExposure(trip, before, point, mapped?.highway ?? null, config, context, failed);
    state = { ...state, trip };
  }
  const crashes = detected.events.filter((e) => e.type === 'crash');
  const tripId = state.trip?.tripId ?? before?.tripId ?? null;
  for (const crash of crashes) step.alerts.push(raise(state, crash, 'crash', tripId, point.tsMs));
  if (speedingNow && sustainedSpeedingReached(speedingBefore, speedingNow, config.alerts.sustainedSpeeding)) {
    step.alerts.push(raise(state, speedingNow.event, 'sustained_speeding', tripId, point.tsMs));
  }
  // A crash is news now: the open trip's document is updated at once, not at its end.
  if (crashes.length > 0 && state.trip?.hasMoved) step.changes.push(summarise(state, state.trip, 'active', null));
  step.state = state;
}

function addExposure(
  trip: NonNullable<DeviceTripState['trip']>,
  previous: NonNullable<DeviceTripState['trip']>,
  point: TelemetryPoint,
  highway: string | null,
  config: PipelineConfig,
  context: TripContext,
  failed: (enricher: Enricher) => void,
): NonNullable<DeviceTripState['trip']> {
  const dtS = (point.tsMs - previous.lastMs) / 1000;
  // Without a reported speed, the implied one (as segmentation uses): OwnTracks points often have none.
  const impliedMps = dtS > 0 ? haversineM(previous.last.lat, previous.last.lon, point.lat, point.lon) / dtS : 0;
  const moving = Math.max(point.speedMps ?? impliedMps, previous.last.speedMps ?? impliedMps) >= config.trip.movingSpeedMps;
  if (!moving || dtS > config.trip.integrationGapS) return trip;
  const offset = bestEffort('time_zone', () => context.utcOffsetMinutes(trip.timeZone ?? 'UTC', point.tsMs), 0, failed);
  const clock = localClock(point.tsMs, offset);
  const exposure = { ...trip.exposure, movingS: trip.exposure.movingS + dtS };
  if (highway) {
    const stepM = trip.distanceM - previous.distanceM;
    exposure.roadM = { ...exposure.roadM, [highway]: (exposure.roadM[highway] ?? 0) + stepM };
  }
  if (isNight(clock.minutesOfDay, config.timeOfDay)) exposure.nightS += dtS;
  if (isRushHour(clock.minutesOfDay, clock.dayOfWeek, config.timeOfDay)) exposure.rushHourS += dtS;
  return { ...trip, exposure };
}

function crashUrgent(state: DeviceTripState, held: readonly TelemetryPoint[], config: PipelineConfig): boolean {
  if (state.detectors.crash.spike !== null) return true;
  const threshold = config.detectors.crash.thresholdMps2;
  return held.some((p) => p.accelMps2 !== undefined && reaches(Math.hypot(p.accelMps2.x, p.accelMps2.y), threshold));
}

function raise(state: DeviceTripState, event: DrivingEvent, type: RaisedAlert['type'], tripId: string | null, pointMs: number): RaisedAlert {
  return {
    alertId: alertId(state.deviceId, type, event.startMs),
    type,
    tenantId: state.tenantId,
    deviceId: state.deviceId,
    vehicleId: state.vehicleId,
    driverId: state.driverId,
    tripId,
    startMs: event.startMs,
    raisedAtPointMs: pointMs,
    lat: event.lat,
    lon: event.lon,
    severity: event.severity,
    peak: event.peak,
    peakUnit: event.peakUnit,
    details: { ...event.details },
  };
}

function emptyStep(state: DeviceTripState): StreamStep {
  return { state, changes: [], alerts: [], accepted: [], rejected: [], enrichmentFailures: [] };
}
