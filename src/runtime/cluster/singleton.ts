import type { Logger } from 'pino';
import pg from 'pg';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Runs `work` in one process of the cluster at a time: the holder of a PostgreSQL session
 * advisory lock. Others wait and take over when the holder's session ends (it stopped, crashed,
 * or lost its connection — PostgreSQL releases the lock with the session). A holder that loses
 * its connection stops its work at once, since another may already have taken the lock.
 */
export function runAsSingleton(options: {
  url: string;
  /** Names the lock: one singleton per name. */
  name: string;
  logger: Logger;
  start: () => Promise<void>;
  stop: () => Promise<void>;
  retryMs?: number;
}): { isLeader: () => boolean; close: () => Promise<void> } {
  let closed = false;
  let leader = false;
  let client: pg.Client | null = null;
  let wake: (() => void) | null = null;

  const loop = async (): Promise<void> => {
    while (!closed) {
      try {
        client = new pg.Client({ connectionString: options.url });
        const ended = new Promise<void>((resolve) => {
          client!.once('end', () => resolve());
          // Every error, not just the first: an unhandled 'error' event would end the process.
          client!.on('error', () => resolve());
          wake = resolve;
        });
        await client.connect();
        for (;;) {
          const { rows } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock(hashtext($1)) AS ok', [`tripline:${options.name}`]);
          if (rows[0]?.ok) break;
          if (closed) break;
          await Promise.race([sleep(options.retryMs ?? 1000), ended]);
        }
        if (!closed) {
          leader = true;
          options.logger.info({ singleton: options.name }, 'took the lead');
          await options.start();
          await ended;
          leader = false;
          await options.stop();
          if (!closed) options.logger.warn({ singleton: options.name }, 'lost the lead (database session ended); will try again');
        }
      } catch (error) {
        if (leader) {
          leader = false;
          await options.stop().catch(() => undefined);
        }
        if (!closed) options.logger.warn({ err: error, singleton: options.name }, 'singleton lock unavailable; will retry');
      } finally {
        await client?.end().catch(() => undefined);
        client = null;
      }
      if (!closed) await sleep(options.retryMs ?? 1000);
    }
  };
  const running = loop();
  return {
    isLeader: () => leader,
    close: async () => {
      closed = true;
      wake?.();
      await running;
    },
  };
}
