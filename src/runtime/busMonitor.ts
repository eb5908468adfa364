import type { Metrics } from './metrics.js';
import type { TripWorker } from './tripWorker.js';

export interface BusMonitor {
  /** Messages that may wait in the worker's partitions, as last measured (an upper bound). */
  backlog(): number;
  /** How long the oldest of them has waited, as last measured. */
  lagMs(): number;
  stop(): void;
}

/**
 * Measures the bus backlog and lag of the partitions a trip worker consumes, once now and then
 * every `intervalMs`, into `tripline_bus_backlog_messages` and `tripline_bus_lag_seconds`; health,
 * the live-trip watchdog (and embedded ingest's back-pressure) read the last figures.
 */
export async function startBusMonitor(worker: TripWorker, metrics: Metrics, intervalMs: number): Promise<BusMonitor> {
  let backlog = 0;
  let lagMs = 0;
  let measuring = false;
  const measure = async (): Promise<void> => {
    measuring = true;
    try {
      [backlog, lagMs] = await Promise.all([worker.backlog(), worker.busLagMs()]);
      metrics.busBacklog.set(backlog);
      metrics.busLagSeconds.set(lagMs / 1000);
    } finally {
      measuring = false;
    }
  };
  // A failed measurement keeps the last figures (a bus that is down shows in the worker's errors).
  await measure().catch(() => undefined);
  const timer = setInterval(() => {
    // One at a time, so a slow bus does not pile requests up.
    if (!measuring) measure().catch(() => undefined);
  }, intervalMs);
  timer.unref();
  return { backlog: () => backlog, lagMs: () => lagMs, stop: () => clearInterval(timer) };
}
