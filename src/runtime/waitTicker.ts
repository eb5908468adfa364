import type { EventBus, TickMessage } from '../ports/eventBus.js';

export interface WaitEndSource {
  waitEnds(): Iterable<{ deviceId: string; endMs: number }>;
}

/**
 * Appends a `tick` for each device whose held points stopped waiting by the wall clock (arrival
 * hold, missing seqs) while the device sent nothing since: its points leave then, not at its next
 * message or its silence. The tick goes through the device's partition like its messages, so
 * what it releases is decided in order and replays the same way.
 */
export function startWaitTicker(bus: EventBus, source: WaitEndSource, checkEveryMs = 200): () => void {
  const requested = new Map<string, number>();
  const timer = setInterval(() => {
    const now = Date.now();
    const due: TickMessage[] = [];
    for (const { deviceId, endMs } of source.waitEnds()) {
      if (endMs > now || requested.get(deviceId) === endMs) continue;
      requested.set(deviceId, endMs);
      due.push({ kind: 'tick', deviceId, atMs: now });
    }
    if (requested.size > 10_000) requested.clear(); // a second tick is harmless: it releases nothing more
    if (due.length > 0) void bus.append(due).catch(() => due.forEach((tick) => requested.delete(tick.deviceId)));
  }, checkEveryMs);
  timer.unref();
  return () => clearInterval(timer);
}
