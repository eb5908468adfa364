import type { TripSummary } from '../domain/trip.js';
import type { TripChange } from './writeStore.js';

export interface TripQuery {
  tenantId: string;
  vehicleId?: string;
  fromMs?: number;
  toMs?: number;
  status?: TripSummary['status'];
  limit: number;
  /** Opaque position after which the page starts. */
  cursor?: string;
}

export interface TripPage {
  trips: TripSummary[];
  nextCursor: string | null;
}

/** The read side: trip documents kept in step with the write store by sync. */
export interface SearchIndex {
  /** Upserts by id and version (an older version never overwrites a newer one) and stores the cursor, atomically. */
  apply(changes: TripChange[]): Promise<void>;
  /** The last change seq applied, and when that change had been written. */
  position(): Promise<{ seq: number; writtenAtMs: number }>;
  searchTrips(query: TripQuery): Promise<TripPage>;
  trip(tenantId: string, tripId: string): Promise<TripSummary | null>;
  count(): Promise<number>;
  /** Forgets everything, for a rebuild from the write store. */
  reset(): Promise<void>;
  close(): Promise<void>;
}
