import Database from 'better-sqlite3';

export type SqliteSynchronous = 'OFF' | 'NORMAL' | 'FULL';

/**
 * Opens a database in WAL mode. `synchronous` is the durability knob: FULL fsyncs every
 * commit (survives power loss); NORMAL survives a process crash (kill -9) but may lose the
 * last commits on power loss. Group commit keeps FULL affordable.
 */
export function openSqlite(path: string, synchronous: SqliteSynchronous): Database.Database {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${synchronous}`);
  db.pragma('busy_timeout = 5000');
  db.pragma('cache_size = -65536');
  return db;
}

export type { Database };
