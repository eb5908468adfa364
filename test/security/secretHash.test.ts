import assert from 'node:assert/strict';
import { scryptSync } from 'node:crypto';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DeviceRecord, DeviceRegistry, VerifyOutcome } from '../../src/ports/deviceRegistry.js';
import { createCachedVerifier } from '../../src/security/cachedVerifier.js';
import { DEFAULT_SCRYPT_LOG2_N, generateSecret, hashSecret, verifySecret } from '../../src/security/secretHash.js';

const b64 = (bytes: Buffer) => bytes.toString('base64').replace(/=+$/, '');

test('secrets are 32 random bytes in base64url', () => {
  const secrets = new Set(Array.from({ length: 100 }, generateSecret));
  assert.equal(secrets.size, 100);
  for (const secret of secrets) {
    assert.match(secret, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(Buffer.from(secret, 'base64url').length, 32);
  }
});

test('a hash names its cost, is salted, and verifies only its secret', async () => {
  const secret = generateSecret();
  const hash = await hashSecret(secret, 10);
  assert.match(hash, /^\$scrypt\$ln=10,r=8,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
  assert.notEqual(await hashSecret(secret, 10), hash, 'a new salt every time');
  assert.equal(await verifySecret(secret, hash), true);
  assert.equal(await verifySecret(generateSecret(), hash), false);
  assert.equal(await verifySecret('', hash), false);
  assert.equal(await verifySecret(secret + 'x'.repeat(10_000), hash), false, 'an oversized secret is refused unhashed');
  await assert.rejects(hashSecret(secret, 9), /out of bounds/);
  await assert.rejects(hashSecret(secret, 17), /out of bounds/, 'ln=17 at r=8 needs 128 MiB');
});

test(`the default cost is ln=${DEFAULT_SCRYPT_LOG2_N}`, async (t) => {
  const secret = generateSecret();
  const hash = await hashSecret(secret);
  assert.ok(hash.startsWith(`$scrypt$ln=${DEFAULT_SCRYPT_LOG2_N},r=8,p=1$`));
  const startedMs = performance.now();
  assert.equal(await verifySecret(secret, hash), true);
  // Measured, not asserted: the figure depends on the machine.
  t.diagnostic(`one verify at ln=${DEFAULT_SCRYPT_LOG2_N}: ${(performance.now() - startedMs).toFixed(1)} ms`);
});

test('verification reads the cost from the stored string, so hashes written at another cost still verify', async () => {
  const salt = Buffer.from('0123456789abcdef');
  const key = scryptSync('s3cret', salt, 48, { N: 2 ** 11, r: 4, p: 2 });
  const stored = `$scrypt$ln=11,r=4,p=2$${b64(salt)}$${b64(key)}`;
  assert.equal(await verifySecret('s3cret', stored), true);
  assert.equal(await verifySecret('s3cret!', stored), false);
});

test('malformed hashes and absurd parameters are refused before any work', async (t) => {
  const salt = b64(Buffer.alloc(16, 1));
  const hash = b64(Buffer.alloc(32, 2));
  const startedMs = performance.now();
  for (const [stored, error] of [
    [`$scrypt$ln=30,r=8,p=1$${salt}$${hash}`, /out of bounds/],
    [`$scrypt$ln=14,r=99,p=1$${salt}$${hash}`, /out of bounds/],
    [`$scrypt$ln=14,r=8,p=16$${salt}$${hash}`, /out of bounds/],
    [`$scrypt$ln=16,r=16,p=1$${salt}$${hash}`, /out of bounds/],
    [`$scrypt$ln=5,r=8,p=1$${salt}$${hash}`, /out of bounds/],
    [`$scrypt$ln=14,r=8,p=1$${b64(Buffer.alloc(4))}$${hash}`, /salt of 4 bytes/],
    [`$scrypt$ln=14,r=8,p=1$${salt}$${b64(Buffer.alloc(1000))}`, /hash of 1000 bytes/],
    [`$argon2id$v=19$m=65536,t=3,p=4$${salt}$${hash}`, /not an scrypt hash/],
    ['', /not an scrypt hash/],
  ] as const) {
    await assert.rejects(verifySecret('s3cret', stored), error, stored);
  }
  // The specific errors above show the checks come before hashing; the time is only reported.
  t.diagnostic(`${Math.round(performance.now() - startedMs)} ms for all malformed hashes`);
});

/** Just enough of a registry to watch the cached verifier: plain-text secrets, a counter of slow checks. */
function fakeRegistry(options: { checkDelayMs?: number } = {}) {
  const devices = new Map<string, { record: DeviceRecord; secret: string }>();
  const stats = { slowChecks: 0, running: 0, maxRunning: 0 };
  const registry: Pick<DeviceRegistry, 'get' | 'verify'> = {
    get: async (_tenantId, deviceId) => (devices.has(deviceId) ? { ...devices.get(deviceId)!.record } : null),
    verify: async (deviceId, secret): Promise<VerifyOutcome> => {
      stats.slowChecks++;
      stats.maxRunning = Math.max(stats.maxRunning, ++stats.running);
      await sleep(options.checkDelayMs ?? 0);
      stats.running--;
      const device = devices.get(deviceId);
      if (!device) return { ok: false, reason: 'unknown_device' };
      if (device.record.revokedAtMs !== null) return { ok: false, reason: 'revoked' };
      if (device.secret !== secret) return { ok: false, reason: 'bad_secret' };
      const { deviceId: id, vehicleId, tenantId } = device.record;
      return { ok: true, identity: { deviceId: id, vehicleId, tenantId }, revision: device.record.revision };
    },
  };
  const put = (deviceId: string, secret: string, over: Partial<DeviceRecord> = {}) =>
    devices.set(deviceId, {
      secret,
      record: { deviceId, tenantId: 't1', vehicleId: 'v1', createdAtMs: 0, revokedAtMs: null, previousSecretValidUntilMs: null, revision: 1, ...over },
    });
  return { registry, stats, put };
}

test('cached verifier: a secret that passed is not hashed again until the record changes; failures always are', async () => {
  const { registry, stats, put } = fakeRegistry();
  const verifier = createCachedVerifier(registry);
  put('car-1', 'good');
  assert.ok((await verifier.verify('car-1', 'good')).ok);
  const cached = await verifier.verify('car-1', 'good');
  assert.deepEqual(cached, { ok: true, identity: { deviceId: 'car-1', vehicleId: 'v1', tenantId: 't1' }, revision: 1 });
  assert.equal(stats.slowChecks, 1);

  for (let i = 0; i < 3; i++) assert.deepEqual(await verifier.verify('car-1', 'bad'), { ok: false, reason: 'bad_secret' });
  assert.equal(stats.slowChecks, 4, 'every wrong secret takes the slow path');
  assert.ok((await verifier.verify('car-1', 'good')).ok);
  assert.equal(stats.slowChecks, 4, 'wrong secrets did not evict the good one');

  put('car-1', 'new', { revision: 2 });
  assert.deepEqual(await verifier.verify('car-1', 'good'), { ok: false, reason: 'bad_secret' }, 'a new revision invalidates');
  assert.ok((await verifier.verify('car-1', 'new')).ok);
  assert.ok((await verifier.verify('car-1', 'new')).ok);
  assert.equal(stats.slowChecks, 6);

  put('car-1', 'new', { revision: 3, revokedAtMs: 1 });
  assert.deepEqual(await verifier.verify('car-1', 'new'), { ok: false, reason: 'revoked' });
  assert.deepEqual(await verifier.verify('car-9', 'new'), { ok: false, reason: 'unknown_device' });
  assert.equal(stats.slowChecks, 6, 'revoked and unknown devices are answered from the lookup');
});

test('cached verifier: during a rotation overlap a secret is trusted only until the overlap ends', async () => {
  const { registry, stats, put } = fakeRegistry();
  const verifier = createCachedVerifier(registry);
  put('car-1', 'old', { previousSecretValidUntilMs: Date.now() + 150 });
  assert.ok((await verifier.verify('car-1', 'old')).ok);
  assert.ok((await verifier.verify('car-1', 'old')).ok);
  assert.equal(stats.slowChecks, 1);
  await sleep(200);
  put('car-1', 'new', { previousSecretValidUntilMs: Date.now() - 50 }); // the overlap ended; the revision stays the same
  assert.deepEqual(await verifier.verify('car-1', 'old'), { ok: false, reason: 'bad_secret' });
  assert.ok((await verifier.verify('car-1', 'new')).ok);
  assert.ok((await verifier.verify('car-1', 'new')).ok, 'after the overlap, a passing secret is the current one and cached for good');
  assert.equal(stats.slowChecks, 3);
});

test('cached verifier: remembers at most maxEntries devices, the most recently verified', async () => {
  const { registry, stats, put } = fakeRegistry();
  const verifier = createCachedVerifier(registry, { maxEntries: 2 });
  for (const id of ['a', 'b', 'c']) put(id, `s-${id}`);
  for (const id of ['a', 'b', 'a', 'c']) await verifier.verify(id, `s-${id}`);
  assert.equal(stats.slowChecks, 3, 'a was a hit');
  await verifier.verify('a', 's-a');
  await verifier.verify('c', 's-c');
  assert.equal(stats.slowChecks, 3, 'a and c are kept');
  await verifier.verify('b', 's-b');
  assert.equal(stats.slowChecks, 4, 'b, the least recent, was forgotten');
});

test('cached verifier: a storm of wrong secrets runs at most maxConcurrentChecks slow checks at once', async () => {
  const { registry, stats, put } = fakeRegistry({ checkDelayMs: 5 });
  const verifier = createCachedVerifier(registry, { maxConcurrentChecks: 2 });
  for (let i = 0; i < 20; i++) put(`car-${i}`, 'good');
  const outcomes = await Promise.all(Array.from({ length: 20 }, (_, i) => verifier.verify(`car-${i}`, i === 19 ? 'good' : `bad-${i}`)));
  assert.equal(stats.slowChecks, 20);
  assert.equal(stats.maxRunning, 2);
  assert.equal(outcomes.filter((o) => o.ok).length, 1);
  assert.throws(() => createCachedVerifier(registry, { maxConcurrentChecks: 0 }), RangeError);
});

test('cached verifier: one slow check per device at a time, and a bounded queue, so a storm cannot starve sign-ins', async () => {
  const { registry, stats, put } = fakeRegistry({ checkDelayMs: 20 });
  const verifier = createCachedVerifier(registry, { maxConcurrentChecks: 1, maxQueuedChecks: 3 });
  for (let i = 0; i < 10; i++) put(`car-${i}`, 'good');
  const sameDevice = await Promise.all([verifier.verify('car-0', 'bad-1'), verifier.verify('car-0', 'bad-2')]);
  assert.deepEqual(sameDevice.map((o) => (o.ok ? 'ok' : o.reason)), ['bad_secret', 'busy'], 'a second guess for a device being checked is turned away');
  const storm = await Promise.all(Array.from({ length: 10 }, (_, i) => verifier.verify(`car-${i}`, 'bad')));
  assert.equal(storm.filter((o) => !o.ok && o.reason === 'busy').length, 7, 'past 3 queued checks, sign-ins are refused as busy');
  assert.equal(stats.slowChecks, 1 + 3);
  assert.equal((await verifier.verify('car-9', 'good')).ok, true, 'once the storm is over, sign-ins go through');
});
