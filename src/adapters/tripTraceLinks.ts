/**
 * How a write store links a trip to the traces of the messages behind it; every write store
 * applies the same rule, so the trip documents they write are identical.
 */

/** A trip links the traces of its first few and its latest few messages: bounded, however long it drives. */
export const TRIP_TRACE_LINKS = { first: 5, last: 5 } as const;
/** Sync continues at most this many of the traces behind one outbox row. */
export const MAX_SYNC_TRACES = 20;

/** The trace ids a trip links after `traceparents` (W3C, `00-{traceId}-{spanId}-{flags}`) are added to `known`. */
export function linkTraces(known: readonly string[], traceparents: readonly string[]): string[] {
  const ids = [...known];
  for (const traceparent of traceparents) {
    const traceId = traceparent.split('-')[1];
    if (!traceId || ids.includes(traceId)) continue;
    ids.push(traceId);
    // Keep the first ones, and slide a window over the latest.
    if (ids.length > TRIP_TRACE_LINKS.first + TRIP_TRACE_LINKS.last) ids.splice(TRIP_TRACE_LINKS.first, 1);
  }
  return ids;
}

/** The traceparents an outbox row carries on to sync: the latest ones. */
export function syncTraces(traceparents: readonly string[]): string[] {
  return traceparents.slice(-MAX_SYNC_TRACES);
}
