import { tracksOfCompleted } from './syncSearch.js';
import type { SearchIndex } from '../ports/searchIndex.js';
import type { ChangeFeed, TripChange, WriteStore } from '../ports/writeStore.js';

export interface ReindexProgress {
  /** Trips applied so far. */
  done: number;
  /** Trips in the write store when the rebuild started (more may arrive while it runs). */
  total: number;
}

export interface ReindexOptions {
  /** Forget the search store first: a full rebuild that also repairs documents at the current version. */
  reset?: boolean;
  /** Trips read and applied per transaction; small pages keep the search store's write lock short. */
  pageSize?: number;
  onProgress?: (progress: ReindexProgress) => void;
  /** Stops between pages; the search store is left consistent (its position never ahead of what it holds). */
  signal?: AbortSignal;
  /** Errors worth retrying the page for, e.g. the running platform's sync holding the write lock. */
  isTransient?: (error: unknown) => boolean;
  /** How long one page keeps retrying transient errors before giving up (default two minutes). */
  retryForMs?: number;
}

export interface ReindexResult {
  trips: number;
  /** The outbox head captured before reading: the search store's position once the rebuild completed. */
  headSeq: number;
  /** False when stopped by the signal before the last page. */
  completed: boolean;
}

/**
 * Rebuilds the search store from the write store, safely while the platform (and its sync) runs.
 *
 * The outbox head H is captured before any trip is read, so every trip read afterwards is at a
 * version at least as new as the one it had at H: once every page is applied, the store holds
 * everything up to H and its position can be set to H; the running sync then applies what came
 * after H, which the version check makes idempotent. Until the last page, each page is applied
 * with the store's own current position (capped at H), so an interrupted rebuild never moves the
 * position past changes the store may be missing. Upserts skip documents the store already has
 * at the same or a newer version, so without `reset` this only fills in missing or stale
 * documents, and never rolls a document back; with `reset`, queries see a partial store until
 * the rebuild completes (and the running sync starts over from the beginning of the outbox).
 */
export async function reindex(store: WriteStore & ChangeFeed, index: SearchIndex, options: ReindexOptions = {}): Promise<ReindexResult> {
  const pageSize = options.pageSize ?? 500;
  const isTransient = options.isTransient ?? (() => false);
  const retry = <T>(attempt: () => Promise<T>) => withRetries(attempt, isTransient, options.retryForMs ?? 120_000, options.signal);
  const head = await store.head();
  if (options.reset) await retry(() => index.reset());
  const total = await store.tripCount();
  let done = 0;
  options.onProgress?.({ done, total });

  let page = await store.tripsAfter('', pageSize);
  while (page.length > 0) {
    // The stores answer synchronously underneath: let signals (Ctrl-C) and timers in between pages.
    await new Promise((resolve) => setImmediate(resolve));
    if (options.signal?.aborted) return { trips: done, headSeq: head.seq, completed: false };
    const lastTrip = page[page.length - 1]!.trip;
    // Read one page ahead, so the last page is known before it is applied.
    const next = page.length < pageSize ? [] : await store.tripsAfter(lastTrip.tripId, pageSize);
    const final = next.length === 0;
    const current = page;
    try {
      await retry(async () => {
        const at = final ? head : atMost(await index.position(), head);
        const changes = current.map(({ version, trip }): TripChange => ({ seq: at.seq, tripId: trip.tripId, version, writtenAtMs: at.writtenAtMs, trip }));
        // Tracks too, so "who passed near here" is rebuilt along with the documents.
        await index.apply(changes, await tracksOfCompleted(changes, (trip) => store.points(trip.deviceId, trip.startMs, trip.endMs)));
      });
    } catch (error) {
      // Stopped while waiting for the write lock: the page was not applied, which is safe.
      if (options.signal?.aborted && isTransient(error)) return { trips: done, headSeq: head.seq, completed: false };
      throw error;
    }
    done += page.length;
    options.onProgress?.({ done, total });
    page = next;
  }
  return { trips: done, headSeq: head.seq, completed: true };
}

function atMost(position: { seq: number; writtenAtMs: number }, head: { seq: number; writtenAtMs: number }): { seq: number; writtenAtMs: number } {
  return position.seq <= head.seq ? position : head;
}

/**
 * Retries transient errors with short random sleeps: a running sync that is catching up commits
 * back to back, and a page only gets the write lock in the gaps between its transactions.
 */
async function withRetries<T>(attempt: () => Promise<T>, isTransient: (error: unknown) => boolean, retryForMs: number, signal?: AbortSignal): Promise<T> {
  const deadline = Date.now() + retryForMs;
  for (;;) {
    try {
      return await attempt();
    } catch (error) {
      if (!isTransient(error) || Date.now() >= deadline || signal?.aborted) throw error;
      await new Promise((resolve) => setTimeout(resolve, 5 + Math.random() * 45));
    }
  }
}
