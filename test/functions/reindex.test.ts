import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { SqliteSearchIndex } from '../../src/adapters/embedded/sqliteSearchIndex.js';
import { SqliteWriteStore } from '../../src/adapters/embedded/sqliteWriteStore.js';
import type { TripSummary } from '../../src/domain/trip.js';
import { reindex, type ReindexProgress } from '../../src/functions/reindex.js';
import { syncOnce } from '../../src/functions/syncSearch.js';
import { change, tripDoc } from '../../testkit/searchIndexContract.js';

/** A trip's document at its n-th version: the distance tells versions apart. */
const tripAt = (tripId: string, version: number, over: Partial<TripSummary> = {}): TripSummary =>
  tripDoc(tripId, 1000 * Number(tripId.replace(/\D/g, '') || 0), { distanceM: 1000 * version, ...over });

let offset = 0;
async function write(store: SqliteWriteStore, trips: TripSummary[]): Promise<void> {
  await store.commit([{ partition: 0, offset: offset++, chunks: [], trips, states: [], alerts: [] }]);
}

async function withStores(fn: (store: SqliteWriteStore, index: SqliteSearchIndex) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tripline-reindex-'));
  const store = new SqliteWriteStore(join(dir, 'write.db'), 'NORMAL');
  const index = new SqliteSearchIndex(join(dir, 'search.db'), 'NORMAL');
  try {
    await fn(store, index);
  } finally {
    await index.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Ten trips; t03 changed twice more and t07 once (versions 3 and 2), all others at version 1. */
async function seed(store: SqliteWriteStore): Promise<void> {
  const ids = Array.from({ length: 10 }, (_, i) => `t${String(i).padStart(2, '0')}`);
  await write(store, ids.slice(0, 4).map((id) => tripAt(id, 1)));
  await write(store, ids.slice(4).map((id) => tripAt(id, 1)));
  await write(store, [tripAt('t03', 2), tripAt('t07', 2)]);
  await write(store, [tripAt('t03', 3)]);
}

async function allTrips(store: SqliteWriteStore): Promise<Array<{ version: number; trip: TripSummary }>> {
  return store.tripsAfter('', 1_000_000);
}

/** Every trip of the write store is in the search store, as the write store has it, and nothing else. */
async function assertMirrors(store: SqliteWriteStore, index: SqliteSearchIndex): Promise<void> {
  const trips = await allTrips(store);
  assert.equal(await index.count(), trips.length);
  for (const { trip } of trips) assert.deepEqual(await index.trip(trip.tenantId, trip.tripId), trip, trip.tripId);
}

async function drain(store: SqliteWriteStore, index: SqliteSearchIndex): Promise<void> {
  while ((await syncOnce(store, index, 3)) > 0);
}

test('reindex fills an empty search store with every trip at its version and leaves its position at the outbox head', async () => {
  for (const pageSize of [3, 5, 500]) { // 10 trips: a short last page, pages that end exactly, one page
    await withStores(async (store, index) => {
      await seed(store);
      const seen: ReindexProgress[] = [];
      const result = await reindex(store, index, { pageSize, onProgress: (p) => seen.push(p) });
      assert.deepEqual(result, { trips: 10, headSeq: 13, completed: true });
      await assertMirrors(store, index);
      assert.deepEqual(await index.position(), await store.head(), `pageSize ${pageSize}`);
      assert.deepEqual(seen[0], { done: 0, total: 10 });
      assert.deepEqual(seen[seen.length - 1], { done: 10, total: 10 });
      assert.equal(seen.length, 1 + Math.ceil(10 / pageSize));
      assert.equal(await syncOnce(store, index, 100), 0, 'nothing left for the running sync');
    });
  }
});

test('an empty write store reindexes to an empty search store', async () => {
  await withStores(async (store, index) => {
    assert.deepEqual(await reindex(store, index), { trips: 0, headSeq: 0, completed: true });
    assert.equal(await index.count(), 0);
    assert.deepEqual(await index.position(), { seq: 0, writtenAtMs: 0 });
  });
});

test('reindexing twice changes nothing', async () => {
  await withStores(async (store, index) => {
    await seed(store);
    await reindex(store, index, { pageSize: 4 });
    const snapshot = async () => ({
      position: await index.position(),
      trips: (await index.searchTrips({ tenantId: 't1', limit: 500, sort: 'startMs', order: 'asc' })).trips,
    });
    const before = await snapshot();
    await reindex(store, index, { pageSize: 4 });
    assert.deepEqual(await snapshot(), before);
  });
});

test('without --reset only missing documents are repaired; with --reset the store is whole again', async () => {
  await withStores(async (store, index) => {
    await seed(store);
    await drain(store, index);
    // Damage: documents lost, and one wrong at its current version (as an older build might have written it).
    await index.reset();
    await index.apply([change(1, 3, tripAt('t03', 3, { startPlace: 'garbage' }))]);
    await reindex(store, index, { pageSize: 3 });
    assert.equal(await index.count(), 10, 'missing documents are back');
    assert.equal((await index.trip('t1', 't03'))?.startPlace, 'garbage', 'a document at the current version is left alone');
    assert.deepEqual(await index.position(), await store.head());

    await reindex(store, index, { pageSize: 3, reset: true });
    await assertMirrors(store, index);
    assert.deepEqual(await index.position(), await store.head());
  });
});

test('a document the search store holds at a newer version is not rolled back', async () => {
  await withStores(async (store, index) => {
    await seed(store);
    const ahead = tripAt('t07', 9);
    await index.apply([change(1, 9, ahead)]);
    await reindex(store, index, { pageSize: 3 });
    assert.deepEqual(await index.trip('t1', 't07'), ahead);
    assert.equal(await index.count(), 10);
    assert.deepEqual(await index.trip('t1', 't03'), tripAt('t03', 3));
  });
});

test('an interrupted reindex never moves the position past changes the store may lack', async () => {
  await withStores(async (store, index) => {
    await seed(store);
    await drain(store, index);
    const synced = await index.position();
    // The platform writes on while sync is stopped: an early trip, a late trip and a new one change.
    await write(store, [tripAt('t00', 2), tripAt('t09', 2), tripAt('t10', 1)]);
    const controller = new AbortController();
    const result = await reindex(store, index, {
      pageSize: 2,
      signal: controller.signal,
      onProgress: ({ done }) => done >= 2 && controller.abort(),
    });
    assert.deepEqual(result, { trips: 2, headSeq: 16, completed: false });
    assert.deepEqual(await index.position(), synced, 'the position stays where sync left it');
    assert.deepEqual(await index.trip('t1', 't00'), tripAt('t00', 2), 'the first page was applied');
    await drain(store, index);
    await assertMirrors(store, index);
  });
});

test('an interrupted rebuild of an empty store leaves the position at the start, for sync to redo', async () => {
  await withStores(async (store, index) => {
    await seed(store);
    const controller = new AbortController();
    await reindex(store, index, { pageSize: 3, signal: controller.signal, onProgress: ({ done }) => done >= 3 && controller.abort() });
    assert.equal(await index.count(), 3);
    assert.deepEqual(await index.position(), { seq: 0, writtenAtMs: 0 });
    await drain(store, index);
    await assertMirrors(store, index);
  });
});

test('changes committed while reindexing are left to the running sync, and none is lost', async () => {
  await withStores(async (store, index) => {
    await seed(store);
    const head = await store.head();
    let calls = 0;
    // The platform commits after the first page was read: an already-read trip changes and a trip is
    // created before the paging cursor.
    const racing = Object.create(store) as SqliteWriteStore;
    racing.tripsAfter = async (after, limit) => {
      if (++calls === 2) await write(store, [tripAt('t00', 2), tripAt('t000', 1)]);
      return store.tripsAfter(after, limit);
    };
    await reindex(racing, index, { pageSize: 3 });
    assert.deepEqual(await index.position(), head, 'the position is the head captured before reading');
    assert.deepEqual(await index.trip('t1', 't00'), tripAt('t00', 1));
    await drain(store, index);
    await assertMirrors(store, index);
    assert.equal(await index.count(), 11);
  });
});

test('a page is retried while the running sync holds the write lock; other errors stop the rebuild', async () => {
  await withStores(async (store, index) => {
    await seed(store);
    const busy = Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' });
    let failures = 3;
    const contended = Object.create(index) as SqliteSearchIndex;
    contended.apply = async (changes) => {
      if (failures-- > 0) throw busy;
      return index.apply(changes);
    };
    const isTransient = (error: unknown) => error === busy;
    await reindex(store, contended, { pageSize: 4, isTransient });
    await assertMirrors(store, index);
    assert.deepEqual(await index.position(), await store.head());

    failures = 1;
    await assert.rejects(reindex(store, contended, { pageSize: 4 }), /database is locked/, 'not transient unless told');
    failures = Number.POSITIVE_INFINITY;
    await assert.rejects(reindex(store, contended, { pageSize: 4, isTransient, retryForMs: 50 }), /database is locked/, 'gives up in time');
  });
});
