import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { SqliteDeviceRegistry } from '../../src/adapters/embedded/sqliteDeviceRegistry.js';
import { createCachedVerifier } from '../../src/security/cachedVerifier.js';
import { deviceRegistryContract } from '../../testkit/deviceRegistryContract.js';

/** ln=10 keeps the suite fast; the default cost is 16 times slower. */
const FAST = { scryptLog2N: 10 };
const dir = mkdtempSync(join(tmpdir(), 'tripline-devices-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const freshPath = () => join(dir, `devices-${++files}.db`);

deviceRegistryContract('SQLite device registry', async () => new SqliteDeviceRegistry(freshPath(), FAST));

test('a second registry on the same file (another process: the CLI while the platform runs) sees every change at once', async () => {
  const path = freshPath();
  const platform = new SqliteDeviceRegistry(path, FAST);
  const cli = new SqliteDeviceRegistry(path, FAST);
  try {
    const { password } = await cli.add({ deviceId: 'car-1', tenantId: 't1', vehicleId: 'v1' });
    assert.ok((await platform.verify('car-1', password)).ok);
    const mark = (await platform.get(null, 'car-1'))!.revision;

    const rotated = await cli.rotate(null, 'car-1', 0);
    assert.deepEqual(await platform.verify('car-1', password), { ok: false, reason: 'bad_secret' });
    assert.ok((await platform.verify('car-1', rotated!.password)).ok);

    await cli.revoke(null, 'car-1');
    assert.deepEqual((await platform.changedSince(mark, 100)).map((r) => [r.deviceId, r.revokedAtMs !== null]), [['car-1', true]]);
    assert.deepEqual(await platform.verify('car-1', rotated!.password), { ok: false, reason: 'revoked' });

    const { password: second } = await platform.add({ deviceId: 'car-2', tenantId: 't1', vehicleId: 'v2' });
    assert.ok((await cli.verify('car-2', second)).ok);
    assert.ok((await cli.get(null, 'car-2'))!.revision > (await cli.get(null, 'car-1'))!.revision, 'one revision sequence for both writers');
  } finally {
    await cli.close();
    await platform.close();
  }
});

test('hashes are stored with their cost, so raising it later keeps old secrets valid', async () => {
  const path = freshPath();
  const cheap = new SqliteDeviceRegistry(path, FAST);
  const { password } = await cheap.add({ deviceId: 'car-1', tenantId: 't1', vehicleId: 'v1' });
  await cheap.close();
  const db = new Database(path, { readonly: true });
  const stored = (db.prepare('SELECT secret_hash FROM devices').get() as { secret_hash: string }).secret_hash;
  db.close();
  assert.match(stored, /^\$scrypt\$ln=10,r=8,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
  assert.ok(!stored.includes(password));

  assert.throws(() => new SqliteDeviceRegistry(path, { scryptLog2N: 24 }), /out of bounds/, 'a bad cost fails at startup, not at the first add');
  const dearer = new SqliteDeviceRegistry(path, { scryptLog2N: 11 });
  try {
    assert.ok((await dearer.verify('car-1', password)).ok);
    const rotated = await dearer.rotate(null, 'car-1', 60);
    assert.ok((await dearer.verify('car-1', password)).ok, 'the old hash, at the old cost, inside the overlap');
    assert.ok((await dearer.verify('car-1', rotated!.password)).ok);
  } finally {
    await dearer.close();
  }
});

test('the cached verifier notices a revocation and a rotation made through another registry on the same file', async () => {
  const path = freshPath();
  const platform = new SqliteDeviceRegistry(path, FAST);
  const cli = new SqliteDeviceRegistry(path, FAST);
  try {
    const verifier = createCachedVerifier(platform);
    const { password } = await cli.add({ deviceId: 'car-1', tenantId: 't1', vehicleId: 'v1' });
    assert.ok((await verifier.verify('car-1', password)).ok);
    assert.ok((await verifier.verify('car-1', password)).ok, 'from the cache');
    const rotated = await cli.rotate(null, 'car-1', 0);
    assert.deepEqual(await verifier.verify('car-1', password), { ok: false, reason: 'bad_secret' });
    assert.ok((await verifier.verify('car-1', rotated!.password)).ok);
    await cli.revoke(null, 'car-1');
    assert.deepEqual(await verifier.verify('car-1', rotated!.password), { ok: false, reason: 'revoked' });
  } finally {
    await cli.close();
    await platform.close();
  }
});
