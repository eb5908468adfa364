/** What one cluster process does; any number of each may run, on any machines. */
const ROLES = ['ingest', 'worker', 'sync', 'api'] as const;
export type Role = (typeof ROLES)[number];

/** `all`, one role, or a comma-separated list (`ingest,worker`). Throws on an unknown name. */
export function parseRoles(text: string): Set<Role> {
  const names = text.split(',').map((name) => name.trim()).filter(Boolean);
  if (names.length === 0) throw new Error('--role needs ingest, worker, sync, api or all');
  const roles = new Set<Role>();
  for (const name of names) {
    if (name === 'all') ROLES.forEach((role) => roles.add(role));
    else if ((ROLES as readonly string[]).includes(name)) roles.add(name as Role);
    else throw new Error(`unknown role ${JSON.stringify(name)}: expected ingest, worker, sync, api or all`);
  }
  return roles;
}
