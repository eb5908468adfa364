/** A started role: what it adds to /healthz, and how it stops. */
export interface RoleHandle {
  health: () => Promise<Record<string, { status: 'ok' | 'degraded' } & Record<string, unknown>>>;
  stop: () => Promise<void>;
}
