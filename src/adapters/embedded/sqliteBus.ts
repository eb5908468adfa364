import type { BusHeaders, BusMessage, BusRecord, EventBus } from '../../ports/eventBus.js';
import { partitionOf } from '../../ports/eventBus.js';
import { openSqlite, type SqliteSynchronous } from './sqlite.js';

export interface SqliteBusOptions {
  path: string;
  partitionCount: number;
  synchronous: SqliteSynchronous;
  /** Consumed messages are kept this long (for inspection and replays), then pruned. */
  retentionMs: number;
  /** At most this many messages go into one group commit. */
  maxGroupSize?: number;
}

interface Pending {
  messages: BusMessage[];
  headers: string | null;
  resolve: () => void;
  reject: (error: Error) => void;
}

/**
 * The embedded event bus: an append-only SQLite table, one row per message, with group
 * commit: appends that arrive in the same turn of the event loop share one transaction
 * (and one fsync), and each caller's promise resolves only after that commit.
 */
export class SqliteBus implements EventBus {
  readonly partitionCount: number;
  private readonly db;
  private readonly insert;
  private readonly selectAfter;
  private readonly selectHead;
  private readonly selectOldest;
  private readonly listeners: Array<() => void> = [];
  private queue: Pending[] = [];
  private flushScheduled = false;

  constructor(private readonly options: SqliteBusOptions) {
    this.partitionCount = options.partitionCount;
    this.db = openSqlite(options.path, options.synchronous);
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS bus_messages (
        offset INTEGER PRIMARY KEY AUTOINCREMENT,
        partition INTEGER NOT NULL,
        appended_at_ms INTEGER NOT NULL,
        body TEXT NOT NULL
      );
      CREATE INDEX IF NOT EXISTS bus_by_partition ON bus_messages (partition, offset);
    `);
    // Headers came later: a bus written before them gains the column, and its rows read as no headers.
    const columns = this.db.prepare('PRAGMA table_info(bus_messages)').all() as Array<{ name: string }>;
    if (!columns.some((column) => column.name === 'headers')) this.db.exec('ALTER TABLE bus_messages ADD COLUMN headers TEXT');
    this.insert = this.db.prepare('INSERT INTO bus_messages (partition, appended_at_ms, body, headers) VALUES (?, ?, ?, ?)');
    this.selectAfter = this.db.prepare('SELECT offset, body, headers FROM bus_messages WHERE partition = ? AND offset > ? ORDER BY offset LIMIT ?');
    this.selectOldest = this.db.prepare('SELECT appended_at_ms FROM bus_messages WHERE partition = ? AND offset > ? ORDER BY offset LIMIT 1');
    // AUTOINCREMENT keeps offsets growing even after pruning empties the table.
    this.selectHead = this.db.prepare("SELECT seq AS offset FROM sqlite_sequence WHERE name = 'bus_messages'");
  }

  append(messages: BusMessage[], headers?: BusHeaders): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ messages, headers: headers && Object.keys(headers).length > 0 ? JSON.stringify(headers) : null, resolve, reject });
      if (this.queue.length >= (this.options.maxGroupSize ?? 500)) this.flush();
      else if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  async read(partition: number, afterOffset: number, limit: number): Promise<BusRecord[]> {
    const rows = this.selectAfter.all(partition, afterOffset, limit) as Array<{ offset: number; body: string; headers: string | null }>;
    return rows.map((row) => ({
      partition,
      offset: row.offset,
      message: JSON.parse(row.body) as BusMessage,
      headers: row.headers ? (JSON.parse(row.headers) as BusHeaders) : {},
    }));
  }

  async oldestUnconsumedAtMs(positions: ReadonlyMap<number, number>): Promise<number | null> {
    let oldest: number | null = null;
    for (const [partition, position] of positions) {
      const row = this.selectOldest.get(partition, position) as { appended_at_ms: number } | undefined;
      if (row && (oldest === null || row.appended_at_ms < oldest)) oldest = row.appended_at_ms;
    }
    return oldest;
  }

  async head(): Promise<number> {
    return (this.selectHead.get() as { offset: number } | undefined)?.offset ?? 0;
  }

  async prune(cursors: ReadonlyMap<number, number>): Promise<number> {
    const before = Date.now() - this.options.retentionMs;
    let removed = 0;
    for (let partition = 0; partition < this.partitionCount; partition++) {
      const cursor = cursors.get(partition) ?? 0;
      removed += this.db
        .prepare('DELETE FROM bus_messages WHERE partition = ? AND offset <= ? AND appended_at_ms < ?')
        .run(partition, cursor, before).changes;
    }
    return removed;
  }

  onAppend(listener: () => void): void {
    this.listeners.push(listener);
  }

  async close(): Promise<void> {
    this.flush();
    this.db.close();
  }

  private flush(): void {
    this.flushScheduled = false;
    const batch = this.queue;
    if (batch.length === 0) return;
    this.queue = [];
    const now = Date.now();
    try {
      this.db.transaction(() => {
        for (const pending of batch) {
          for (const message of pending.messages) {
            this.insert.run(partitionOf(message.deviceId, this.partitionCount), now, JSON.stringify(message), pending.headers);
          }
        }
      })();
    } catch (error) {
      for (const pending of batch) pending.reject(error as Error);
      return;
    }
    for (const pending of batch) pending.resolve();
    for (const listener of this.listeners) listener();
  }
}
