import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import { SqliteBus } from '../../src/adapters/embedded/sqliteBus.js';
import { SqliteWriteStore } from '../../src/adapters/embedded/sqliteWriteStore.js';
import { createTripContext } from '../../src/adapters/enrichment/tripContext.js';
import { DEFAULT_PIPELINE_CONFIG } from '../../src/domain/pipelineConfig.js';
import { createMetrics } from '../../src/runtime/metrics.js';
import { TripWorker } from '../../src/runtime/tripWorker.js';
import { deviceIn, pointsMessage } from '../../testkit/eventBusContract.js';
import { eventually } from '../../testkit/platform.js';
import { batchOf, stateOf } from '../../testkit/writeStoreContract.js';

const PARTITIONS = 4;

/**
 * A worker holding some partitions (as a cluster worker holding leases) knows only those: the
 * states it loads, and the backlog and lag it reports, leave the other partitions to their owners.
 */
test('a worker loads the states of, and measures the bus backlog and lag of, only the partitions it owns', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tripline-worker-'));
  const bus = new SqliteBus({ path: join(dir, 'bus.db'), partitionCount: PARTITIONS, synchronous: 'NORMAL', retentionMs: 60_000 });
  const store = new SqliteWriteStore(join(dir, 'write.db'), 'NORMAL');
  const mine = deviceIn(0, PARTITIONS);
  const theirs = deviceIn(3, PARTITIONS);
  const context = await createTripContext({});
  const workerOf = (owned: number[]) => new TripWorker({
    bus, store, config: DEFAULT_PIPELINE_CONFIG, context, metrics: createMetrics(), logger: pino({ level: 'silent' }), batchSize: 200,
    onCommitted: () => undefined, onAlertsCommitted: () => undefined, ownedPartitions: () => owned,
  });
  try {
    await store.commit([batchOf(0, 0, { states: [stateOf(mine, true), stateOf(theirs, true)] })]);
    await bus.append([pointsMessage(theirs, 2000)]);
    await sleep(20);
    await bus.append([pointsMessage(mine, 2000)]);

    const worker = workerOf([0, 1]);
    await worker.start();
    try {
      assert.deepEqual([...worker.activeDevices()].map((device) => device.deviceId), [mine], 'only its own devices are loaded');
      await eventually(async () => (await worker.backlog()) === 0, 5000, 'its partitions read to the end');
      assert.equal(await worker.busLagMs(), 0, 'the message waiting in partition 3 is not its lag');
    } finally {
      await worker.stop();
    }

    const owner = workerOf([3]);
    assert.ok((await owner.backlog()) > 0, 'before it reads, partition 3 is behind');
    assert.ok((await owner.busLagMs()) >= 20, 'and its message has waited since it was appended');
  } finally {
    await bus.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
