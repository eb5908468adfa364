import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { SqliteAlertStore } from '../../src/adapters/embedded/sqliteAlertStore.js';
import { alertStoreContract } from '../../testkit/alertStoreContract.js';

const dir = mkdtempSync(join(tmpdir(), 'tripline-alert-store-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

alertStoreContract('SQLite alert store', async () => new SqliteAlertStore(join(dir, `alerts-${++files}.db`), 'NORMAL'));
