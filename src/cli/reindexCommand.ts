import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { SqliteSearchIndex } from '../adapters/embedded/sqliteSearchIndex.js';
import { SqliteWriteStore } from '../adapters/embedded/sqliteWriteStore.js';
import { reindex, type ReindexProgress } from '../functions/reindex.js';
import { loadConfig, SETTINGS } from '../runtime/config.js';
import { abortOnSignals } from './options.js';

export function registerReindexCommand(program: Command): void {
  program
    .command('reindex')
    .description('rebuild the search store from the write store; safe while the platform runs')
    .option('--data-dir <dir>', `data folder (${SETTINGS.dataDir.env})`)
    .option('--reset', 'empty the search store first (queries see a partial store until the rebuild finishes)')
    .addHelpText(
      'after',
      `
Every trip is written to the search store at its current version. A document the search store
already holds at that version or a newer one is left alone, so without --reset a reindex only
fills in missing or stale documents: running it twice changes nothing, and it never rolls a
document back. Use --reset to repair documents that are wrong at their current version (a damaged
store, or documents an older build indexed differently); the running platform's sync also starts
over from the beginning of the outbox then, which is wasted work but harmless.

When it finishes, the search store's position is the write store's outbox head as it was when the
rebuild began, and the running sync applies whatever changed since. Interrupting it (Ctrl-C) is
safe. Progress goes to stderr; a JSON summary {"trips": N, "seconds": S} to stdout.`,
    )
    .action(async (opts: { dataDir?: string; reset?: boolean }) => {
      const config = loadConfig(opts.dataDir ? { dataDir: opts.dataDir } : {});
      const writePath = join(config.dataDir, 'write.db');
      // Opening would create an empty write store, and the rebuild would quietly index nothing.
      if (!existsSync(writePath)) throw new Error(`no write store at ${writePath} (set --data-dir or ${SETTINGS.dataDir.env})`);
      const store = new SqliteWriteStore(writePath, 'NORMAL');
      const index = new SqliteSearchIndex(join(config.dataDir, 'search.db'), 'NORMAL');
      const started = performance.now();
      const bar = progressBar(process.stderr);
      try {
        const result = await reindex(store, index, {
          reset: opts.reset ?? false,
          onProgress: bar.update,
          signal: abortOnSignals(),
          isTransient: isSqliteBusy,
        });
        bar.end();
        const seconds = Math.round(performance.now() - started) / 1000;
        if (!result.completed) {
          process.stderr.write(`reindex interrupted after ${result.trips.toLocaleString('en-US')} trips; run it again to finish\n`);
          process.exitCode = 130;
        }
        process.stdout.write(`${JSON.stringify({ trips: result.trips, seconds })}\n`);
      } finally {
        bar.end();
        await index.close();
        await store.close();
      }
    });
}

/** The running platform's sync holds the search store's write lock, or committed since this transaction's read began. */
function isSqliteBusy(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code === 'SQLITE_BUSY' || code.startsWith('SQLITE_BUSY_'));
}

/** "reindexing 12,345/100,000 trips" redrawn in place on a terminal; a line every 10 % otherwise. */
function progressBar(out: NodeJS.WriteStream): { update: (progress: ReindexProgress) => void; end: () => void } {
  const tty = out.isTTY === true;
  let lastDrawMs = 0;
  let lastDecile = -1;
  let drawn: string | null = null;
  let ended = false;
  let latest: ReindexProgress = { done: 0, total: 0 };
  const line = ({ done, total }: ReindexProgress): string => {
    const of = Math.max(total, done);
    const share = of > 0 ? done / of : 1;
    const width = 30;
    const filled = Math.round(share * width);
    const bar = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
    return `reindexing ${done.toLocaleString('en-US')}/${of.toLocaleString('en-US')} trips ${tty ? `${bar} ` : ''}${Math.floor(share * 100)}%`;
  };
  const draw = () => {
    const text = line(latest);
    if (text !== drawn) out.write(`\r${text}\x1b[K`);
    drawn = text;
    lastDrawMs = Date.now();
  };
  return {
    update: (progress) => {
      latest = progress;
      if (tty) {
        if (Date.now() - lastDrawMs >= 100 || progress.done >= progress.total) draw();
        return;
      }
      const of = Math.max(progress.total, progress.done);
      const decile = of > 0 ? Math.floor((progress.done / of) * 10) : 10;
      if (decile > lastDecile) {
        lastDecile = decile;
        out.write(`${line(progress)}\n`);
      }
    },
    end: () => {
      if (ended) return;
      ended = true;
      if (tty) {
        draw();
        if (drawn !== null) out.write('\n');
      }
    },
  };
}
