import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import Database from 'better-sqlite3';
import { SqliteDeviceRegistry } from '../../src/adapters/embedded/sqliteDeviceRegistry.js';
import { deviceRegistryContract } from '../../testkit/deviceRegistryContract.js';

const dir = mkdtempSync(join(tmpdir(), 'tripline-devices-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

deviceRegistryContract('SQLite device registry', async () => {
  const path = join(dir, `devices-${++files}.db`);
  return {
    open: async (scryptLog2N) => new SqliteDeviceRegistry(path, { scryptLog2N }),
    storedSecretHash: async (deviceId) => {
      const db = new Database(path, { readonly: true });
      try {
        return (db.prepare('SELECT secret_hash FROM devices WHERE device_id = ?').get(deviceId) as { secret_hash: string }).secret_hash;
      } finally {
        db.close();
      }
    },
  };
});
