import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chunkMonth } from '../../src/adapters/postgres/pgChunkPartitions.js';
import { openPgWriteStore, type PgWriteStore } from '../../src/adapters/postgres/pgWriteStore.js';
import { createPool } from '../../src/adapters/postgres/pool.js';
import { CursorConflictError } from '../../src/ports/writeStore.js';
import { testPostgres } from '../../testkit/postgres.js';
import { tripDoc } from '../../testkit/searchIndexContract.js';
import { alertOf, batchOf, chunkOf, findsUnhashedStates, stateOf, writeStoreContract } from '../../testkit/writeStoreContract.js';

const postgres = testPostgres('tripline-pg-write-');

if (!postgres) {
  test('PostgreSQL write store', (t) => t.skip('PostgreSQL is not installed'));
} else {
  const fresh = postgres.freshDatabase;

  writeStoreContract('PostgreSQL write store', async () => {
    const store = await openPgWriteStore(await fresh());
    return { store, close: () => store.close() };
  });

  /** Several stores on one database: what several worker processes are. */
  async function withStores(count: number, body: (stores: PgWriteStore[], url: string) => Promise<void>): Promise<void> {
    const url = await fresh();
    const stores = await Promise.all(Array.from({ length: count }, () => openPgWriteStore(url, { poolSize: 6 })));
    try {
      await body(stores, url);
    } finally {
      await Promise.all(stores.map((store) => store.close()));
    }
  }

  test('processes starting together on an empty database all get the schema', async () => {
    await withStores(4, async (stores) => {
      await Promise.all(stores.map((store, i) => store.commit([batchOf(i, 1, { fromOffset: 0, trips: [tripDoc(`t${i}`, i)] })])));
      assert.equal(await stores[0]!.tripCount(), 4);
    });
  });

  test('a database from before device_hash gains the column; its states are found in their partitions, and hashed on their next commit', async () => {
    const url = await fresh();
    const devices = Array.from({ length: 8 }, (_, i) => `car-${i}`);
    const old = await openPgWriteStore(url);
    await old.commit([batchOf(0, 1, { states: devices.map((id) => stateOf(id, true)) })]);
    await old.close();
    const pool = createPool(url, 1);
    try {
      await pool.query('ALTER TABLE tripline_write.device_states DROP COLUMN device_hash');
      const store = await openPgWriteStore(url);
      let hashed: string;
      try {
        hashed = await findsUnhashedStates(store, devices);
      } finally {
        await store.close();
      }
      const { rows } = await pool.query<{ device_id: string }>('SELECT device_id FROM tripline_write.device_states WHERE device_hash IS NOT NULL');
      assert.deepEqual(rows.map((row) => row.device_id), [hashed]);
    } finally {
      await pool.end();
    }
  });

  test('point chunks go to monthly partitions made on demand; times outside every month to the DEFAULT partition', async () => {
    await withStores(2, async ([store, other], url) => {
      const lateJanuary = Date.UTC(2025, 0, 31, 23, 59, 0);
      const crossing = chunkOf('car-1', lateJanuary, 10, 10_000); // ends in February
      await store!.commit([batchOf(0, 1, { chunks: [crossing, chunkOf('car-1', Date.UTC(2025, 2, 5), 5), chunkOf('car-2', -5000, 3)] })]);
      // Another process meets the same month: the partition exists, nothing fails.
      await other!.commit([batchOf(1, 1, { chunks: [chunkOf('car-3', Date.UTC(2025, 0, 2), 2)] })]);
      const pool = createPool(url, 1);
      try {
        const { rows } = await pool.query<{ part: string; n: number }>(
          'SELECT tableoid::regclass::text AS part, count(*) AS n FROM tripline_write.point_chunks GROUP BY 1 ORDER BY 1',
        );
        assert.deepEqual(rows.map((row) => [row.part, row.n]), [
          ['tripline_write.point_chunks_2025_01', 2], ['tripline_write.point_chunks_2025_03', 1], ['tripline_write.point_chunks_default', 1],
        ]);
        const partitions = await pool.query<{ name: string }>("SELECT inhrelid::regclass::text AS name FROM pg_inherits WHERE inhparent = 'tripline_write.point_chunks'::regclass");
        const now = new Date();
        for (const month of [chunkMonth(now.getTime()), chunkMonth(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1))]) {
          assert.ok(partitions.rows.some((row) => row.name === `tripline_write.${month!.name}`), `${month!.name} is made ahead of time`);
        }
      } finally {
        await pool.end();
      }
      const february = Date.UTC(2025, 1, 1);
      assert.deepEqual(await store!.points('car-1', february, february + 86_400_000), crossing.points.filter((p) => p.tsMs >= february));
      assert.equal((await other!.points('car-2', -10_000, 0)).length, 3);
    });
  });

  test('two processes racing for one partition: each round one commit wins, the other gets CursorConflictError and writes nothing', async () => {
    await withStores(2, async (stores) => {
      let cursor = 0;
      for (let round = 0; round < 20; round++) {
        // The same chunk from both: the loser must fail on the cursor, not on a duplicate chunk.
        const outcomes = await Promise.allSettled(stores.map((store, i) => store.commit([
          batchOf(0, cursor + 10 + i, { fromOffset: cursor, chunks: [chunkOf('car', 1000 * (round + 1), 3)], trips: [tripDoc(`r${round}-${i}`, round)] }),
        ])));
        const winners = outcomes.flatMap((outcome, i) => (outcome.status === 'fulfilled' ? [i] : []));
        assert.equal(winners.length, 1, `round ${round}: ${JSON.stringify(outcomes)}`);
        const loser = outcomes[1 - winners[0]!] as PromiseRejectedResult;
        assert.ok(loser.reason instanceof CursorConflictError, String(loser.reason));
        cursor += 10 + winners[0]!;
        assert.equal(loser.reason.actual, cursor);
      }
      assert.deepEqual(await stores[0]!.cursors(), new Map([[0, cursor]]));
      assert.deepEqual(await stores[1]!.counts(), { trips: 20, chunks: 20, points: 60 });
    });
  });

  test('readers tailing the change feed and the alert outbox see every row exactly once while 20 committers in 4 processes commit', async (t) => {
    const COMMITTERS = 20;
    const COMMITS = 50;
    await withStores(5, async (stores) => {
      const reader = stores[4]!;
      let finished = false;
      const tail = async (read: (after: number) => Promise<Array<{ seq: number }>>): Promise<number[]> => {
        const seen: number[] = [];
        for (let cursor = 0; ;) {
          const last = finished; // read before the rows: an empty read after every commit ended is the end
          const rows = await read(cursor);
          for (const row of rows) seen.push(row.seq);
          if (rows.length > 0) cursor = rows.at(-1)!.seq;
          else if (last) return seen;
        }
      };
      const trips = tail((after) => reader.readAfter(after, 50));
      const alerts = tail((after) => reader.alertsAfter(after, 50));

      const startedMs = performance.now();
      let hotChanges = 0;
      await Promise.all(Array.from({ length: COMMITTERS }, async (_, c) => {
        const store = stores[c % 4]!;
        for (let i = 0; i < COMMITS; i++) {
          // Every committer also changes one shared trip now and then: versions must still count up by one.
          const hot = i % 10 === c % 10;
          if (hot) hotChanges++;
          await store.commit([batchOf(c, i + 1, {
            fromOffset: i, trips: [tripDoc(`own-${c}`, c, { distanceM: i }), ...(hot ? [tripDoc('hot', 0)] : [])], alerts: i % 5 === 0 ? [alertOf(c * 1000 + i)] : [],
          })]);
        }
      }));
      const elapsedMs = performance.now() - startedMs;
      finished = true;
      const [seenTrips, seenAlerts] = await Promise.all([trips, alerts]);
      t.diagnostic(`${COMMITTERS * COMMITS} commits from ${COMMITTERS} committers in ${Math.round(elapsedMs)} ms: ${Math.round((COMMITTERS * COMMITS * 1000) / elapsedMs)} commits/s`);

      const allTrips = await reader.readAfter(0, 100_000);
      assert.equal(allTrips.length, COMMITTERS * COMMITS + hotChanges);
      assert.deepEqual(seenTrips, allTrips.map((row) => row.seq), 'the tailing reader saw every change, once, in order');
      const allAlerts = await reader.alertsAfter(0, 100_000);
      assert.equal(allAlerts.length, COMMITTERS * (COMMITS / 5));
      assert.deepEqual(seenAlerts, allAlerts.map((row) => row.seq), 'the tailing reader saw every alert, once, in order');

      const versionsOf = (tripId: string) => allTrips.filter((row) => row.tripId === tripId).map((row) => row.version);
      assert.deepEqual(versionsOf('hot'), Array.from({ length: hotChanges }, (_, i) => i + 1), 'a trip changed from several processes: 1, 2, 3, … in feed order');
      for (let c = 0; c < COMMITTERS; c++) assert.deepEqual(versionsOf(`own-${c}`), Array.from({ length: COMMITS }, (_, i) => i + 1));
      assert.deepEqual(await reader.cursors(), new Map(Array.from({ length: COMMITTERS }, (_, c) => [c, COMMITS])));
    });
  });
}
