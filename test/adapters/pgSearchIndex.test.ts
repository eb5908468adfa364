import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openPgSearchIndex, PgSearchIndex } from '../../src/adapters/postgres/pgSearchIndex.js';
import { searchTables } from '../../src/adapters/postgres/pgSearchSchema.js';
import { createPool } from '../../src/adapters/postgres/pool.js';
import { postgisInstalled } from '../../src/cluster/services/postgres.js';
import type { SearchIndex, TripPage } from '../../src/ports/searchIndex.js';
import { testPostgres } from '../../testkit/postgres.js';
import { change, searchIndexContract, tripDoc } from '../../testkit/searchIndexContract.js';

const postgres = testPostgres('tripline-pgsearch-');
const postgis = postgres !== null && postgisInstalled();
if (postgres && !postgis) {
  if (process.env.CI === 'true') throw new Error('PostGIS is not installed, and CI=true forbids skipping (apt-get install postgis)');
  console.warn('\n*** PostGIS is not installed: skipping the PostgreSQL search store tests (apt-get install postgis) ***\n');
}

if (postgres && postgis) {
  /** A new database with PostGIS on the file's one server. */
  const freshDatabase = () => postgres.freshDatabase(['postgis']);

  searchIndexContract('PostgreSQL/PostGIS search store', async () => {
    const index = await openPgSearchIndex(await freshDatabase());
    return { index, close: () => index.close() };
  });

  test('PostgreSQL search store: processes starting together create the schema once; foreign tables are never dropped; another version is rebuilt', async () => {
    const url = await freshDatabase();
    const indexes = await Promise.all(Array.from({ length: 4 }, () => openPgSearchIndex(url)));
    try {
      await indexes[0]!.apply([change(1, 1, tripDoc('a', 1000))]);
      assert.equal(await indexes[3]!.count(), 1, 'they share one store');
      const again = await openPgSearchIndex(url);
      assert.equal(await again.count(), 1, 'opening again keeps the data');
      await again.close();
    } finally {
      await Promise.all(indexes.map((index) => index.close()));
    }
    const pool = createPool(url, 1);
    try {
      await pool.query('CREATE SCHEMA writes; CREATE TABLE writes.trips (id int)');
      await assert.rejects(openPgSearchIndex(url, { schema: 'writes' }), /not a tripline search store/);
      assert.equal((await pool.query('SELECT count(*) AS n FROM writes.trips')).rows[0].n, 0, 'still there');
      await assert.rejects(openPgSearchIndex(url, { schema: 'x"; DROP SCHEMA writes; --' }), /not a lower-case SQL identifier/);
      await pool.query('UPDATE tripline_search.schema_version SET version = 0');
      const rebuilt = await openPgSearchIndex(url);
      assert.equal(await rebuilt.count(), 0, 'a store of another version starts empty, for sync to refill');
      assert.deepEqual(await rebuilt.position(), { seq: 0, writtenAtMs: 0 });
      await rebuilt.close();
    } finally {
      await pool.end();
    }
  });

  test('PostgreSQL search store: ids keep byte order (as in SQLite) in a database whose collation is linguistic', async () => {
    const url = await postgres.freshDatabase();
    const admin = createPool(url, 1);
    await admin.query("CREATE DATABASE search_icu TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'und'").finally(() => admin.end());
    // Under ICU's root collation these would sort _x, a, a-1, a.1, B.
    const index = await openPgSearchIndex(url.replace(/[^/]+$/, 'search_icu'));
    try {
      const ids = ['a.1', 'B', 'a', '_x', 'a-1'];
      await index.apply(ids.map((id, i) => change(i + 1, 1, tripDoc(id, 1000, { vehicleId: id }))));
      const first = await index.searchTrips({ tenantId: 't1', sort: 'startMs', order: 'asc', limit: 3 });
      const rest = await index.searchTrips({ tenantId: 't1', sort: 'startMs', order: 'asc', limit: 3, cursor: first.nextCursor! });
      assert.deepEqual([...first.trips, ...rest.trips].map((t) => t.tripId), ['B', '_x', 'a', 'a-1', 'a.1']);
      assert.deepEqual((await index.groupStats({ tenantId: 't1' }, 'vehicle')).map((v) => v.id), ['B', '_x', 'a', 'a-1', 'a.1']);
    } finally {
      await index.close();
    }
  });

  test('PostgreSQL search store: concurrent writers of overlapping batches (sync beside a reindex) neither deadlock nor roll back', async () => {
    const index = await openPgSearchIndex(await freshDatabase(), { poolSize: 6 });
    try {
      const trips = Array.from({ length: 500 }, (_, i) => tripDoc(`t${String(i).padStart(3, '0')}`, 1000 + i));
      // Opposite orders: without a fixed lock order two such transactions deadlock.
      const forward = trips.map((trip, i) => change(i + 1, 2, trip));
      const backward = [...trips].reverse().map((trip, i) => change(i + 1, 1, { ...trip, status: 'active' }));
      await Promise.all([forward, backward, forward, backward, forward, backward].map((batch) => index.apply(batch)));
      assert.equal(await index.count(), 500);
      const page = await index.searchTrips({ tenantId: 't1', status: 'active', limit: 10 });
      assert.deepEqual(page.trips, [], 'version 2 wins whatever the order of commits');
    } finally {
      await index.close();
    }
  });

  test('PostgreSQL search store: near, box and place-text queries are answered by the GiST and GIN indexes', async () => {
    const url = await freshDatabase();
    const writer = await openPgSearchIndex(url);
    await fillCity(writer, 3000);
    await writer.close();
    const explaining = explainingStore(url);
    try {
      await explaining.analyze();
      // Each query finds something (trip-0 starts at 50.76, 4.2 and drives 1.2 km north), through the index named.
      const uses = async <T>(name: string, run: (store: SearchIndex) => Promise<T>): Promise<T> => {
        const { result, indexes } = await explaining.run(run);
        assert.ok(indexes.includes(name), `expected ${name}, the plan used ${indexes.join(', ') || 'no index'}`);
        return result;
      };
      const ids = (page: TripPage) => page.trips.map((trip) => trip.tripId);
      assert.ok(ids(await uses('trips_ends_geography', (store) => store.searchTrips({ tenantId: 't1', endsNear: { lat: 50.77, lon: 4.2, radiusM: 300 }, limit: 50 }))).includes('trip-0'));
      assert.equal((await uses('trips_places', (store) => store.searchTrips({ tenantId: 't1', placeText: 'town199', limit: 50 }))).trips.length, 15);
      assert.ok(ids(await uses('trips_ends', (store) => store.searchTrips({ tenantId: 't1', bbox: [4.199, 50.759, 4.201, 50.771], limit: 50 }))).includes('trip-0'));
      const passed = await uses('track_pieces_near', (store) => store.nearTracks({ tenantId: 't1', lat: 50.761, lon: 4.2, radiusM: 100, fromMs: 0, toMs: 3_600_000, limit: 10 }));
      assert.deepEqual(passed.map((hit) => hit.tripId), ['trip-0']);
    } finally {
      await explaining.close();
    }
  });
} else {
  test('PostgreSQL/PostGIS search store', (t) => t.skip('PostgreSQL or PostGIS is not installed'));
}

/** Trips of one tenant spread over a 20 × 20 km square around Brussels, each with a short track and one of 200 town names. */
async function fillCity(index: SearchIndex, trips: number): Promise<void> {
  const changes = [];
  const tracks = new Map<string, Array<{ tsMs: number; lat: number; lon: number }>>();
  for (let i = 0; i < trips; i++) {
    const lat = 50.76 + ((i * 7919) % 1000) / 5000;
    const lon = 4.2 + ((i * 104_729) % 1000) / 3500;
    const startMs = i * 600_000;
    const trip = tripDoc(`trip-${i}`, startMs, { start: { lat, lon }, end: { lat: lat + 0.01, lon }, startPlace: `Town${i % 200}`, endPlace: `Village${i % 150}` });
    changes.push(change(i + 1, 1, trip));
    tracks.set(trip.tripId, Array.from({ length: 60 }, (_, k) => ({ tsMs: startMs + k * 1000, lat: lat + k * 0.0002, lon })));
  }
  for (let i = 0; i < changes.length; i += 500) await index.apply(changes.slice(i, i + 500), tracks);
}

/**
 * A store on a pool whose queries are recorded (a spy on the real pool), so that the very SQL the store
 * sends can be explained: which indexes its plan reads.
 */
function explainingStore(url: string) {
  const pool = createPool(url, 2);
  const store = new PgSearchIndex(pool, searchTables('tripline_search'));
  const sent: Array<{ text: string; values: unknown[] }> = [];
  const query = pool.query.bind(pool) as (text: string, values?: unknown[]) => Promise<{ rows: Array<Record<string, unknown>> }>;
  (pool as unknown as { query: typeof query }).query = (text, values) => {
    sent.push({ text, values: values ?? [] });
    return query(text, values);
  };
  return {
    analyze: () => query('ANALYZE'),
    /** What `run` returns, and the indexes in the plans of the queries it sent. */
    async run<T>(run: (store: SearchIndex) => Promise<T>): Promise<{ result: T; indexes: string[] }> {
      sent.length = 0;
      const result = await run(store);
      const indexes: string[] = [];
      for (const { text, values } of sent) {
        const { rows } = await query(`EXPLAIN (FORMAT JSON) ${text}`, values);
        indexes.push(...indexNames(rows[0]!['QUERY PLAN']));
      }
      return { result, indexes };
    },
    close: () => pool.end(),
  };
}

/** The "Index Name" of every node of an EXPLAIN (FORMAT JSON) plan. */
function indexNames(node: unknown): string[] {
  if (Array.isArray(node)) return node.flatMap(indexNames);
  if (typeof node !== 'object' || node === null) return [];
  return Object.entries(node).flatMap(([key, value]) => (key === 'Index Name' ? [String(value)] : indexNames(value)));
}
