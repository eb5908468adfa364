import type { Alert } from '../domain/alerts/alert.js';

export type AlertListener = (alert: Alert) => void;

/** The live subscribers of each tenant's alerts (the SSE streams of dashboards), in this process. */
export class AlertHub {
  private readonly listeners = new Map<string, Set<AlertListener>>();

  subscribe(tenantId: string, listener: AlertListener): () => void {
    let set = this.listeners.get(tenantId);
    if (!set) this.listeners.set(tenantId, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(tenantId);
    };
  }

  /** Hands the alert to every subscriber of its tenant, and no one else; returns how many. */
  publish(alert: Alert): number {
    const set = this.listeners.get(alert.tenantId);
    if (!set) return 0;
    for (const listener of set) listener(alert);
    return set.size;
  }

  subscribers(): number {
    let n = 0;
    for (const set of this.listeners.values()) n += set.size;
    return n;
  }
}
