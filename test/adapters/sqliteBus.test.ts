import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { SqliteBus } from '../../src/adapters/embedded/sqliteBus.js';
import type { PointsMessage } from '../../src/ports/eventBus.js';
import { eventBusContract } from '../../testkit/eventBusContract.js';

const places: string[] = [];
after(() => places.forEach((dir) => rmSync(dir, { recursive: true, force: true })));
eventBusContract('SqliteBus', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tripline-bus-'));
  places.push(dir);
  return async ({ partitionCount, retentionMs }) => new SqliteBus({ path: join(dir, 'bus.db'), partitionCount, synchronous: 'NORMAL', retentionMs });
});

const message = (deviceId: string): PointsMessage => ({
  kind: 'points', deviceId, vehicleId: deviceId, tenantId: 'acme', receivedAtMs: 1, points: [{ tsMs: 1, lat: 1, lon: 1 }],
});

test('bus messages keep their headers; a bus written before headers existed still reads (with none)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tripline-bus-'));
  try {
    const path = join(dir, 'bus.db');
    // A bus file as it was before the headers column.
    const old = new Database(path);
    old.exec(`CREATE TABLE bus_messages (offset INTEGER PRIMARY KEY AUTOINCREMENT, partition INTEGER NOT NULL, appended_at_ms INTEGER NOT NULL, body TEXT NOT NULL);
      CREATE INDEX bus_by_partition ON bus_messages (partition, offset);`);
    old.prepare('INSERT INTO bus_messages (partition, appended_at_ms, body) VALUES (0, ?, ?)').run(Date.now() - 5000, JSON.stringify(message('old-car')));
    old.close();

    const bus = new SqliteBus({ path, partitionCount: 1, synchronous: 'NORMAL', retentionMs: 0 });
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    await bus.append([message('new-car')], { traceparent });
    await bus.append([message('plain-car')]);
    const records = await bus.read(0, 0, 10);
    assert.deepEqual(records.map((r) => [r.message.deviceId, r.headers]), [['old-car', {}], ['new-car', { traceparent }], ['plain-car', {}]]);
    // Bus lag: the oldest unconsumed message's receipt.
    const oldest = await bus.oldestUnconsumedAtMs(new Map([[0, 0]]));
    assert.ok(oldest !== null && Date.now() - oldest >= 5000);
    assert.equal(await bus.oldestUnconsumedAtMs(new Map([[0, records[2]!.offset]])), null);
    await bus.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
