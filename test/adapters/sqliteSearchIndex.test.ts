import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteSearchIndex } from '../../src/adapters/embedded/sqliteSearchIndex.js';
import { searchIndexContract } from '../../testkit/searchIndexContract.js';

searchIndexContract('SQLite search store', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tripline-search-'));
  const index = new SqliteSearchIndex(join(dir, 'search.db'), 'NORMAL');
  return {
    index,
    close: async () => {
      await index.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
