/** The API's shapes the dashboard reads (see /openapi.json). */
// The domain's own definitions (pure modules, no Node): one source for server and dashboard.
export { DRIVING_EVENT_TYPES as EVENT_TYPES, type DrivingEvent, type DrivingEventType as EventType } from '../../src/domain/events/drivingEvent.js';
export type { ScoreFactor } from '../../src/domain/scoring/tripScore.js';
import type { TripSummary } from '../../src/domain/trip.js';
import type { RollingScore } from '../../src/domain/scoring/rollingScore.js';

/** A trip as the API returns it: the domain's summary, its trace links, and (for near searches) the closest approach. */
export type Trip = TripSummary & {
  traceIds?: string[];
  approach?: { closestMs: number; distanceM: number; lat: number; lon: number };
};

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

export type { VehicleStats as GroupStats } from '../../src/ports/searchIndex.js';

export type VehicleScore = RollingScore & { vehicleId: string };

export type { SpanView as Span } from '../../src/runtime/spanView.js';
