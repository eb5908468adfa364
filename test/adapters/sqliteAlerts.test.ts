import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { SqliteAlertStore } from '../../src/adapters/embedded/sqliteAlertStore.js';
import { SqliteWriteStore } from '../../src/adapters/embedded/sqliteWriteStore.js';
import type { Alert } from '../../src/domain/alerts/alert.js';
import type { Delivery } from '../../src/ports/alertStore.js';

const alert = (n: number): Alert => ({
  alertId: `car:crash:${n}`, type: 'crash', tenantId: 'acme', deviceId: 'car', vehicleId: 'van', driverId: null, tripId: null,
  startMs: n, raisedAtPointMs: n, receivedAtMs: n, lat: 50, lon: 4, severity: 'high', peak: 50, peakUnit: 'mps2', details: {},
});

test('the alert outbox: one row per alert id, in commit order; pruning keeps the head and undispatched alerts', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tripline-alerts-'));
  const store = new SqliteWriteStore(join(dir, 'write.db'), 'NORMAL');
  try {
    await store.commit([{ partition: 0, offset: 1, chunks: [], trips: [], states: [], alerts: [alert(1), alert(2)] }]);
    await store.commit([{ partition: 0, offset: 2, chunks: [], trips: [], states: [], alerts: [alert(2), alert(3)] }]);
    assert.deepEqual((await store.alertsAfter(0, 10)).map((row) => row.alert.alertId), ['car:crash:1', 'car:crash:2', 'car:crash:3']);
    assert.equal(await store.alertSeq('car:crash:2'), 2);
    const third = (await store.alertSeq('car:crash:3'))!;
    assert.equal(await store.alertsHead(), third);
    assert.equal(await store.pruneAlerts(2, Date.now() + 1), 2, 'dispatched ones go');
    assert.deepEqual((await store.alertsAfter(0, 10)).map((row) => row.alert.alertId), ['car:crash:3']);
    assert.equal(await store.pruneAlerts(third, Date.now() - 60_000), 0, 'recent ones stay');
    await store.pruneAlerts(third, Date.now() + 1);
    assert.equal(await store.alertsHead(), third, 'the head survives pruning everything');
    await store.commit([{ partition: 0, offset: 3, chunks: [], trips: [], states: [], alerts: [alert(4)] }]);
    assert.ok((await store.alertSeq('car:crash:4'))! > third, 'seqs are never reused');
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

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
