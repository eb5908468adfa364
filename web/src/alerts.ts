import { useEffect, useState } from 'preact/hooks';
import type { Alert } from './types';
import type { StreamStatus } from './sse';

/** Alerts received this session (newest first) and the stream's state, shared by every page. */
const MAX_KEPT = 100;
let alerts: Alert[] = [];
let status: StreamStatus = 'closed';
const listeners = new Set<() => void>();
const notify = (): void => listeners.forEach((listener) => listener());

export function addAlert(alert: Alert): void {
  if (alerts.some((known) => known.alertId === alert.alertId)) return;
  alerts = [alert, ...alerts].slice(0, MAX_KEPT);
  notify();
}

export function setStreamStatus(next: StreamStatus): void {
  status = next;
  notify();
}

export function useAlerts(): { alerts: Alert[]; status: StreamStatus } {
  const [, setTick] = useState(0);
  useEffect(() => {
    const update = (): void => setTick((n) => n + 1);
    listeners.add(update);
    return () => void listeners.delete(update);
  }, []);
  return { alerts, status };
}
