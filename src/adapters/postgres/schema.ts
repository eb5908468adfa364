import { inTransaction, type Pool } from './pool.js';

/** Every tripline process takes this one advisory lock before creating or changing tables. */
const SCHEMA_LOCK_KEY = 7_427_171_000; // arbitrary, fixed: "tripline schema"

/**
 * Runs idempotent DDL (`CREATE … IF NOT EXISTS`) in one transaction under a cluster-wide
 * advisory lock: processes starting together would otherwise race on the catalog and one would
 * fail with a duplicate key on pg_type. The lock is released at commit.
 */
export async function applySchema(pool: Pool, ddl: string): Promise<void> {
  await inTransaction(pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock($1)', [SCHEMA_LOCK_KEY]);
    await client.query(ddl);
  });
}
