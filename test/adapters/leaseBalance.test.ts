import assert from 'node:assert/strict';
import { test } from 'node:test';
import { planLeases, preference } from '../../src/adapters/nats/leaseBalance.js';

const none = new Set<number>();

test('a lone worker wants every partition, most preferred first, the same order every time', () => {
  const plan = planLeases({ workerId: 'w1', partitionCount: 8, owned: none, heldByOthers: none, liveWorkers: 1 });
  assert.equal(plan.wanted, 8);
  assert.deepEqual([...plan.candidates].sort(), [0, 1, 2, 3, 4, 5, 6, 7]);
  for (let i = 1; i < 8; i++) assert.ok(preference('w1', plan.candidates[i - 1]!) >= preference('w1', plan.candidates[i]!));
  assert.deepEqual(planLeases({ workerId: 'w1', partitionCount: 8, owned: none, heldByOthers: none, liveWorkers: 1 }), plan);
  assert.notDeepEqual(planLeases({ workerId: 'w2', partitionCount: 8, owned: none, heldByOthers: none, liveWorkers: 1 }).candidates, plan.candidates);
});

test('a worker over its share (ceil of partitions over workers) releases its least preferred partitions', () => {
  const owned = new Set([0, 1, 2, 3, 4, 5, 6, 7]);
  const plan = planLeases({ workerId: 'w1', partitionCount: 8, owned, heldByOthers: none, liveWorkers: 3 });
  assert.equal(plan.release.length, 5);
  assert.equal(plan.wanted, 0);
  const kept = [...owned].filter((p) => !plan.release.includes(p));
  for (const p of plan.release) for (const k of kept) assert.ok(preference('w1', p) <= preference('w1', k));
});

test('a worker under its share tries only partitions nobody live holds', () => {
  const plan = planLeases({ workerId: 'w3', partitionCount: 8, owned: new Set([5]), heldByOthers: new Set([0, 1, 2, 3, 4, 6]), liveWorkers: 3 });
  assert.deepEqual(plan.candidates, [7]);
  assert.equal(plan.wanted, 2);
  assert.deepEqual(plan.release, []);
});

test('more workers than partitions: each wants at most one', () => {
  const plan = planLeases({ workerId: 'w9', partitionCount: 4, owned: new Set([1, 2]), heldByOthers: none, liveWorkers: 6 });
  assert.equal(plan.release.length, 1);
  assert.equal(plan.wanted, 0);
});
