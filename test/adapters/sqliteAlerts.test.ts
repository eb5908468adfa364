import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { SqliteAlertStore } from '../../src/adapters/embedded/sqliteAlertStore.js';
import type { Delivery } from '../../src/ports/alertStore.js';

test('the alert store: deliveries queued once with the cursor; finished ones pruned, pending ones kept', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tripline-alerts-'));
  const store = new SqliteAlertStore(join(dir, 'alerts.db'), 'NORMAL');
  try {
    await store.addWebhook({ webhookId: 'wh_1', tenantId: 'acme', url: 'http://127.0.0.1:9/', types: ['crash'], createdAtMs: 1 }, 'whsec_x');
    assert.deepEqual(await store.webhookTarget('wh_1'), { url: 'http://127.0.0.1:9/', secret: 'whsec_x' });
    assert.equal(await store.webhook('globex', 'wh_1'), null, "another tenant's webhook is not found");
    const delivery = (id: string): Delivery => ({ deliveryId: id, alertId: id, webhookId: 'wh_1', tenantId: 'acme', status: 'pending', attempts: 0, nextAttemptAtMs: 0, body: '{}', receivedAtMs: 0, lastError: null, updatedAtMs: 0 });
    await store.enqueue([delivery('a'), delivery('b')], 7);
    await store.enqueue([delivery('a')], 8); // a replay of the dispatch
    assert.equal(await store.dispatchCursor(), 8);
    assert.deepEqual((await store.dueDeliveries(1, 10)).map((d) => d.deliveryId), ['a', 'b']);
    await store.recordAttempt({ ...delivery('a'), status: 'delivered', attempts: 1, updatedAtMs: 5 }, { attempt: 1, atMs: 5, durationMs: 1, httpStatus: 200, error: null });
    assert.equal(await store.pruneDeliveries(10), 1);
    assert.deepEqual((await store.deliveries('acme', 'wh_1', 10)).map((d) => d.deliveryId), ['b']);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
