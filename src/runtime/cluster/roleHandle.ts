/** A started role: what it adds to /healthz, and how it stops. */
export type ComponentHealth = Record<string, { status: 'ok' | 'degraded' } & Record<string, unknown>>;

export interface RoleHandle {
  health: () => Promise<ComponentHealth>;
  stop: () => Promise<void>;
}
