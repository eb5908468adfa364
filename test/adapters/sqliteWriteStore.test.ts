import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { SqliteWriteStore } from '../../src/adapters/embedded/sqliteWriteStore.js';
import { batchOf, findsUnhashedStates, stateOf, writeStoreContract } from '../../testkit/writeStoreContract.js';

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

test('a file from before device_hash gains the column; its states are found in their partitions, and hashed on their next commit', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tripline-write-'));
  const path = join(dir, 'write.db');
  const devices = Array.from({ length: 8 }, (_, i) => `car-${i}`);
  try {
    const old = new SqliteWriteStore(path, 'NORMAL');
    await old.commit([batchOf(0, 1, { states: devices.map((id) => stateOf(id, true)) })]);
    await old.close();
    const raw = new Database(path);
    raw.exec('ALTER TABLE device_states DROP COLUMN device_hash');
    raw.close();
    const store = new SqliteWriteStore(path, 'NORMAL');
    let hashed: string;
    try {
      hashed = await findsUnhashedStates(store, devices);
    } finally {
      await store.close();
    }
    const check = new Database(path, { readonly: true });
    const hashedRows = check.prepare('SELECT device_id FROM device_states WHERE device_hash IS NOT NULL').all() as Array<{ device_id: string }>;
    check.close();
    assert.deepEqual(hashedRows.map((row) => row.device_id), [hashed]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
