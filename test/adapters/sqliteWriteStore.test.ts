import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteWriteStore } from '../../src/adapters/embedded/sqliteWriteStore.js';
import { writeStoreContract } from '../../testkit/writeStoreContract.js';

writeStoreContract('SQLite write store', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tripline-write-'));
  const store = new SqliteWriteStore(join(dir, 'write.db'), 'NORMAL');
  return {
    store,
    close: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
