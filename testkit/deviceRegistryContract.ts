import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { DeviceExistsError, type DeviceRegistry, type NewDevice } from '../src/ports/deviceRegistry.js';
import { createCachedVerifier } from '../src/security/cachedVerifier.js';

const device = (deviceId: string, over: Partial<NewDevice> = {}): NewDevice => ({ deviceId, tenantId: 't1', vehicleId: `veh-${deviceId}`, ...over });

/** scrypt cost (log2 N) of the registries under test: the default is 16 times slower. */
export const FAST_HASHING = { scryptLog2N: 10 } as const;

/** Where a registry keeps its devices (a SQLite file, a PostgreSQL database), fresh and empty. */
export interface RegistryStore {
  /** A registry on this store hashing new secrets at the given cost, as another process would open it. */
  open: (scryptLog2N: number) => Promise<DeviceRegistry>;
  /** The secret hash stored for a device, read from the store itself. */
  storedSecretHash: (deviceId: string) => Promise<string>;
}

/** The behaviour every device registry must have (the PostgreSQL one of the cluster mode included). Each test gets a fresh, empty store. */
export function deviceRegistryContract(name: string, freshStore: () => Promise<RegistryStore>): void {
  const withRegistry = (title: string, body: (registry: DeviceRegistry) => Promise<void>) =>
    test(`${name}: ${title}`, async () => {
      const registry = await (await freshStore()).open(FAST_HASHING.scryptLog2N);
      try {
        await body(registry);
      } finally {
        await registry.close();
      }
    });

  withRegistry('add hands out credentials once; verify accepts them and nothing else', async (registry) => {
    const credentials = await registry.add(device('car-1'));
    assert.equal(credentials.deviceId, 'car-1');
    assert.equal(credentials.username, 'car-1', 'the username is the device id');
    assert.match(credentials.password, /^[A-Za-z0-9_-]{43}$/, '32 random bytes, base64url');
    assert.notEqual((await registry.add(device('car-2'))).password, credentials.password);

    const ok = await registry.verify('car-1', credentials.password);
    assert.ok(ok.ok);
    assert.deepEqual(ok.identity, { deviceId: 'car-1', vehicleId: 'veh-car-1', tenantId: 't1' }, 'no driverId or policyId keys when unknown');
    assert.equal(ok.revision, (await registry.get(null, 'car-1'))?.revision);

    assert.deepEqual(await registry.verify('car-1', `${credentials.password.slice(0, -1)}x`), { ok: false, reason: 'bad_secret' });
    assert.deepEqual(await registry.verify('car-1', ''), { ok: false, reason: 'bad_secret' });
    assert.deepEqual(await registry.verify('car-2', credentials.password), { ok: false, reason: 'bad_secret' }, "another device's secret");
    assert.deepEqual(await registry.verify('car-9', credentials.password), { ok: false, reason: 'unknown_device' });
    const listed = JSON.stringify(await registry.list(null, { limit: 10 }));
    assert.ok(!listed.includes(credentials.password) && !listed.includes('$scrypt'), 'records carry neither the secret nor its hash');
  });

  withRegistry('the identity carries the driver and the policy', async (registry) => {
    const { password } = await registry.add(device('car-1', { tenantId: 'acme', driverId: 'alice', policyId: 'POL-9' }));
    const outcome = await registry.verify('car-1', password);
    assert.ok(outcome.ok);
    assert.deepEqual(outcome.identity, { deviceId: 'car-1', vehicleId: 'veh-car-1', tenantId: 'acme', driverId: 'alice', policyId: 'POL-9' });
    const record = await registry.get('acme', 'car-1');
    assert.equal(record?.driverId, 'alice');
    assert.equal(record?.policyId, 'POL-9');
    assert.equal(record?.revokedAtMs, null);
    assert.equal(record?.previousSecretValidUntilMs, null);
    assert.ok(Math.abs((record?.createdAtMs ?? 0) - Date.now()) < 60_000);
  });

  withRegistry('device ids are unique across tenants; bad ids are refused', async (registry) => {
    await registry.add(device('car-1'));
    await assert.rejects(registry.add(device('car-1')), DeviceExistsError);
    await assert.rejects(registry.add(device('car-1', { tenantId: 't2' })), (error: unknown) => {
      assert.ok(error instanceof DeviceExistsError);
      assert.equal(error.deviceId, 'car-1');
      return true;
    });
    assert.equal((await registry.get(null, 'car-1'))?.tenantId, 't1', 'the first owner keeps it');
    for (const bad of [device('car/1'), device('car+1'), device('#'), device(''), device('x'.repeat(65)), device('car-2', { tenantId: 't 1' }),
      device('car-2', { vehicleId: 'v#' }), device('car-2', { driverId: '' }), device('car-2', { policyId: 'a/b' })]) {
      await assert.rejects(registry.add(bad), /invalid (device|tenant|vehicle|driver|policy) id/);
    }
    assert.equal(await registry.get(null, 'car-2'), null);
  });

  withRegistry('strings that are not ids (a NUL byte among them) find nothing and break nothing', async (registry) => {
    const { password } = await registry.add(device('car-1'));
    for (const odd of ['car-1\u0000', '\u0000', 'car 1', 'é'.repeat(70)]) {
      assert.deepEqual(await registry.verify(odd, password), { ok: false, reason: 'unknown_device' });
      assert.equal(await registry.get(null, odd), null);
      assert.equal(await registry.get(odd, 'car-1'), null, 'as a tenant id');
      assert.equal(await registry.rotate(null, odd, 0), null);
      assert.equal(await registry.revoke(null, odd), null);
      assert.deepEqual(await registry.list(odd, { limit: 10 }), []);
    }
    assert.ok((await registry.verify('car-1', password)).ok);
  });

  withRegistry('a tenant sees and changes only its own devices; null is the operator, who sees all', async (registry) => {
    const a = await registry.add(device('a-1', { tenantId: 'ta' }));
    await registry.add(device('b-1', { tenantId: 'tb' }));
    assert.equal(await registry.get('tb', 'a-1'), null);
    assert.equal((await registry.get('ta', 'a-1'))?.deviceId, 'a-1');
    assert.equal((await registry.get(null, 'a-1'))?.deviceId, 'a-1');
    assert.deepEqual((await registry.list('ta', { limit: 10 })).map((r) => r.deviceId), ['a-1']);
    assert.deepEqual((await registry.list('tc', { limit: 10 })).map((r) => r.deviceId), []);
    assert.deepEqual((await registry.list(null, { limit: 10 })).map((r) => r.deviceId), ['a-1', 'b-1']);

    const before = await registry.get(null, 'a-1');
    assert.equal(await registry.rotate('tb', 'a-1', 0), null);
    assert.equal(await registry.revoke('tb', 'a-1'), null);
    assert.deepEqual(await registry.get(null, 'a-1'), before, 'the other tenant changed nothing');
    assert.ok((await registry.verify('a-1', a.password)).ok);

    assert.ok(await registry.rotate('ta', 'a-1', 0));
    assert.equal((await registry.revoke('ta', 'a-1'))?.deviceId, 'a-1');
    assert.equal(await registry.rotate(null, 'nope', 0), null);
    assert.equal(await registry.revoke(null, 'nope'), null);
  });

  withRegistry('rotation with an overlap: both secrets pass until it ends, then only the new one', async (registry) => {
    const old = await registry.add(device('car-1'));
    const startedMs = Date.now();
    const rotated = await registry.rotate(null, 'car-1', 0.3);
    assert.ok(rotated);
    assert.equal(rotated.username, 'car-1');
    assert.notEqual(rotated.password, old.password);
    const validUntilMs = (await registry.get(null, 'car-1'))?.previousSecretValidUntilMs ?? 0;
    assert.ok(validUntilMs >= startedMs + 300 && validUntilMs <= Date.now() + 300, `previous secret valid until ${validUntilMs}`);
    assert.ok((await registry.verify('car-1', old.password)).ok, 'old secret inside the overlap');
    assert.ok((await registry.verify('car-1', rotated.password)).ok);
    await sleep(Math.max(0, validUntilMs - Date.now()) + 50);
    assert.deepEqual(await registry.verify('car-1', old.password), { ok: false, reason: 'bad_secret' }, 'old secret after the overlap');
    assert.ok((await registry.verify('car-1', rotated.password)).ok);

    const again = await registry.rotate(null, 'car-1', 60);
    assert.ok(again);
    assert.ok((await registry.verify('car-1', rotated.password)).ok, 'the secret before the latest rotation');
    assert.ok((await registry.verify('car-1', again.password)).ok);
    assert.deepEqual(await registry.verify('car-1', old.password), { ok: false, reason: 'bad_secret' }, 'only the latest previous secret is kept');
  });

  withRegistry('rotation without overlap rejects the old secret at once; bad overlaps are refused', async (registry) => {
    const old = await registry.add(device('car-1'));
    const rotated = await registry.rotate(null, 'car-1', 0);
    assert.ok(rotated);
    assert.deepEqual(await registry.verify('car-1', old.password), { ok: false, reason: 'bad_secret' });
    assert.ok((await registry.verify('car-1', rotated.password)).ok);
    assert.equal((await registry.get(null, 'car-1'))?.previousSecretValidUntilMs, null);
    await assert.rejects(registry.rotate(null, 'car-1', -1), RangeError);
    await assert.rejects(registry.rotate(null, 'car-1', Number.NaN), RangeError);
  });

  withRegistry('revocation is permanent: verify says revoked, rotation is refused, revoking again changes nothing', async (registry) => {
    const { password } = await registry.add(device('car-1'));
    const revoked = await registry.revoke(null, 'car-1');
    assert.ok(revoked?.revokedAtMs);
    assert.deepEqual(await registry.verify('car-1', password), { ok: false, reason: 'revoked' });
    assert.deepEqual(await registry.verify('car-1', 'wrong'), { ok: false, reason: 'revoked' });
    await assert.rejects(registry.rotate(null, 'car-1', 0), /revoked/);
    assert.deepEqual(await registry.revoke(null, 'car-1'), revoked);
    assert.deepEqual(await registry.get(null, 'car-1'), revoked);
    await assert.rejects(registry.add(device('car-1')), DeviceExistsError, 'a revoked id is not reused');
  });

  withRegistry('every change raises the revision; changedSince returns exactly the records changed after one', async (registry) => {
    assert.deepEqual(await registry.changedSince(0, 10), []);
    assert.equal(await registry.currentRevision(), 0, 'an empty registry');
    for (const id of ['a', 'b', 'c', 'd']) await registry.add(device(id));
    const added = await registry.list(null, { limit: 10 });
    const revisions = added.map((r) => r.revision);
    assert.deepEqual(revisions, [...revisions].sort((x, y) => x - y), 'in the order they were added');
    assert.equal(new Set(revisions).size, 4, 'global: no two records share a revision');
    const mark = Math.max(...revisions);
    assert.equal(await registry.currentRevision(), mark);

    await registry.rotate(null, 'b', 0);
    await registry.revoke(null, 'd');
    await registry.rotate('t-other', 'c', 0); // not its tenant: no change
    const changed = await registry.changedSince(mark, 10);
    assert.deepEqual(changed.map((r) => r.deviceId), ['b', 'd'], 'in revision order');
    assert.ok(changed.every((r) => r.revision > mark));
    assert.ok(changed[1]!.revokedAtMs);
    assert.deepEqual(changed, [await registry.get(null, 'b'), await registry.get(null, 'd')]);
    assert.deepEqual(await registry.changedSince(changed[1]!.revision, 10), []);
    assert.deepEqual((await registry.changedSince(0, 10)).map((r) => r.deviceId), ['a', 'c', 'b', 'd']);
    assert.equal(await registry.currentRevision(), changed[1]!.revision, 'the last change, not the number of devices');

    await registry.add(device('e', { tenantId: 't2' }));
    assert.ok((await registry.get(null, 'e'))!.revision > changed[1]!.revision, 'adds raise it too, in any tenant');
  });

  withRegistry('changedSince pages by revision: at most limit records, and paging on from the last one sees each change once', async (registry) => {
    for (const id of ['p1', 'p2', 'p3', 'p4', 'p5']) await registry.add(device(id));
    await registry.rotate(null, 'p1', 0);
    await registry.revoke(null, 'p3');
    const pages: string[][] = [];
    let after = 0;
    for (;;) {
      const page = await registry.changedSince(after, 2);
      if (page.length === 0) break;
      assert.ok(page.length <= 2);
      pages.push(page.map((r) => r.deviceId));
      after = page.at(-1)!.revision;
    }
    assert.deepEqual(pages, [['p2', 'p4'], ['p5', 'p1'], ['p3']], 'each device once, at its latest change');
    assert.equal(after, await registry.currentRevision());
    await assert.rejects(registry.changedSince(0, 0), RangeError);
    await assert.rejects(registry.changedSince(0, 1.5), RangeError);
  });

  withRegistry('list pages by device id after a given one', async (registry) => {
    const ids = ['car-03', 'car-01', 'car-05', 'car-02', 'car-04'];
    for (const id of ids) await registry.add(device(id, { tenantId: id === 'car-04' ? 't2' : 't1' }));
    const seen: string[] = [];
    let afterDeviceId: string | undefined;
    for (;;) {
      const page = await registry.list('t1', { limit: 2, ...(afterDeviceId ? { afterDeviceId } : {}) });
      if (page.length === 0) break;
      assert.ok(page.length <= 2);
      seen.push(...page.map((r) => r.deviceId));
      afterDeviceId = page.at(-1)!.deviceId;
    }
    assert.deepEqual(seen, ['car-01', 'car-02', 'car-03', 'car-05']);
    assert.deepEqual((await registry.list(null, { afterDeviceId: 'car-03', limit: 10 })).map((r) => r.deviceId), ['car-04', 'car-05']);
    await assert.rejects(registry.list(null, { limit: 0 }), RangeError);
  });

  test(`${name}: a second registry on the same store (another process: the CLI while the platform runs) sees every change at once, through the cached verifier too`, async () => {
    const store = await freshStore();
    const platform = await store.open(FAST_HASHING.scryptLog2N);
    const cli = await store.open(FAST_HASHING.scryptLog2N);
    try {
      const verifier = createCachedVerifier(platform);
      const { password } = await cli.add(device('car-1'));
      assert.ok((await platform.verify('car-1', password)).ok);
      assert.ok((await verifier.verify('car-1', password)).ok);
      assert.ok((await verifier.verify('car-1', password)).ok, 'from the cache');
      const mark = (await platform.get(null, 'car-1'))!.revision;

      const rotated = await cli.rotate(null, 'car-1', 0);
      assert.deepEqual(await platform.verify('car-1', password), { ok: false, reason: 'bad_secret' });
      assert.deepEqual(await verifier.verify('car-1', password), { ok: false, reason: 'bad_secret' });
      assert.ok((await verifier.verify('car-1', rotated!.password)).ok);

      await cli.revoke(null, 'car-1');
      assert.deepEqual(await verifier.verify('car-1', rotated!.password), { ok: false, reason: 'revoked' });
      assert.deepEqual((await platform.changedSince(mark, 100)).map((r) => [r.deviceId, r.revokedAtMs !== null]), [['car-1', true]]);

      const { password: second } = await platform.add(device('car-2'));
      assert.ok((await cli.verify('car-2', second)).ok);
      assert.ok((await cli.get(null, 'car-2'))!.revision > (await cli.get(null, 'car-1'))!.revision, 'one revision sequence for both writers');
    } finally {
      await cli.close();
      await platform.close();
    }
  });

  test(`${name}: hashes are stored with their cost, so raising it later keeps old secrets valid; a bad cost fails at open, not at the first add`, async () => {
    const store = await freshStore();
    const cheap = await store.open(FAST_HASHING.scryptLog2N);
    const { password } = await cheap.add(device('car-1'));
    await cheap.close();
    const stored = await store.storedSecretHash('car-1');
    assert.match(stored, /^\$scrypt\$ln=10,r=8,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    assert.ok(!stored.includes(password));

    await assert.rejects(store.open(24), /out of bounds/);
    const dearer = await store.open(11);
    try {
      assert.ok((await dearer.verify('car-1', password)).ok);
      const rotated = await dearer.rotate(null, 'car-1', 60);
      assert.ok((await dearer.verify('car-1', password)).ok, 'the old hash, at the old cost, inside the overlap');
      assert.ok((await dearer.verify('car-1', rotated!.password)).ok);
    } finally {
      await dearer.close();
    }
  });
}
