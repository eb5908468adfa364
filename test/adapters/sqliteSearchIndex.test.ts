import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { SqliteSearchIndex } from '../../src/adapters/embedded/sqliteSearchIndex.js';
import type { TripSummary } from '../../src/domain/trip.js';
import type { TripChange } from '../../src/ports/writeStore.js';

const trip = (tripId: string, startMs: number, status: TripSummary['status'], vehicleId = 'v1', tenantId = 't1'): TripSummary => ({
  tripId, deviceId: vehicleId, vehicleId, tenantId, status, startMs, endMs: startMs + 60_000,
  start: { lat: 50, lon: 4 }, end: { lat: 50.01, lon: 4.01 }, distanceM: 1000, gapDistanceM: 0, durationS: 60,
  maxSpeedMps: 20, meanSpeedMps: 16, pointCount: 61, bbox: [4, 50, 4.01, 50.01], endReason: status === 'completed' ? 'gap' : null,
  events: [], eventCounts: {}, exposure: { movingS: 60, nightS: 0, rushHourS: 0, speedingS: 0, roadM: {} },
  startPlace: 'Brussels', endPlace: 'Ixelles', timeZone: 'Europe/Brussels', score: null, enrichmentFailures: [],
});
const change = (seq: number, version: number, doc: TripSummary): TripChange => ({ seq, tripId: doc.tripId, version, writtenAtMs: 1000 + seq, trip: doc });

test('upserts by id and version: replays and older versions change nothing; tenants never mix', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tripline-search-'));
  const index = new SqliteSearchIndex(join(dir, 'search.db'), 'NORMAL');
  try {
    const changes = [
      change(1, 1, trip('a', 1000, 'active')),
      change(2, 2, trip('a', 1000, 'completed')),
      change(3, 1, trip('b', 2000, 'completed')),
      change(4, 1, trip('c', 3000, 'completed', 'v2', 't2')),
    ];
    await index.apply(changes);
    await index.apply(changes); // a replay
    await index.apply([change(5, 1, trip('a', 1000, 'active'))]); // an older version arriving late
    assert.equal(await index.count(), 3);
    assert.equal((await index.trip('t1', 'a'))?.status, 'completed');
    assert.equal(await index.trip('t1', 'c'), null, "another tenant's trip is invisible");
    assert.deepEqual(await index.position(), { seq: 5, writtenAtMs: 1005 });

    const page1 = await index.searchTrips({ tenantId: 't1', limit: 1 });
    assert.deepEqual(page1.trips.map((t) => t.tripId), ['b']);
    const page2 = await index.searchTrips({ tenantId: 't1', limit: 1, cursor: page1.nextCursor! });
    assert.deepEqual(page2.trips.map((t) => t.tripId), ['a']);
    assert.equal(page2.nextCursor, null);
    assert.deepEqual((await index.searchTrips({ tenantId: 't1', limit: 10, fromMs: 61_500 })).trips.map((t) => t.tripId), ['b']);
  } finally {
    await index.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
