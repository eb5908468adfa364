/** The API's shapes the dashboard reads (see /openapi.json). */
// The domain's own definitions (pure modules, no Node): one source for server and dashboard.
export { DRIVING_EVENT_TYPES as EVENT_TYPES, type DrivingEvent, type DrivingEventType as EventType } from '../../src/domain/events/drivingEvent.js';
export type { ScoreFactor } from '../../src/domain/scoring/tripScore.js';
import type { DrivingEvent } from '../../src/domain/events/drivingEvent.js';
import type { ScoreFactor } from '../../src/domain/scoring/tripScore.js';

export interface Trip {
  tripId: string;
  deviceId: string;
  vehicleId: string;
  driverId: string | null;
  policyId: string | null;
  status: 'active' | 'completed';
  startMs: number;
  endMs: number;
  start: { lat: number; lon: number };
  end: { lat: number; lon: number };
  distanceM: number;
  durationS: number;
  maxSpeedMps: number;
  meanSpeedMps: number;
  pointCount: number;
  bbox: [number, number, number, number];
  endReason: string | null;
  events: DrivingEvent[];
  eventCounts: Record<string, number>;
  exposure: { movingS: number; nightS: number; rushHourS: number; speedingS: number; roadM: Record<string, number> };
  startPlace: string | null;
  endPlace: string | null;
  timeZone: string | null;
  score: { score: number; breakdown: ScoreFactor[] } | null;
  traceIds?: string[];
  approach?: { closestMs: number; distanceM: number; lat: number; lon: number };
}

export interface TripPage {
  trips: Trip[];
  nextCursor: string | null;
}

export interface Track {
  geometry: { coordinates: Array<[number, number]> };
  properties: { timesMs: number[]; speedsMps: Array<number | null> };
}

export interface Position {
  tripId: string;
  deviceId: string;
  vehicleId: string;
  driverId: string | null;
  lat: number;
  lon: number;
  speedMps: number | null;
  atMs: number;
  tripStartMs: number;
}

export type { Alert } from '../../src/domain/alerts/alert.js';

export interface GroupStats {
  id: string;
  trips: number;
  distanceM: number;
  meanScore: number | null;
  events: number;
  eventsPer100Km: number | null;
}

export interface VehicleScore {
  vehicleId: string;
  score: number | null;
  trips: number;
  distanceM: number;
  windowDays: number;
  breakdown: ScoreFactor[];
}

export type { SpanView as Span } from '../../src/runtime/spanView.js';
