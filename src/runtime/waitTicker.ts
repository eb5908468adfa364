import type { CleaningConfig } from '../domain/cleaning/cleaningConfig.js';
import type { EventBus, TickMessage } from '../ports/eventBus.js';

export interface WaitEndSource {
  /** Devices whose held points a tick would release at `endMs`; only those whose partition was read to its end (a tick behind unread messages would come too early). */
  waitEnds(): Iterable<{ deviceId: string; endMs: number }>;
}

/**
 * Appends a `tick` for each device whose held points stopped waiting by the wall clock (arrival
 * hold, missing seqs) while the device sent nothing since: its points leave then, not at its next
 * message or its silence. The tick goes through the device's partition like its messages, so
 * what it releases is decided in order and replays the same way.
 */
export function startWaitTicker(bus: EventBus, source: WaitEndSource, cleaning: CleaningConfig, checkEveryMs = 200, maxTicksPerCheck = 1000): () => void {
  // Without waits (one ordered ingest, the embedded default) no point ever waits on the clock.
  if (!(cleaning.arrivalHoldS > 0 || cleaning.seqGapWaitS > 0)) return () => undefined;
  // The wait end each device was ticked for: one tick per wait end, until the device's state moves on.
  let requested = new Map<string, number>();
  const timer = setInterval(() => {
    const now = Date.now();
    const due: TickMessage[] = [];
    const stillWaiting = new Map<string, number>();
    for (const { deviceId, endMs } of source.waitEnds()) {
      const ticked = requested.get(deviceId) === endMs;
      if (!ticked && (endMs > now || due.length >= maxTicksPerCheck)) continue;
      stillWaiting.set(deviceId, endMs);
      if (!ticked) due.push({ kind: 'tick', deviceId, atMs: now });
    }
    requested = stillWaiting;
    if (due.length > 0) void bus.append(due).catch(() => due.forEach((tick) => requested.delete(tick.deviceId)));
  }, checkEveryMs);
  timer.unref();
  return () => clearInterval(timer);
}
