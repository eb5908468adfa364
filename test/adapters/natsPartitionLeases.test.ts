import assert from 'node:assert/strict';
import { after, before, test, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Kvm } from '@nats-io/kv';
import { NatsPartitionLeases } from '../../src/adapters/nats/natsPartitionLeases.js';
import { natsSkipReason, startTestNats, type TestNats } from '../../testkit/natsService.js';

const skip = natsSkipReason();
const TTL_MS = 1500;
const PARTITIONS = 8;
let nats: TestNats;
let buckets = 0;

before(async () => {
  if (!skip) nats = await startTestNats();
});
after(async () => {
  if (!skip) await nats.close();
});

interface Holder {
  id: string;
  leases: NatsPartitionLeases;
  /** Its own connection: closing it is a crash (no renewal, no release). */
  nc: NatsConnection;
  /** Ownership as told by `onChange` alone. */
  told: Set<number>;
}

async function startHolder(bucket: string, id: string): Promise<Holder> {
  const nc = await connect({ servers: nats.url });
  const leases = new NatsPartitionLeases({ connection: nc, bucket, workerId: id, partitionCount: PARTITIONS, ttlMs: TTL_MS });
  const told = new Set<number>();
  leases.onChange((gained, lost) => {
    for (const partition of gained) told.add(partition);
    for (const partition of lost) told.delete(partition);
  });
  await leases.start();
  return { id, leases, nc, told };
}

interface Guard {
  /** Stops checking; returns how many checks ran and what they found. */
  stop: () => { checks: number; violations: string[] };
}

/** Checks, every few milliseconds until stopped, that no partition has two owners. */
function guardSingleOwners(holders: Holder[]): Guard {
  let checks = 0;
  const violations: string[] = [];
  const timer = setInterval(() => {
    checks++;
    const owners = new Map<number, string>();
    for (const holder of holders) {
      for (const partition of holder.leases.owned()) {
        const other = owners.get(partition);
        if (other) violations.push(`partition ${partition} owned by ${other} and ${holder.id} at once`);
        owners.set(partition, holder.id);
      }
    }
  }, 5);
  return { stop: () => (clearInterval(timer), { checks, violations }) };
}

function assertNeverTwoOwners(guard: Guard): void {
  const { checks, violations } = guard.stop();
  assert.deepEqual(violations, []);
  assert.ok(checks > 10, `the single-owner guard ran (${checks} checks)`);
}

/** Waits until `done` holds and returns how long that took. */
async function waitUntil(done: () => boolean, timeoutMs: number, what: string): Promise<number> {
  const startedMs = performance.now();
  while (!done()) {
    if (performance.now() - startedMs > timeoutMs) assert.fail(`not within ${timeoutMs} ms: ${what}`);
    await sleep(5);
  }
  return performance.now() - startedMs;
}

const sizes = (holders: Holder[]): number[] => holders.map((holder) => holder.leases.owned().size).sort();
const covered = (holders: Holder[]): boolean => new Set(holders.flatMap((holder) => [...holder.leases.owned()])).size === PARTITIONS;

async function threeSpread(t: TestContext): Promise<{ holders: Holder[]; guard: Guard }> {
  const bucket = `leases-${++buckets}`;
  const holders: Holder[] = [];
  const guard = guardSingleOwners(holders);
  for (const id of ['w1', 'w2', 'w3']) holders.push(await startHolder(bucket, id));
  const spreadMs = await waitUntil(() => covered(holders) && sizes(holders).join() === '2,3,3', 10 * TTL_MS, 'a 3-3-2 spread');
  t.diagnostic(`3 holders spread ${PARTITIONS} partitions 3-3-2 within ${spreadMs.toFixed(0)} ms of the last start`);
  return { holders, guard };
}

test('3 lease holders spread 8 partitions fairly, never two owners at once, and onChange tells it all', { skip }, async (t) => {
  const { holders, guard } = await threeSpread(t);
  try {
    await sleep(TTL_MS); // steady: renewals keep the spread
    assert.deepEqual(sizes(holders), [2, 3, 3]);
    for (const holder of holders) assert.deepEqual([...holder.told].sort(), [...holder.leases.owned()].sort(), `${holder.id}: onChange agrees with owned()`);
  } finally {
    await Promise.all(holders.map(async (holder) => (await holder.leases.stop(), await holder.nc.close())));
  }
  assertNeverTwoOwners(guard);
});

test("a crashed owner's partitions move to the survivors within the TTL (+ one renew interval)", { skip }, async (t) => {
  const { holders, guard } = await threeSpread(t);
  const [survivorA, survivorB, crashed] = holders as [Holder, Holder, Holder];
  try {
    await sleep(TTL_MS / 6); // half-way between two renewals
    const orphans = [...crashed.leases.owned()];
    const crashedAtMs = performance.now();
    await crashed.nc.close(); // no renewal, no release
    const stoppedOwningMs = await waitUntil(() => crashed.leases.owned().size === 0, TTL_MS, 'the crashed holder gives its partitions up locally');
    await waitUntil(() => orphans.every((p) => survivorA.leases.owned().has(p) || survivorB.leases.owned().has(p)), 3 * TTL_MS, 'survivors own the orphans');
    const movedMs = performance.now() - crashedAtMs;
    t.diagnostic(`TTL ${TTL_MS} ms: the crashed holder stopped counting its ${orphans.length} partitions as its own ${stoppedOwningMs.toFixed(0)} ms after the crash; survivors owned them ${movedMs.toFixed(0)} ms after it`);
    assert.ok(stoppedOwningMs <= TTL_MS / 2 + TTL_MS / 10 + 100, 'a cut-off holder stops consuming at about TTL/2');
    assert.ok(movedMs <= TTL_MS + TTL_MS / 3, `moved within the TTL + one renew interval: ${movedMs.toFixed(0)} ms`);
    await waitUntil(() => covered([survivorA, survivorB]) && sizes([survivorA, survivorB]).join() === '4,4', 2 * TTL_MS, 'a 4-4 spread');
  } finally {
    await crashed.leases.stop();
    await Promise.all([survivorA, survivorB].map(async (holder) => (await holder.leases.stop(), await holder.nc.close())));
  }
  assertNeverTwoOwners(guard);
});

test('a stopping owner hands its partitions over at once, and a joining one gets its share', { skip }, async (t) => {
  const { holders, guard } = await threeSpread(t);
  const [remainingA, remainingB, leaving] = holders as [Holder, Holder, Holder];
  const bucket = `leases-${buckets}`;
  try {
    const handed = [...leaving.leases.owned()];
    const stoppingMs = performance.now();
    await leaving.leases.stop();
    assert.equal(leaving.leases.owned().size, 0);
    const movedMs = await waitUntil(() => handed.every((p) => remainingA.leases.owned().has(p) || remainingB.leases.owned().has(p)), TTL_MS, 'the others own what was handed over');
    t.diagnostic(`a graceful stop handed ${handed.length} partitions over in ${(performance.now() - stoppingMs).toFixed(0)} ms (${movedMs.toFixed(0)} ms after stop() returned)`);
    assert.ok(movedMs < TTL_MS / 3, 'faster than a heartbeat: the release wakes the others');
    await leaving.nc.close();

    const joiningMs = performance.now();
    holders[2] = await startHolder(bucket, 'w4');
    await waitUntil(() => covered(holders) && sizes(holders).join() === '2,3,3', 3 * TTL_MS, 'a 3-3-2 spread with the newcomer');
    t.diagnostic(`a joining holder got its share ${(performance.now() - joiningMs).toFixed(0)} ms after it started (the others release as soon as they see it)`);
  } finally {
    await Promise.all(holders.map(async (holder) => (await holder.leases.stop(), await holder.nc.close())));
  }
  assertNeverTwoOwners(guard);
});

test('nats-server 2.9 key-value semantics the leases rely on: create after a delete, and after expiry', { skip }, async () => {
  const nc = await connect({ servers: nats.url });
  try {
    const kv = await new Kvm(nc).create(`kv-check-${++buckets}`, { ttl: 500, history: 1 });
    const first = await kv.create('k', 'a');
    await assert.rejects(kv.create('k', 'b'), /wrong last sequence/);
    await assert.rejects(kv.update('k', 'b', first - 1 || 99), /wrong last sequence/);
    const renewed = await kv.update('k', 'a', first);
    await kv.delete('k', { previousSeq: renewed });
    const afterDelete = await kv.create('k', 'c'); // over the delete marker
    await sleep(800);
    await assert.rejects(kv.update('k', 'c', afterDelete), /wrong last sequence/, 'an expired lease cannot be renewed');
    assert.ok((await kv.create('k', 'd')) > afterDelete, 'an expired key is free to create');
  } finally {
    await nc.close();
  }
});

test('lease options are checked once: worker ids, the TTL, and one TTL for every worker of a bucket', { skip }, async () => {
  assert.throws(() => new NatsPartitionLeases({ url: nats.url, workerId: 'a.b', partitionCount: 4, ttlMs: 1000 }), /worker id/);
  assert.throws(() => new NatsPartitionLeases({ url: nats.url, workerId: 'a', partitionCount: 4, ttlMs: 10 }), /TTL/);
  const bucket = `leases-${++buckets}`;
  const first = new NatsPartitionLeases({ url: nats.url, bucket, workerId: 'a', partitionCount: 4, ttlMs: 1000 });
  await first.start();
  try {
    await assert.rejects(new NatsPartitionLeases({ url: nats.url, bucket, workerId: 'b', partitionCount: 4, ttlMs: 2000 }).start(), /TTL of 1000 ms/);
  } finally {
    await first.stop();
  }
});
