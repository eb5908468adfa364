import type { EventBus, SilenceMessage } from '../ports/eventBus.js';

export interface ActiveDeviceSource {
  activeDevices(): Iterable<{ deviceId: string; lastMessageAtMs: number; lastSeenWallMs: number }>;
}

/**
 * Ends live trips whose device went silent, by the wall clock, and releases the points such a
 * device still holds. It does not close them itself: it appends a `silence` message to the
 * device's stream, so the close is ordered with the device's points and replays the same way.
 */
export function startLiveTripWatchdog(
  bus: EventBus,
  source: ActiveDeviceSource,
  silenceMs: number,
  /** While ingest holds messages back, a device may look silent without being so: judge nobody then. */
  pushingBack: () => boolean,
  checkEveryMs = 1000,
): () => void {
  const requested = new Map<string, number>();
  const timer = setInterval(() => {
    if (pushingBack()) return;
    const now = Date.now();
    const due: SilenceMessage[] = [];
    for (const trip of source.activeDevices()) {
      if (now - trip.lastSeenWallMs < silenceMs || requested.get(trip.deviceId) === trip.lastMessageAtMs) continue;
      requested.set(trip.deviceId, trip.lastMessageAtMs);
      due.push({ kind: 'silence', deviceId: trip.deviceId, lastMessageAtMs: trip.lastMessageAtMs });
    }
    if (requested.size > 10_000) requested.clear(); // a re-request is harmless: the close is idempotent
    if (due.length > 0) void bus.append(due).catch(() => due.forEach((d) => requested.delete(d.deviceId)));
  }, checkEveryMs);
  timer.unref();
  return () => clearInterval(timer);
}
