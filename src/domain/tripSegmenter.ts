import { initialCleanState, type CleanState } from './cleaning/cleanPoints.js';
import { initialDetectorsState, type DetectorsState } from './events/detectors.js';
import type { DrivingEvent, DrivingEventType } from './events/drivingEvent.js';
import { haversineM } from './geo.js';
import type { TelemetryPoint } from './point.js';
import { tripIdOf, type TripExposure, type TripSummary } from './trip.js';
import type { TripConfig } from './tripConfig.js';

/** Running totals of an open trip; a plain object so it checkpoints as JSON. */
export interface TripAccumulator {
  tripId: string;
  startMs: number;
  start: { lat: number; lon: number };
  lastMs: number;
  last: { lat: number; lon: number; speedMps: number | null };
  distanceM: number;
  gapDistanceM: number;
  maxSpeedMps: number;
  pointCount: number;
  bbox: [number, number, number, number];
  hasMoved: boolean;
  lastMovingMs: number | null;
  events: DrivingEvent[];
  eventCounts: Partial<Record<DrivingEventType, number>>;
  exposure: TripExposure;
  timeZone: string | null;
}

export interface DeviceTripState {
  deviceId: string;
  vehicleId: string;
  tenantId: string;
  driverId: string | null;
  policyId: string | null;
  lastPointMs: number | null;
  /** When the newest message of this device was received: the token the live-trip watchdog checks. */
  lastMessageAtMs: number | null;
  cleaning: CleanState;
  detectors: DetectorsState;
  trip: TripAccumulator | null;
  /** The open trip as it stood at its last moving point: what an idle timeout closes. */
  atLastMove: TripAccumulator | null;
}

/**
 * Whether the device needs watching: its trip is open, or points wait in its cleaning buffer.
 * Either ends only by a later message, a tick or the device's silence; the worker keeps such
 * states in memory and its watchdogs look at them.
 */
export function isActive(state: DeviceTripState): boolean {
  return state.trip !== null || state.cleaning.held.length > 0;
}

export interface SegmentStep {
  state: DeviceTripState;
  /** Trips that became known (first movement) or ended with this step, in order. */
  changes: TripSummary[];
}

export function initialState(deviceId: string, vehicleId: string, tenantId: string, driverId: string | null = null, policyId: string | null = null): DeviceTripState {
  return {
    deviceId, vehicleId, tenantId, driverId, policyId, lastPointMs: null, lastMessageAtMs: null,
    cleaning: initialCleanState(), detectors: initialDetectorsState(), trip: null, atLastMove: null,
  };
}

/**
 * Advances one device by one point, in timestamp order (the caller drops duplicates and
 * late points). Driven only by the points' own timestamps, so replays segment the same way.
 */
export function advance(prev: DeviceTripState, point: TelemetryPoint, config: TripConfig): SegmentStep {
  const changes: TripSummary[] = [];
  const state: DeviceTripState = { ...prev, lastPointMs: point.tsMs };
  const gapS = prev.lastPointMs === null ? Infinity : (point.tsMs - prev.lastPointMs) / 1000;

  if (state.trip && gapS > config.tripGapS) closeTrip(state, 'gap', changes);

  const moving = isMoving(point, state.trip, config);
  if (!state.trip) {
    const poweredOn = gapS > config.tripGapS && point.ignition !== false;
    if (!(moving || point.ignition === true || poweredOn)) return { state, changes };
    state.trip = openTrip(state.deviceId, point);
    state.atLastMove = null;
  } else {
    state.trip = extend(state.trip, point, config);
  }

  const trip = state.trip;
  if (moving) {
    if (!trip.hasMoved) {
      trip.hasMoved = true;
      changes.push(summarise(state, trip, 'active', null));
    }
    trip.lastMovingMs = point.tsMs;
    state.atLastMove = { ...trip };
  } else if (!trip.hasMoved && point.tsMs - trip.startMs > config.maxPendingS * 1000) {
    // Powered on but parked for long: the drive has not begun yet, so its start moves forward.
    state.trip = openTrip(state.deviceId, point);
  } else if (trip.lastMovingMs !== null && point.tsMs - trip.lastMovingMs > config.idleTimeoutS * 1000) {
    // Position and time roll back to the last movement; events and exposure, attached after each step, stay.
    state.trip = state.atLastMove && { ...state.atLastMove, events: trip.events, eventCounts: trip.eventCounts, exposure: trip.exposure };
    closeTrip(state, 'idle', changes);
  }
  if (point.ignition === false && state.trip) closeTrip(state, 'ignition_off', changes);
  return { state, changes };
}

/** Closes a live trip whose device went silent. The caller checks that nothing arrived since the check was scheduled. */
export function closeIfSilent(prev: DeviceTripState): SegmentStep {
  const changes: TripSummary[] = [];
  if (!prev.trip) return { state: prev, changes };
  const state = { ...prev };
  closeTrip(state, 'live_timeout', changes);
  return { state, changes };
}

export function summarise(
  state: DeviceTripState,
  trip: TripAccumulator,
  status: TripSummary['status'],
  endReason: TripSummary['endReason'],
): TripSummary {
  const durationS = (trip.lastMs - trip.startMs) / 1000;
  return {
    tripId: trip.tripId,
    deviceId: state.deviceId,
    vehicleId: state.vehicleId,
    driverId: state.driverId,
    policyId: state.policyId,
    tenantId: state.tenantId,
    status,
    startMs: trip.startMs,
    endMs: trip.lastMs,
    start: trip.start,
    end: { lat: trip.last.lat, lon: trip.last.lon },
    distanceM: trip.distanceM,
    gapDistanceM: trip.gapDistanceM,
    durationS,
    maxSpeedMps: trip.maxSpeedMps,
    meanSpeedMps: durationS > 0 ? trip.distanceM / durationS : 0,
    pointCount: trip.pointCount,
    bbox: [...trip.bbox],
    endReason,
    events: trip.events,
    eventCounts: { ...trip.eventCounts },
    exposure: { ...trip.exposure, roadM: { ...trip.exposure.roadM } },
    startPlace: null,
    endPlace: null,
    timeZone: trip.timeZone,
    score: null,
    enrichmentFailures: [],
  };
}

function closeTrip(state: DeviceTripState, reason: NonNullable<TripSummary['endReason']>, changes: TripSummary[]): void {
  // A trip that never moved (engine on in the driveway) is not a trip.
  if (state.trip?.hasMoved) changes.push(summarise(state, state.trip, 'completed', reason));
  state.trip = null;
  state.atLastMove = null;
}

function openTrip(deviceId: string, point: TelemetryPoint): TripAccumulator {
  return {
    tripId: tripIdOf(deviceId, point.tsMs),
    startMs: point.tsMs,
    start: { lat: point.lat, lon: point.lon },
    lastMs: point.tsMs,
    last: { lat: point.lat, lon: point.lon, speedMps: point.speedMps ?? null },
    distanceM: 0,
    gapDistanceM: 0,
    maxSpeedMps: point.speedMps ?? 0,
    pointCount: 1,
    bbox: [point.lon, point.lat, point.lon, point.lat],
    hasMoved: false,
    lastMovingMs: null,
    events: [],
    eventCounts: {},
    exposure: { movingS: 0, nightS: 0, rushHourS: 0, speedingS: 0, roadM: {} },
    timeZone: null,
  };
}

function extend(trip: TripAccumulator, point: TelemetryPoint, config: TripConfig): TripAccumulator {
  const dtS = (point.tsMs - trip.lastMs) / 1000;
  const straightM = haversineM(trip.last.lat, trip.last.lon, point.lat, point.lon);
  const next = { ...trip, bbox: [...trip.bbox] as TripAccumulator['bbox'] };
  if (dtS > config.integrationGapS) next.gapDistanceM += straightM;
  else if (point.speedMps !== undefined && trip.last.speedMps !== null) {
    // Integrating speed ignores GPS jitter, which inflates point-to-point sums while slow or parked.
    next.distanceM += ((point.speedMps + trip.last.speedMps) / 2) * dtS;
  } else next.distanceM += straightM;
  next.lastMs = point.tsMs;
  next.last = { lat: point.lat, lon: point.lon, speedMps: point.speedMps ?? null };
  next.maxSpeedMps = Math.max(trip.maxSpeedMps, point.speedMps ?? impliedSpeedMps(straightM, dtS, config));
  next.pointCount += 1;
  next.bbox = [
    Math.min(next.bbox[0], point.lon),
    Math.min(next.bbox[1], point.lat),
    Math.max(next.bbox[2], point.lon),
    Math.max(next.bbox[3], point.lat),
  ];
  return next;
}

function isMoving(point: TelemetryPoint, trip: TripAccumulator | null, config: TripConfig): boolean {
  if (point.speedMps !== undefined) return point.speedMps >= config.movingSpeedMps;
  if (!trip) return false;
  const dtS = (point.tsMs - trip.lastMs) / 1000;
  const distanceM = haversineM(trip.last.lat, trip.last.lon, point.lat, point.lon);
  return impliedSpeedMps(distanceM, dtS, config) >= config.movingSpeedMps;
}

function impliedSpeedMps(distanceM: number, dtS: number, config: TripConfig): number {
  return dtS > 0 && dtS <= config.integrationGapS ? distanceM / dtS : 0;
}
