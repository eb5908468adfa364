import pg from 'pg';

// BIGINT columns hold epoch milliseconds and offsets, which fit a JS number exactly (< 2^53).
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;

/** A connection pool for one database URL (`postgres://user@host:port/db`). */
export function createPool(url: string, max = 10): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max,
    // A half-open connection (a failover, a dropped NAT entry) must fail in seconds, not hang a
    // worker's commit for the kernel's retransmission timeout.
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    connectionTimeoutMillis: 10_000,
    query_timeout: 120_000,
  });
  // An idle client losing its server (a restart) must not crash the process; the next query reconnects.
  pool.on('error', () => undefined);
  return pool;
}

/** A pool made ready by `open` (creating its schema, say) and what `open` builds on it; the pool is closed again when that fails. */
export async function openWithPool<T>(url: string, max: number, open: (pool: pg.Pool) => Promise<T>): Promise<T> {
  const pool = createPool(url, max);
  try {
    return await open(pool);
  } catch (error) {
    await pool.end();
    throw error;
  }
}

/** Runs `work` in one transaction on one pooled connection: COMMIT on success, ROLLBACK on any error. */
export async function inTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  // The pool stops listening to a checked-out client: a connection lost mid-transaction would
  // otherwise be an unhandled 'error' event that ends the process. The query under way fails instead.
  let broken: Error | undefined;
  const onError = (error: Error): void => {
    broken = error;
  };
  client.on('error', onError);
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    if (!broken) await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.off('error', onError);
    // A broken connection goes, rather than back into the pool.
    client.release(broken);
  }
}
