import type { DrivingEvent, DrivingEventType, Severity } from '../domain/events/drivingEvent.js';
import type { TripSummary } from '../domain/trip.js';
import type { TripChange } from './writeStore.js';

/** What trips can be sorted by; every sort is stable (ties broken by trip id). */
export const TRIP_SORT_KEYS = ['startMs', 'distanceM', 'durationS', 'score', 'nightShare', 'speedingShare'] as const;
export type TripSortKey = (typeof TRIP_SORT_KEYS)[number];

export interface Range {
  min?: number;
  max?: number;
}

export interface TripQuery {
  tenantId: string;
  vehicleId?: string;
  driverId?: string;
  policyId?: string;
  /** Trips overlapping [fromMs, toMs]. */
  fromMs?: number;
  toMs?: number;
  status?: TripSummary['status'];
  distanceM?: Range;
  durationS?: Range;
  score?: Range;
  /** Shares of moving time, 0–1. */
  nightShare?: Range;
  speedingShare?: Range;
  /** Trips with at least `minEvents` (default 1) events of these types (any type when absent), of at least `severity`. */
  events?: { types?: DrivingEventType[]; minEvents?: number; severity?: Severity };
  /** Words of the start or end place name; each word matches as a prefix ("brus" finds Brussels). */
  placeText?: string;
  /** Trips that started or ended inside [west, south, east, north]. */
  bbox?: [number, number, number, number];
  /** Trips that started or ended within radiusM of a point. */
  endsNear?: { lat: number; lon: number; radiusM: number };
  sort?: TripSortKey;
  order?: 'asc' | 'desc';
  limit: number;
  /** Opaque position after which the page starts; only valid with the same sort and order. */
  cursor?: string;
}

/** A track position as the search store keeps it, for "who passed near here" questions. */
export interface TrackPoint {
  tsMs: number;
  lat: number;
  lon: number;
}

/** Which cars passed within radiusM of a point between fromMs and toMs, answered from their tracks. */
export interface NearQuery {
  tenantId: string;
  lat: number;
  lon: number;
  radiusM: number;
  fromMs: number;
  toMs: number;
  limit: number;
}

export interface NearHit {
  tripId: string;
  vehicleId: string;
  /** The closest approach inside the window: when, how far, where. */
  closestMs: number;
  distanceM: number;
  lat: number;
  lon: number;
}

export interface EventQuery {
  tenantId: string;
  types?: DrivingEventType[];
  severity?: Severity;
  vehicleId?: string;
  fromMs?: number;
  toMs?: number;
  bbox?: [number, number, number, number];
  limit: number;
  /** Opaque position after which the page starts. */
  cursor?: string;
}

export interface EventHit {
  tripId: string;
  vehicleId: string;
  event: DrivingEvent;
}

export interface EventPage {
  events: EventHit[];
  nextCursor: string | null;
}

export interface StatsQuery {
  tenantId: string;
  vehicleId?: string;
  driverId?: string;
  fromMs?: number;
  toMs?: number;
}

/** Figures of one vehicle or one driver (`id`), over its completed trips. */
export interface VehicleStats {
  id: string;
  trips: number;
  distanceM: number;
  /** Distance-weighted mean score of its completed trips; null without any. */
  meanScore: number | null;
  events: number;
  eventsPer100Km: number | null;
}

export interface FleetStats {
  trips: number;
  distanceM: number;
  /** Completed trips per 10-point score band, [0,10) … [90,100]. */
  scoreHistogram: Array<{ from: number; to: number; trips: number }>;
  eventsByType: Partial<Record<DrivingEventType, number>>;
  /** Kilometres per UTC day of the trips' start. */
  kmPerDay: Array<{ day: string; km: number }>;
}

export interface TripPage {
  trips: TripSummary[];
  nextCursor: string | null;
}

/** The read side: trip documents kept in step with the write store by sync. */
export interface SearchIndex {
  /** Upserts by id and version (an older version never overwrites a newer one) and stores the cursor, atomically. */
  apply(changes: TripChange[], tracks?: ReadonlyMap<string, TrackPoint[]>): Promise<void>;
  /** The last change seq applied, and when that change had been written. */
  position(): Promise<{ seq: number; writtenAtMs: number }>;
  searchTrips(query: TripQuery): Promise<TripPage>;
  trip(tenantId: string, tripId: string): Promise<TripSummary | null>;
  nearTracks(query: NearQuery): Promise<NearHit[]>;
  searchEvents(query: EventQuery): Promise<EventPage>;
  /** Figures per vehicle, or per driver (trips without a known driver are left out). */
  groupStats(query: StatsQuery, by: 'vehicle' | 'driver'): Promise<VehicleStats[]>;
  fleetStats(query: StatsQuery): Promise<FleetStats>;
  count(): Promise<number>;
  /** Forgets everything, for a rebuild from the write store. */
  reset(): Promise<void>;
  close(): Promise<void>;
}
