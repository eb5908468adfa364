import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AlertStore, Delivery, DeliveryAttempt, Webhook } from '../src/ports/alertStore.js';

const webhook = (webhookId: string, over: Partial<Webhook> = {}): Webhook => ({
  webhookId, tenantId: 'acme', url: `https://example.com/${webhookId}`, types: null, createdAtMs: 1, ...over,
});

const delivery = (deliveryId: string, over: Partial<Delivery> = {}): Delivery => ({
  deliveryId, alertId: `alert-${deliveryId}`, webhookId: 'wh_1', tenantId: 'acme', status: 'pending', attempts: 0,
  nextAttemptAtMs: 0, body: `{"alertId":"alert-${deliveryId}"}`, receivedAtMs: 0, lastError: null, updatedAtMs: 0, ...over,
});

const tried = (attempt: number, atMs: number, httpStatus: number | null, error: string | null = null): DeliveryAttempt => ({
  attempt, atMs, durationMs: 3, httpStatus, error,
});

const ids = (deliveries: Delivery[]) => deliveries.map((d) => d.deliveryId);

/** The behaviour every alert store must have (the PostgreSQL one of the cluster mode included). Each test opens a fresh, empty store. */
export function alertStoreContract(name: string, open: () => Promise<AlertStore>): void {
  const withStore = (title: string, body: (store: AlertStore) => Promise<void>) =>
    test(`${name}: ${title}`, async () => {
      const store = await open();
      try {
        await body(store);
      } finally {
        await store.close();
      }
    });

  withStore('webhooks are listed per tenant in creation order, found only by their tenant; the target carries the secret', async (store) => {
    await store.addWebhook(webhook('wh_1', { types: ['crash', 'sustained_speeding'], createdAtMs: 20 }), 'whsec_one');
    await store.addWebhook(webhook('wh_2', { createdAtMs: 10 }), 'whsec_two');
    await store.addWebhook(webhook('wh_3', { tenantId: 'globex' }), 'whsec_three');
    assert.deepEqual(await store.webhooks('acme'), [webhook('wh_2', { createdAtMs: 10 }), webhook('wh_1', { types: ['crash', 'sustained_speeding'], createdAtMs: 20 })]);
    assert.deepEqual(await store.webhooks('nobody'), []);
    assert.deepEqual(await store.webhook('acme', 'wh_1'), webhook('wh_1', { types: ['crash', 'sustained_speeding'], createdAtMs: 20 }));
    assert.equal(await store.webhook('globex', 'wh_1'), null, "another tenant's webhook is not found");
    assert.deepEqual(await store.webhookTarget('wh_1'), { url: 'https://example.com/wh_1', secret: 'whsec_one' });
    assert.equal(await store.webhookTarget('wh_9'), null);
    assert.ok(!JSON.stringify(await store.webhooks('acme')).includes('whsec_'), 'listings never carry the secret');
  });

  withStore('deleting a webhook: only by its tenant; its pending deliveries become dead letters, finished ones stay', async (store) => {
    await store.addWebhook(webhook('wh_1'), 'whsec_x');
    await store.enqueue([delivery('a', { updatedAtMs: 1 }), delivery('b', { updatedAtMs: 2 })], 1);
    await store.recordAttempt(delivery('b', { status: 'delivered', attempts: 1, updatedAtMs: 3 }), tried(1, 3, 204));
    assert.equal(await store.deleteWebhook('globex', 'wh_1'), false);
    assert.ok(await store.webhookTarget('wh_1'));

    const beforeMs = Date.now();
    assert.equal(await store.deleteWebhook('acme', 'wh_1'), true);
    assert.equal(await store.deleteWebhook('acme', 'wh_1'), false, 'already gone');
    assert.equal(await store.webhookTarget('wh_1'), null);
    assert.deepEqual(await store.webhooks('acme'), []);
    const [a, b] = [...(await store.deliveries('acme', 'wh_1', 10))].sort((x, y) => x.deliveryId.localeCompare(y.deliveryId));
    assert.equal(a?.status, 'dead_letter');
    assert.equal(a?.lastError, 'webhook deleted');
    assert.ok(a!.updatedAtMs >= beforeMs);
    assert.equal(b?.status, 'delivered');
    assert.deepEqual(await store.dueDeliveries(Date.now(), 10), []);
    assert.equal(await store.nextDueAtMs(), null);
  });

  withStore('enqueue queues each delivery once and moves the dispatch cursor with it; a replay changes nothing', async (store) => {
    assert.equal(await store.dispatchCursor(), 0, 'nothing dispatched yet');
    await store.enqueue([delivery('a'), delivery('b')], 7);
    assert.equal(await store.dispatchCursor(), 7);
    await store.recordAttempt(delivery('a', { attempts: 1, nextAttemptAtMs: 500, lastError: 'HTTP 500', updatedAtMs: 5 }), tried(1, 5, 500, 'HTTP 500'));
    // A replay of the dispatch (after a crash) brings the same deliveries again, fresh.
    await store.enqueue([delivery('a'), delivery('c'), delivery('c')], 8);
    assert.equal(await store.dispatchCursor(), 8);
    const all = await store.deliveries('acme', 'wh_1', 10);
    assert.deepEqual(ids(all).sort(), ['a', 'b', 'c']);
    const a = all.find((d) => d.deliveryId === 'a')!;
    assert.equal(a.attempts, 1, 'the queued delivery kept its progress');
    assert.equal(a.history.length, 1);
    await store.enqueue([], 9);
    assert.equal(await store.dispatchCursor(), 9, 'alerts owed to no webhook move the cursor too');
  });

  withStore('enqueue is atomic: a batch whose cursor fails to move leaves no delivery queued', async (store) => {
    await store.enqueue([delivery('a')], 3);
    await assert.rejects(store.enqueue([delivery('b'), delivery('c')], Number.NaN));
    assert.equal(await store.dispatchCursor(), 3);
    assert.deepEqual(ids(await store.dueDeliveries(1, 10)), ['a']);
  });

  withStore('the dispatch cursor never moves back (dispatchers sharing the store may finish out of order)', async (store) => {
    await store.enqueue([], 10);
    await store.enqueue([delivery('a')], 4);
    assert.equal(await store.dispatchCursor(), 10);
    assert.deepEqual(ids(await store.dueDeliveries(1, 10)), ['a'], 'the deliveries are still queued');
  });

  withStore('due deliveries: pending ones whose time has come, earliest first, up to the limit; nextDueAtMs is the earliest pending', async (store) => {
    assert.equal(await store.nextDueAtMs(), null, 'none pending');
    await store.enqueue([delivery('a', { nextAttemptAtMs: 300 }), delivery('b', { nextAttemptAtMs: 100 }), delivery('c', { nextAttemptAtMs: 200 }), delivery('d', { nextAttemptAtMs: 1000 })], 1);
    assert.equal(await store.nextDueAtMs(), 100);
    assert.deepEqual(ids(await store.dueDeliveries(50, 10)), []);
    assert.deepEqual(ids(await store.dueDeliveries(250, 10)), ['b', 'c']);
    assert.deepEqual(ids(await store.dueDeliveries(5000, 2)), ['b', 'c']);
    assert.deepEqual(ids(await store.dueDeliveries(250, 10)), ['b', 'c'], 'asked again before any try: the same ones');
    await store.recordAttempt(delivery('b', { status: 'delivered', attempts: 1, nextAttemptAtMs: 100, updatedAtMs: 110 }), tried(1, 105, 200));
    assert.equal(await store.nextDueAtMs(), 200);
    assert.deepEqual(ids(await store.dueDeliveries(5000, 10)), ['c', 'a', 'd']);
  });

  withStore('recording tries: a failure reschedules, a success or a dead letter finishes; every try is kept, in order', async (store) => {
    const body = '{"alertId":"a","note":"crème brûlée ✓ \\u0000 \\n","n":1.50}  ';
    await store.enqueue([delivery('a', { body, receivedAtMs: 1_700_000_000_000, nextAttemptAtMs: 1000, updatedAtMs: 1000 }), delivery('b', { nextAttemptAtMs: 1001, updatedAtMs: 1000 })], 1);
    const [due] = await store.dueDeliveries(1000, 1);
    assert.equal(due?.body, body, 'the body comes back byte for byte: it is what gets signed');
    assert.deepEqual(due, delivery('a', { body, receivedAtMs: 1_700_000_000_000, nextAttemptAtMs: 1000, updatedAtMs: 1000 }));

    await store.recordAttempt({ ...due, attempts: 1, nextAttemptAtMs: 3000, lastError: 'HTTP 503', updatedAtMs: 1010 }, tried(1, 1000, 503, 'HTTP 503'));
    assert.deepEqual(ids(await store.dueDeliveries(2999, 10)), ['b'], 'a waits for its next try');
    assert.deepEqual(ids(await store.dueDeliveries(3000, 10)), ['b', 'a']);
    await store.recordAttempt({ ...due, status: 'delivered', attempts: 2, nextAttemptAtMs: 3000, lastError: null, updatedAtMs: 3020 }, tried(2, 3000, 200));
    await store.recordAttempt(delivery('b', { status: 'dead_letter', attempts: 1, nextAttemptAtMs: 1001, lastError: 'no response within 5000 ms', updatedAtMs: 6000 }), tried(1, 1000, null, 'no response within 5000 ms'));
    assert.deepEqual(await store.dueDeliveries(1e15, 10), []);
    assert.equal(await store.nextDueAtMs(), null);

    const listed = await store.deliveries('acme', 'wh_1', 10);
    assert.deepEqual(ids(listed), ['b', 'a'], 'newest update first');
    assert.deepEqual(listed[1], {
      ...delivery('a', { body, receivedAtMs: 1_700_000_000_000, status: 'delivered', attempts: 2, nextAttemptAtMs: 3000, updatedAtMs: 3020 }),
      history: [tried(1, 1000, 503, 'HTTP 503'), tried(2, 3000, 200)],
    });
    assert.deepEqual(listed[0]?.history, [tried(1, 1000, null, 'no response within 5000 ms')]);
    assert.deepEqual(ids(await store.deliveries('acme', 'wh_1', 1)), ['b'], 'the limit');
    assert.deepEqual(await store.deliveries('globex', 'wh_1', 10), [], "another tenant's deliveries are not found");
    assert.deepEqual(await store.deliveries('acme', 'wh_2', 10), []);
  });

  withStore('pruning deletes finished deliveries last updated before a time, with their tries; pending ones stay however old', async (store) => {
    await store.enqueue(['old-delivered', 'old-dead', 'new-delivered', 'old-pending'].map((id) => delivery(id)), 1);
    await store.recordAttempt(delivery('old-delivered', { status: 'delivered', attempts: 1, updatedAtMs: 5 }), tried(1, 5, 200));
    await store.recordAttempt(delivery('old-dead', { status: 'dead_letter', attempts: 1, updatedAtMs: 6 }), tried(1, 6, 410, 'HTTP 410'));
    await store.recordAttempt(delivery('new-delivered', { status: 'delivered', attempts: 1, updatedAtMs: 50 }), tried(1, 50, 200));
    assert.equal(await store.pruneDeliveries(10), 2);
    assert.equal(await store.pruneDeliveries(10), 0);
    assert.deepEqual(ids(await store.deliveries('acme', 'wh_1', 10)), ['new-delivered', 'old-pending']);
    // Queued again under the same id, a pruned delivery starts with no history: its tries went with it.
    await store.enqueue([delivery('old-delivered')], 2);
    assert.deepEqual((await store.deliveries('acme', 'wh_1', 10)).find((d) => d.deliveryId === 'old-delivered')?.history, []);
  });
}
