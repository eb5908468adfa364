import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { openPgAlertStore } from '../../src/adapters/postgres/pgAlertStore.js';
import { DEFAULT_RETRY_POLICY } from '../../src/domain/alerts/retryPolicy.js';
import type { Delivery } from '../../src/ports/alertStore.js';
import { createMetrics } from '../../src/runtime/metrics.js';
import { WebhookSender } from '../../src/runtime/webhookSender.js';
import { alertStoreContract } from '../../testkit/alertStoreContract.js';
import { testPostgres } from '../../testkit/postgres.js';
import { startWebhookReceiver } from '../../testkit/webhookReceiver.js';

const postgres = testPostgres('tripline-pg-alerts-');

const delivery = (deliveryId: string, nextAttemptAtMs: number): Delivery => ({
  deliveryId, alertId: `alert-${deliveryId}`, webhookId: 'wh_1', tenantId: 'acme', status: 'pending', attempts: 0,
  nextAttemptAtMs, body: JSON.stringify({ alertId: `alert-${deliveryId}` }), receivedAtMs: nextAttemptAtMs, lastError: null, updatedAtMs: nextAttemptAtMs,
});

if (!postgres) {
  test('PostgreSQL alert store', (t) => t.skip('PostgreSQL is not installed'));
} else {
  const fresh = postgres.freshDatabase;

  alertStoreContract('PostgreSQL alert store', async () => openPgAlertStore(await fresh()));

  test('two processes never hold the same delivery: a claim lasts until the try is recorded or the claim lapses', async () => {
    const url = await fresh();
    // Opened together on an empty database: the schema is created once, without a race.
    const [a, b] = await Promise.all([openPgAlertStore(url, { claimMs: 1000 }), openPgAlertStore(url, { claimMs: 1000 })]);
    try {
      const nowMs = Date.now();
      await a.enqueue(Array.from({ length: 10 }, (_, i) => delivery(`d${i}`, nowMs - 10 + i)), 1);
      const [byA, byB] = await Promise.all([a.dueDeliveries(nowMs, 6), b.dueDeliveries(nowMs, 6)]);
      const claimedByA = byA.map((d) => d.deliveryId);
      const claimedByB = byB.map((d) => d.deliveryId);
      assert.equal(new Set([...claimedByA, ...claimedByB]).size, claimedByA.length + claimedByB.length, 'no delivery handed to both');
      assert.equal(claimedByA.length + claimedByB.length, 10, 'together they took all');
      assert.deepEqual((await a.dueDeliveries(nowMs, 10)).map((d) => d.deliveryId), claimedByA, 'a holder gets its own again (its sender skips those in flight)');
      assert.deepEqual((await b.dueDeliveries(nowMs, 10)).map((d) => d.deliveryId), claimedByB);

      // A failed try rescheduled for now releases the claim: the other process may take it.
      const retried = byA[0]!;
      await a.recordAttempt({ ...retried, attempts: 1, lastError: 'HTTP 500', updatedAtMs: Date.now() }, { attempt: 1, atMs: nowMs, durationMs: 1, httpStatus: 500, error: 'HTTP 500' });
      const delivered = byA[1]!;
      await a.recordAttempt({ ...delivered, status: 'delivered', attempts: 1 }, { attempt: 1, atMs: nowMs, durationMs: 1, httpStatus: 200, error: null });
      const heldByB = await b.dueDeliveries(nowMs, 10);
      assert.deepEqual(heldByB.map((d) => d.deliveryId).sort(), [...claimedByB, retried.deliveryId].sort());
      for (const d of heldByB) {
        await b.recordAttempt({ ...d, status: 'delivered', attempts: d.attempts + 1 }, { attempt: d.attempts + 1, atMs: nowMs, durationMs: 1, httpStatus: 200, error: null });
      }

      // Everything left is claimed by the other process: its next chance is when those claims lapse, not now (no busy loop).
      const remainingOfA = claimedByA.slice(2);
      const nextMs = await b.nextDueAtMs();
      assert.ok(nextMs !== null && nextMs > Date.now() && nextMs <= Date.now() + 1000, `next due ${nextMs === null ? null : nextMs - Date.now()} ms from now`);
      assert.deepEqual(await b.dueDeliveries(Date.now(), 20), []);
      assert.ok((await a.nextDueAtMs())! <= Date.now(), 'the holder may go on at once');

      // The holder "crashed": once its claims lapse, the other process takes its deliveries.
      await sleep(Math.max(0, nextMs - Date.now()) + 50);
      const taken = (await b.dueDeliveries(Date.now(), 20)).map((d) => d.deliveryId);
      assert.deepEqual(taken.filter((id) => remainingOfA.includes(id)).sort(), [...remainingOfA].sort());
      assert.ok(!taken.includes(delivered.deliveryId), 'a delivered one is never due again');
      assert.deepEqual(await a.dueDeliveries(Date.now(), 20), [], 'the first process gets nothing while the second holds them all');
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  test('two webhook senders in two processes deliver each of 200 queued deliveries exactly once', async () => {
    const url = await fresh();
    const receiver = await startWebhookReceiver();
    const stores = await Promise.all([openPgAlertStore(url), openPgAlertStore(url)]);
    const logger = pino({ level: 'silent' });
    const metrics = stores.map(() => createMetrics());
    const senders = stores.map((store, i) => new WebhookSender({ store, policy: DEFAULT_RETRY_POLICY, timeoutMs: 5000, concurrency: 16, metrics: metrics[i]!, logger }));
    try {
      await stores[0]!.addWebhook({ webhookId: 'wh_1', tenantId: 'acme', url: receiver.url, types: null, createdAtMs: 1 }, 'whsec_x');
      const nowMs = Date.now();
      await stores[0]!.enqueue(Array.from({ length: 200 }, (_, i) => delivery(`d${String(i).padStart(3, '0')}`, nowMs)), 1);
      for (const sender of senders) sender.start();
      const deadline = Date.now() + 20_000;
      while (receiver.received.length < 200 && Date.now() < deadline) await sleep(20);
      await sleep(300); // a duplicate, if any, would arrive now
      const perAlert = new Map<string, number>();
      for (const request of receiver.received) {
        const alertId = String(request.headers['tripline-alert-id']);
        perAlert.set(alertId, (perAlert.get(alertId) ?? 0) + 1);
      }
      assert.equal(perAlert.size, 200, 'every delivery arrived');
      assert.deepEqual([...perAlert.values()].filter((n) => n > 1), [], 'none arrived twice');
      for (const sender of senders) await sender.stop();
      const sentBy = await Promise.all(metrics.map(async (m) => (await m.alertDeliveries.get()).values.find((v) => v.labels.outcome === 'sent')?.value ?? 0));
      assert.ok(sentBy.every((sent) => sent > 0), `both senders worked (${sentBy.join(' + ')})`);
      const listed = await stores[1]!.deliveries('acme', 'wh_1', 500);
      assert.ok(listed.every((d) => d.status === 'delivered' && d.attempts === 1 && d.history.length === 1));
      assert.equal(await stores[1]!.nextDueAtMs(), null);
    } finally {
      for (const sender of senders) await sender.stop();
      await Promise.all(stores.map((store) => store.close()));
      await receiver.close();
    }
  });
}
