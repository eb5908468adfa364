import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { SqliteAlertStore } from '../../src/adapters/embedded/sqliteAlertStore.js';
import { SqliteWriteStore } from '../../src/adapters/embedded/sqliteWriteStore.js';
import type { Alert } from '../../src/domain/alerts/alert.js';
import type { BatchEffects } from '../../src/ports/writeStore.js';
import { loadConfig } from '../../src/runtime/config.js';
import { startEmbedded } from '../../src/runtime/embedded.js';
import { createLogger } from '../../src/runtime/logger.js';
import { eventually } from '../../testkit/platform.js';
import { startWebhookReceiver } from '../../testkit/webhookReceiver.js';

const alert: Alert = {
  alertId: 'restart-car:crash:1764000000000', type: 'crash', tenantId: 'demo', deviceId: 'restart-car', vehicleId: 'van', driverId: null,
  tripId: 'restart-car.1763999000000', startMs: 1_764_000_000_000, raisedAtPointMs: 1_764_000_002_000, receivedAtMs: Date.now(),
  lat: 50.85, lon: 4.35, severity: 'high', peak: 70, peakUnit: 'mps2', details: {},
};

function start(dataDir: string) {
  const config = loadConfig({ mqttPort: 0, httpPort: 0, dataDir, logLevel: 'silent', secretHashCost: 10, webhookRetryBaseMs: 1500 }, {});
  return startEmbedded(config, createLogger('silent'));
}

test('an alert committed with its batch but never dispatched (the process died) is delivered after the restart, once', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tripline-alerts-'));
  // The receiver refuses the first try, so the second half also sees a queued retry survive a restart.
  const receiver = await startWebhookReceiver((_, index) => (index === 0 ? 500 : 200));
  try {
    // What the worker's transaction leaves behind when the process dies right after it.
    const store = new SqliteWriteStore(join(dataDir, 'write.db'), 'FULL');
    const batch: BatchEffects = { partition: 0, offset: 0, chunks: [], trips: [], states: [], alerts: [alert] };
    await store.commit([batch]);
    await store.commit([batch]); // a replay of the same batch
    assert.equal((await store.alertsAfter(0, 10)).length, 1, 'a replay adds no second alert');
    await store.close();
    const alerts = new SqliteAlertStore(join(dataDir, 'alerts.db'), 'FULL');
    await alerts.addWebhook({ webhookId: 'wh_000000000000000000000001', tenantId: 'demo', url: receiver.url, types: null, createdAtMs: Date.now() }, 'whsec_test');
    await alerts.close();

    let platform = await start(dataDir);
    await receiver.next(() => true, 5000);
    assert.equal(receiver.received[0]!.headers['tripline-alert-id'], alert.alertId);
    await eventually(async () => (await platform.alerts.deliveries('demo', 'wh_000000000000000000000001', 10))[0]?.attempts === 1, 2000, 'the failed try recorded');
    // Down before the retry is due (1.2–1.5 s later): the queued delivery must survive.
    await platform.stop();
    platform = await start(dataDir);
    try {
      await receiver.next((r) => r.status === 200, 10_000);
      await new Promise((resolve) => setTimeout(resolve, 1000));
      assert.deepEqual(receiver.received.map((r) => r.status), [500, 200], 'retried after the restart, and not dispatched again');
      const [delivery] = await platform.alerts.deliveries('demo', 'wh_000000000000000000000001', 10);
      assert.equal(delivery!.status, 'delivered');
    } finally {
      await platform.stop();
    }
  } finally {
    await receiver.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
