import type { TripSummary } from '../domain/trip.js';
import type { SearchIndex, TrackPoint } from '../ports/searchIndex.js';
import type { ChangeFeed, TripChange } from '../ports/writeStore.js';

/**
 * Moves the next changes of the write store's outbox into the search index. Idempotent:
 * the index upserts by id and version and stores its cursor with the documents.
 */
export async function syncOnce(feed: ChangeFeed, index: SearchIndex, batchSize: number, trackOf?: TrackSource, observer?: SyncObserver): Promise<number> {
  const { seq } = await index.position();
  const changes = await feed.readAfter(seq, batchSize);
  if (changes.length === 0) return 0;
  const observed = observer?.begin(changes);
  try {
    const tracks = trackOf ? await tracksOfCompleted(changes, trackOf) : undefined;
    observed?.indexing();
    await index.apply(changes, tracks);
  } catch (error) {
    observed?.done(error);
    throw error;
  }
  observed?.done();
  return changes.length;
}

/** Watches a sync batch (tracing): from when it is read, when indexing starts, and its end. */
export interface SyncObserver {
  begin(changes: TripChange[]): { indexing(): void; done(error?: unknown): void };
}

/** Where a completed trip's track comes from (the write store's point chunks). */
export type TrackSource = (trip: TripSummary) => Promise<TrackPoint[]>;

/** Tracks of the trips completed in a batch, so the search store can answer "who passed near here". */
export async function tracksOfCompleted(changes: TripChange[], trackOf: TrackSource): Promise<Map<string, TrackPoint[]>> {
  const tracks = new Map<string, TrackPoint[]>();
  for (const change of changes) {
    if (change.trip.status !== 'completed' || tracks.has(change.tripId)) continue;
    tracks.set(change.tripId, (await trackOf(change.trip)).map(({ tsMs, lat, lon }) => ({ tsMs, lat, lon })));
  }
  return tracks;
}

/** How far the search index trails the write store. */
export async function syncLag(feed: ChangeFeed, index: SearchIndex): Promise<{ pendingChanges: number; lagMs: number }> {
  const [head, position] = await Promise.all([feed.head(), index.position()]);
  if (head.seq <= position.seq) return { pendingChanges: 0, lagMs: 0 };
  // Before anything is indexed, the oldest waiting change stands in for "the newest indexed".
  const indexedAtMs = position.seq > 0 ? position.writtenAtMs : ((await feed.readAfter(position.seq, 1))[0]?.writtenAtMs ?? head.writtenAtMs);
  return { pendingChanges: head.seq - position.seq, lagMs: Math.max(0, head.writtenAtMs - indexedAtMs) };
}
