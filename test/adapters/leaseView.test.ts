import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LeaseView } from '../../src/adapters/nats/leaseView.js';

const put = (key: string, value: string) => ({ key, operation: 'PUT' as const, value });

test('the lease view counts live workers and partitions held by others, and forgets keys not rewritten within the TTL', () => {
  const view = new LeaseView(1000, 'w1');
  assert.equal(view.saw(put('member.w1', 'w1'), 0), false, 'this worker announcing itself is no news');
  assert.equal(view.saw(put('member.w2', 'w2'), 0), true, 'a worker joined: rebalance');
  assert.equal(view.saw(put('member.w2', 'w2'), 300), false, 'a renewal is no news');
  view.saw(put('partition.0', 'w1'), 0);
  view.saw(put('partition.3', 'w2'), 100);
  assert.deepEqual(view.live(500), { liveWorkers: 2, heldByOthers: new Set([3]) });
  assert.equal(view.nextStaleInMs(500), 500, 'partition.0 and member.w1, seen at 0, go stale at 1000');
  // w2 died after its renewal at 300: its member key goes stale at 1300, its lease at 1100.
  assert.deepEqual(view.live(1200), { liveWorkers: 2, heldByOthers: new Set() });
  assert.deepEqual(view.live(1300), { liveWorkers: 1, heldByOthers: new Set() });
  assert.equal(view.nextStaleInMs(1300), Infinity, 'stale keys were forgotten');
});

test('a released key calls for a rebalance at once', () => {
  const view = new LeaseView(1000, 'w1');
  view.saw(put('partition.2', 'w2'), 0);
  assert.equal(view.saw({ key: 'partition.2', operation: 'DEL', value: '' }, 10), true);
  assert.deepEqual(view.live(20).heldByOthers, new Set());
});
