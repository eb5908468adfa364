import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DrivingEvent } from '../src/domain/events/drivingEvent.js';
import type { TripSummary } from '../src/domain/trip.js';
import type { SearchIndex, TripQuery } from '../src/ports/searchIndex.js';
import type { TripChange } from '../src/ports/writeStore.js';

const event = (type: DrivingEvent['type'], severity: DrivingEvent['severity']): DrivingEvent => ({
  type, severity, startMs: 0, endMs: 1000, lat: 50, lon: 4, peak: 4, peakUnit: 'mps2', source: 'accelerometer',
});

export function tripDoc(tripId: string, startMs: number, over: Partial<TripSummary> = {}): TripSummary {
  return {
    tripId, deviceId: 'v1', vehicleId: 'v1', tenantId: 't1', status: 'completed', startMs, endMs: startMs + 60_000,
    start: { lat: 50, lon: 4 }, end: { lat: 50.01, lon: 4.01 }, distanceM: 1000, gapDistanceM: 0, durationS: 60,
    maxSpeedMps: 20, meanSpeedMps: 16, pointCount: 61, bbox: [4, 50, 4.01, 50.01], endReason: 'gap',
    events: [], eventCounts: {}, exposure: { movingS: 60, nightS: 0, rushHourS: 0, speedingS: 0, roadM: {} },
    startPlace: null, endPlace: null, timeZone: 'Europe/Brussels', score: { score: 90, breakdown: [] }, enrichmentFailures: [],
    ...over,
  };
}

export const change = (seq: number, version: number, trip: TripSummary): TripChange => ({ seq, tripId: trip.tripId, version, writtenAtMs: 1000 + seq, trip });

/** The behaviour every search store must have (the PostgreSQL one of the cluster mode included). */
export function searchIndexContract(name: string, open: () => Promise<{ index: SearchIndex; close: () => Promise<void> }>): void {
  test(`${name}: upserts by id and version; replays and older versions change nothing; tenants never mix`, async () => {
    const { index, close } = await open();
    try {
      const changes = [
        change(1, 1, tripDoc('a', 1000, { status: 'active', score: null })),
        change(2, 2, tripDoc('a', 1000)),
        change(3, 1, tripDoc('b', 2000)),
        change(4, 1, tripDoc('c', 3000, { vehicleId: 'v2', tenantId: 't2' })),
      ];
      await index.apply(changes);
      await index.apply(changes);
      await index.apply([change(5, 1, tripDoc('a', 1000, { status: 'active', score: null }))]);
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
      await close();
    }
  });

  test(`${name}: filters, full text, boxes and sorts answer the insurer's questions`, async () => {
    const { index, close } = await open();
    try {
      await index.apply([
        change(1, 1, tripDoc('short-calm', 1000, { distanceM: 2_000, durationS: 300, score: { score: 98, breakdown: [] }, startPlace: 'Brussels', endPlace: 'Ixelles' })),
        change(2, 1, tripDoc('long-night', 2000, {
          distanceM: 80_000, durationS: 3600, score: { score: 55, breakdown: [] }, startPlace: 'Liège', endPlace: 'Namur',
          exposure: { movingS: 3600, nightS: 3000, rushHourS: 0, speedingS: 600, roadM: {} }, start: { lat: 50.63, lon: 5.57 }, end: { lat: 50.46, lon: 4.87 },
          events: [event('harsh_braking', 'high'), event('harsh_braking', 'low'), event('speeding', 'medium')], eventCounts: { harsh_braking: 2, speeding: 1 },
        })),
        change(3, 1, tripDoc('mid', 3000, { distanceM: 20_000, durationS: 1200, score: { score: 75, breakdown: [] }, startPlace: 'Brussels', endPlace: 'Leuven', events: [event('harsh_braking', 'low')] })),
        change(4, 1, tripDoc('driving', 4000, { status: 'active', score: null, distanceM: 500 })),
      ]);
      const ids = async (query: Omit<TripQuery, 'tenantId' | 'limit'>) => (await index.searchTrips({ tenantId: 't1', limit: 50, ...query })).trips.map((t) => t.tripId);
      assert.deepEqual(await ids({ distanceM: { min: 10_000 } }), ['mid', 'long-night']);
      assert.deepEqual(await ids({ durationS: { max: 600 } }), ['driving', 'short-calm']);
      assert.deepEqual(await ids({ score: { max: 80 } }), ['mid', 'long-night'], 'trips without a score yet never match a score filter');
      assert.deepEqual(await ids({ nightShare: { min: 0.5 } }), ['long-night']);
      assert.deepEqual(await ids({ speedingShare: { min: 0.1 } }), ['long-night']);
      assert.deepEqual(await ids({ events: { types: ['harsh_braking'] } }), ['mid', 'long-night']);
      assert.deepEqual(await ids({ events: { types: ['harsh_braking'], minEvents: 2 } }), ['long-night']);
      assert.deepEqual(await ids({ events: { severity: 'medium' } }), ['long-night']);
      assert.deepEqual(await ids({ placeText: 'brus' }), ['mid', 'short-calm'], 'prefix match');
      assert.deepEqual(await ids({ placeText: 'liege' }), ['long-night'], 'accents do not matter');
      assert.deepEqual(await ids({ placeText: 'brussels leu' }), ['mid'], 'every word must match');
      assert.deepEqual(await ids({ placeText: '"); DROP TABLE trips; --' }), [], 'user text never reaches the query language');
      assert.deepEqual(await ids({ bbox: [4.8, 50.4, 4.9, 50.5] }), ['long-night'], 'ended inside the box');
      assert.deepEqual(await ids({ sort: 'score', order: 'asc' }), ['driving', 'long-night', 'mid', 'short-calm']);
      assert.deepEqual(await ids({ sort: 'distanceM', order: 'desc', status: 'completed' }), ['long-night', 'mid', 'short-calm']);

      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await index.searchTrips({ tenantId: 't1', limit: 1, sort: 'score', order: 'desc', ...(cursor ? { cursor } : {}) });
        seen.push(...page.trips.map((t) => t.tripId));
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      assert.deepEqual(seen, ['short-calm', 'mid', 'long-night', 'driving'], 'keyset paging follows any sort');
    } finally {
      await close();
    }
  });
}
