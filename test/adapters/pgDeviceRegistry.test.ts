import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createPool } from '../../src/adapters/postgres/pool.js';
import { openPgDeviceRegistry, REGISTRY_SCHEMA } from '../../src/adapters/postgres/pgDeviceRegistry.js';
import { DeviceExistsError, type DeviceRegistry } from '../../src/ports/deviceRegistry.js';
import { deviceRegistryContract, FAST_HASHING } from '../../testkit/deviceRegistryContract.js';
import { testPostgres } from '../../testkit/postgres.js';

const postgres = testPostgres('tripline-pg-devices-');

if (!postgres) {
  test('PostgreSQL device registry', (t) => t.skip('PostgreSQL is not installed'));
} else {
  const fresh = postgres.freshDatabase;

  deviceRegistryContract('PostgreSQL device registry', async () => {
    const url = await fresh();
    return {
      open: (scryptLog2N) => openPgDeviceRegistry(url, { scryptLog2N }),
      storedSecretHash: async (deviceId) => {
        const pool = createPool(url, 1);
        try {
          return (await pool.query<{ secret_hash: string }>(`SELECT secret_hash FROM ${REGISTRY_SCHEMA}.devices WHERE device_id = $1`, [deviceId])).rows[0]!.secret_hash;
        } finally {
          await pool.end();
        }
      },
    };
  });

  test('processes starting together on an empty database all get the tables (the DDL is serialised)', async () => {
    const url = await fresh();
    const registries = await Promise.all(Array.from({ length: 4 }, () => openPgDeviceRegistry(url, FAST_HASHING)));
    try {
      await registries[0]!.add({ deviceId: 'car-1', tenantId: 't1', vehicleId: 'v1' });
      for (const registry of registries) assert.equal((await registry.get(null, 'car-1'))?.revision, 1);
    } finally {
      await Promise.all(registries.map((registry) => registry.close()));
    }
  });

  // A plain sequence (revisions taken without the counter's lock) fails this in most runs: a revision commits after a higher one was read.
  test('two processes writing at once: revisions are unique and dense, and a watcher tailing changedSince misses no change', async () => {
    const url = await fresh();
    const writers = [await openPgDeviceRegistry(url, FAST_HASHING), await openPgDeviceRegistry(url, FAST_HASHING)];
    const watcher = await openPgDeviceRegistry(url, FAST_HASHING);
    try {
      // What the device watcher does: keep the highest revision seen, ask for what changed after it (small pages, so writes land between them).
      const lastSeen = new Map<string, number>();
      let cursor = 0;
      let polls = 0;
      const poll = async (): Promise<void> => {
        const changed = await watcher.changedSince(cursor, 7);
        for (const record of changed) {
          assert.ok(record.revision > cursor, `revision ${record.revision} returned after ${cursor}`);
          cursor = record.revision;
          lastSeen.set(record.deviceId, record.revision);
        }
        polls++;
      };
      let writing = true;
      const tailing = (async () => {
        while (writing) await poll();
      })();

      // Both writers add the same 40 ids (each id is won by one); then the first revokes every third id and rotates
      // the others while the second rotates them all, in the other order: rotations race revocations.
      const ids = Array.from({ length: 40 }, (_, i) => `car-${String(i).padStart(2, '0')}`);
      let writes = 0;
      let refusedAdds = 0;
      const inEights = async (order: string[], each: (id: string) => Promise<void>): Promise<void> => {
        for (let i = 0; i < order.length; i += 8) await Promise.all(order.slice(i, i + 8).map(each));
      };
      const work = async (registry: DeviceRegistry, order: string[], revokes: boolean): Promise<void> => {
        await inEights(order, async (id) => {
          try {
            await registry.add({ deviceId: id, tenantId: 't1', vehicleId: `v-${id}` });
            writes++;
          } catch (error) {
            if (!(error instanceof DeviceExistsError)) throw error;
            refusedAdds++;
          }
        });
        await inEights(order, async (id) => {
          if (revokes && ids.indexOf(id) % 3 === 0) {
            await registry.revoke(null, id);
            writes++;
          } else if (await registry.rotate(null, id, 0).catch(revokedMeanwhile)) writes++;
        });
      };
      await Promise.all([work(writers[0]!, ids, true), work(writers[1]!, [...ids].reverse(), false)]);
      writing = false;
      await tailing;
      while (cursor < (await watcher.currentRevision())) await poll();

      assert.equal(refusedAdds, ids.length, 'each id added once');
      const final = await watcher.changedSince(0, 100);
      assert.equal(final.length, ids.length);
      const revisions = final.map((r) => r.revision);
      assert.equal(new Set(revisions).size, revisions.length, 'no two records share a revision');
      assert.equal(final.filter((r) => r.revokedAtMs !== null).length, 14);
      assert.equal(Math.max(...revisions), writes, 'dense: every write took the next number; refused adds gave theirs back');
      for (const record of final) {
        assert.equal(lastSeen.get(record.deviceId), record.revision, `the watcher saw the last change of ${record.deviceId}`);
      }
      assert.ok(polls > 10, `the watcher polled during the writes (${polls} polls)`);
    } finally {
      await Promise.all([...writers, watcher].map((registry) => registry.close()));
    }
  });
}

/** A rotation racing the other process's revocation may find the device revoked: that refusal is expected. */
function revokedMeanwhile(error: unknown): null {
  if (!(error instanceof Error) || !/revoked/.test(error.message)) throw error;
  return null;
}
