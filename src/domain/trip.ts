import type { DrivingEvent, DrivingEventType } from './events/drivingEvent.js';
import type { TripScore } from './scoring/tripScore.js';

/** Seconds of the trip spent moving, and of those, at night, in rush hours, and over the posted limit (local time). */
export interface TripExposure {
  movingS: number;
  nightS: number;
  rushHourS: number;
  speedingS: number;
  /** Metres driven per OSM highway type, where a map extract is loaded. */
  roadM: Record<string, number>;
}

/** What is known of a trip while it runs and once it has ended. Units are in the names. */
export interface TripSummary {
  tripId: string;
  deviceId: string;
  vehicleId: string;
  tenantId: string;
  /** From the device registry at the time of the trip, null when unknown. */
  driverId: string | null;
  policyId: string | null;
  status: 'active' | 'completed';
  startMs: number;
  endMs: number;
  start: { lat: number; lon: number };
  end: { lat: number; lon: number };
  /** Distance driven while tracked: speed integrated over time (haversine where speed is missing). */
  distanceM: number;
  /** Straight-line distance across data gaps (no points for more than integrationGapS): a lower bound of what was driven unseen. */
  gapDistanceM: number;
  durationS: number;
  maxSpeedMps: number;
  meanSpeedMps: number;
  pointCount: number;
  /** Bounding box of the track, [west, south, east, north] as in GeoJSON. */
  bbox: [number, number, number, number];
  endReason: 'ignition_off' | 'gap' | 'idle' | 'live_timeout' | null;
  /** Driving events, in time order (at most MAX_EVENTS_PER_TRIP kept; eventCounts counts them all). */
  events: DrivingEvent[];
  eventCounts: Partial<Record<DrivingEventType, number>>;
  exposure: TripExposure;
  /** Nearest town of the start and end (offline gazetteer), null when none is near or enrichment failed. */
  startPlace: string | null;
  endPlace: string | null;
  /** IANA time zone at the start, the clock night and rush hours were judged by. */
  timeZone: string | null;
  /** Set when the trip completes. */
  score: TripScore | null;
  /** Enrichers that failed for this trip (the trip completes anyway). */
  enrichmentFailures: string[];
  /**
   * Ids of traces of messages that built this trip (GET /v1/traces/{traceId}): the first and the
   * latest few, set by the write store.
   */
  traceIds?: string[];
}

export const MAX_EVENTS_PER_TRIP = 500;

/** A trip id is derived from the device and the first point's time, so replays produce the same ids. */
export function tripIdOf(deviceId: string, startMs: number): string {
  return `${deviceId}.${startMs}`;
}
