import { WRITE_SCHEMA } from './pgWriteSchema.js';
import type { Pool } from './pool.js';
import { applySchema } from './schema.js';

export interface ChunkMonth {
  /** Table name, `point_chunks_YYYY_MM` (UTC). */
  name: string;
  fromMs: number;
  toMs: number;
}

/**
 * Point chunks are partitioned by the UTC month of their first point: a month is one table,
 * which an operator can detach, archive or drop whole instead of deleting rows. Times outside
 * years 1970–9999 (ingest allows 2000–2100) get no month and land in the DEFAULT partition.
 */
export function chunkMonth(firstMs: number): ChunkMonth | null {
  const date = new Date(firstMs);
  const year = date.getUTCFullYear();
  if (!Number.isInteger(year) || year < 1970 || year > 9999) return null;
  const month = date.getUTCMonth();
  return { name: `point_chunks_${year}_${String(month + 1).padStart(2, '0')}`, fromMs: Date.UTC(year, month, 1), toMs: Date.UTC(year, month + 1, 1) };
}

/**
 * Creates monthly partitions before the first chunk of their month is inserted, and this and
 * next month's ahead of time, so that live traffic crossing into a new month never waits on DDL
 * (only chunks of old or far future months do, once per month and process).
 */
export class ChunkPartitions {
  /** Months this process knows exist: the hot path costs no query once a month is made. */
  private readonly known = new Set<string>();

  constructor(private readonly pool: Pool) {}

  async ensure(firstMsValues: Iterable<number>): Promise<void> {
    const missing = new Map<string, ChunkMonth>();
    const now = new Date();
    for (const firstMs of [now.getTime(), Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1), ...firstMsValues]) {
      const month = chunkMonth(firstMs);
      if (month && !this.known.has(month.name)) missing.set(month.name, month);
    }
    for (const month of missing.values()) {
      await this.create(month);
      this.known.add(month.name);
    }
  }

  /**
   * Its own short transaction, before the commit's: creating a partition locks the parent table
   * exclusively, which must not happen while holding a commit's row locks. When the partition
   * exists, IF NOT EXISTS returns before touching the parent.
   */
  private async create(month: ChunkMonth): Promise<void> {
    try {
      await applySchema(
        this.pool,
        `CREATE TABLE IF NOT EXISTS ${WRITE_SCHEMA}.${month.name} PARTITION OF ${WRITE_SCHEMA}.point_chunks FOR VALUES FROM (${month.fromMs}) TO (${month.toMs})`,
      );
    } catch (error) {
      // check_violation: the DEFAULT partition already holds chunks of this month (the partition
      // was dropped, or rows were written by hand). They stay there, and so will this month's next ones.
      if ((error as { code?: string }).code !== '23514') throw error;
    }
  }
}
