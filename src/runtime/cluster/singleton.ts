import type { Logger } from 'pino';
import pg from 'pg';
import { setTimeout as sleep } from 'node:timers/promises';

const HEARTBEAT_MS = 2_000;
const HEARTBEAT_TIMEOUT_MS = 3_000;

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
        // Keepalives and a heartbeat: a dead network must end the lead in seconds (PostgreSQL keeps
        // a silent session, and its lock, until its own keepalive gives up, by default hours).
        client = new pg.Client({ connectionString: options.url, keepAlive: true, keepAliveInitialDelayMillis: 5_000, query_timeout: HEARTBEAT_TIMEOUT_MS });
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
          await client.query(`SET tcp_keepalives_idle = 5; SET tcp_keepalives_interval = 2; SET tcp_keepalives_count = 3`);
          await options.start();
          const session = client;
          // A heartbeat that fails or stalls ends the session, and with it the lead.
          const heartbeat = setInterval(() => {
            session.query('SELECT 1').catch(() => void session.end().catch(() => undefined));
          }, HEARTBEAT_MS);
          await ended;
          clearInterval(heartbeat);
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
