import assert from 'node:assert/strict';
import { test } from 'node:test';
import pino from 'pino';
import { openPgDeviceRegistry } from '../../src/adapters/postgres/pgDeviceRegistry.js';
import type { DeviceRecord, DeviceRegistry } from '../../src/ports/deviceRegistry.js';
import { RegistryIdentities } from '../../src/runtime/cluster/registryIdentities.js';
import { eventually } from '../../testkit/platform.js';
import { testPostgres } from '../../testkit/postgres.js';
import { FAST_HASHING } from '../../testkit/deviceRegistryContract.js';

/**
 * Cluster ingest's identity cache on the real PostgreSQL registry. The registry is wrapped only
 * to watch its calls and to hold one lookup's answer back, which makes the race deterministic.
 */
const postgres = testPostgres('tripline-pg-identities-');
const silent = pino({ level: 'silent' });
const device = (deviceId: string) => ({ deviceId, tenantId: 't1', vehicleId: `veh-${deviceId}` });

interface Watched {
  registry: Pick<DeviceRegistry, 'get' | 'changedSince' | 'currentRevision'>;
  gets: string[];
  /** Every `changedSince` query: where it started and what it returned. */
  feed: Array<{ after: number; records: DeviceRecord[] }>;
  /** The next get of this device reads the registry, then waits for `release` before answering. */
  hold: (deviceId: string) => { read: Promise<void>; release: () => void };
}

function watch(inner: DeviceRegistry): Watched {
  const gets: string[] = [];
  const feed: Watched['feed'] = [];
  const held = new Map<string, { read: () => void; released: Promise<void> }>();
  return {
    gets,
    feed,
    hold: (deviceId) => {
      let read = (): void => {};
      let release = (): void => {};
      const readPromise = new Promise<void>((resolve) => (read = resolve));
      held.set(deviceId, { read, released: new Promise<void>((resolve) => (release = resolve)) });
      return { read: readPromise, release };
    },
    registry: {
      get: async (tenantId, deviceId) => {
        gets.push(deviceId);
        const record = await inner.get(tenantId, deviceId);
        const gate = held.get(deviceId);
        if (gate) {
          held.delete(deviceId);
          gate.read();
          await gate.released;
        }
        return record;
      },
      changedSince: async (after, limit) => {
        const records = await inner.changedSince(after, limit);
        feed.push({ after, records });
        return records;
      },
      currentRevision: () => inner.currentRevision(),
    },
  };
}

if (!postgres) {
  test('RegistryIdentities on PostgreSQL', (t) => t.skip('PostgreSQL is not installed'));
} else {
  test('a lookup that read a device before its revocation, answering after the feed reported it, does not cache the old identity', async () => {
    const registry = await openPgDeviceRegistry(await postgres.freshDatabase(), FAST_HASHING);
    const watched = watch(registry);
    const identities = new RegistryIdentities(watched.registry, silent, 10);
    try {
      await registry.add(device('car-1'));
      await registry.add(device('car-2'));
      assert.equal((await identities.get('car-2'))?.vehicleId, 'veh-car-2', 'the feed runs from here on');

      const gate = watched.hold('car-1');
      const lookup = identities.get('car-1');
      await gate.read; // the record, not revoked yet, is in hand
      const revoked = await registry.revoke(null, 'car-1');
      // The feed reported the revocation, and the poll that read it is over (polls run one after another).
      await eventually(async () => {
        const at = watched.feed.findIndex((page) => page.records.some((r) => r.deviceId === 'car-1' && r.revokedAtMs !== null));
        return at >= 0 && watched.feed.length > at + 1 ? true : null;
      }, 5000, 'the feed to report the revocation');
      gate.release();

      assert.equal(await lookup, null, 'the held lookup answers with the newer record');
      assert.equal(await identities.get('car-1'), null, 'revoked from the cache');
      assert.deepEqual(watched.gets.filter((id) => id === 'car-1'), ['car-1'], 'the revocation is cached, not looked up again');
      assert.ok(revoked?.revokedAtMs);
    } finally {
      await identities.close();
      await registry.close();
    }
  });

  test('the feed starts at the registry revision of the first lookup, never reads the whole registry, and still sees later changes', async () => {
    const registry = await openPgDeviceRegistry(await postgres.freshDatabase(), FAST_HASHING);
    const watched = watch(registry);
    const identities = new RegistryIdentities(watched.registry, silent, 10);
    try {
      for (const id of ['car-a', 'car-b', 'car-c']) await registry.add(device(id));
      const start = await registry.currentRevision();
      const ids = await Promise.all(Array.from({ length: 5 }, () => identities.get('car-a')));
      assert.ok(ids.every((identity) => identity?.vehicleId === 'veh-car-a'));
      assert.deepEqual(watched.gets, ['car-a'], 'concurrent lookups of one device share one query');
      assert.equal(await identities.get('car-nope'), null);
      await registry.add(device('car-nope'));
      assert.equal((await identities.get('car-nope'))?.vehicleId, 'veh-car-nope', 'an unknown device is not remembered as unknown');

      await registry.revoke(null, 'car-a');
      await eventually(async () => (await identities.get('car-a')) === null, 5000, 'the revocation to reach the cache');
      assert.ok(watched.feed.length > 0);
      assert.ok(watched.feed.every((page) => page.after >= start), `no query from before the start (${start}): ${watched.feed.map((p) => p.after).join(' ')}`);
    } finally {
      await identities.close();
      await registry.close();
    }
  });
}
