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
    tripId, deviceId: 'v1', vehicleId: 'v1', tenantId: 't1', driverId: null, policyId: null, status: 'completed', startMs, endMs: startMs + 60_000,
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
      assert.deepEqual(await ids({ placeText: 'LIÈ' }), ['long-night'], 'nor case, in the search text either');
      assert.deepEqual(await ids({ placeText: 'brussels leu' }), ['mid'], 'every word must match');
      assert.deepEqual(await ids({ placeText: '"); DROP TABLE trips; --' }), [], 'user text never reaches the query language');
      assert.deepEqual(await ids({ bbox: [4.8, 50.4, 4.9, 50.5] }), ['long-night'], 'ended inside the box');
      // long-night ends at 50.46, 4.87; 0.001° of latitude is 111 m.
      assert.deepEqual(await ids({ endsNear: { lat: 50.461, lon: 4.87, radiusM: 150 } }), ['long-night']);
      assert.deepEqual(await ids({ endsNear: { lat: 50.461, lon: 4.87, radiusM: 100 } }), [], 'the radius is a circle, measured');
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

  test(`${name}: which cars passed near a point in a window, from their tracks; events by box; fleet figures`, async () => {
    const { index, close } = await open();
    try {
      // Two cars drive east along lat 50.85 through lon 4.35, one at 08:00, one at 09:00; a third drives 2 km north of it.
      const t8 = Date.UTC(2026, 10, 24, 8);
      const t9 = Date.UTC(2026, 10, 24, 9);
      const east = (t0: number, lat: number) => Array.from({ length: 121 }, (_, i) => ({ tsMs: t0 + i * 1000, lat, lon: 4.33 + i * 0.0003 }));
      const trips = [
        tripDoc('car-a.1', t8, { vehicleId: 'car-a', driverId: 'alice', distanceM: 2500, score: { score: 90, breakdown: [] }, events: [{ ...event('harsh_braking', 'high'), lat: 50.85, lon: 4.35, startMs: t8 + 5000 }] }),
        tripDoc('car-b.1', t9, { vehicleId: 'car-b', driverId: 'alice', policyId: 'POL-9', distanceM: 2500, score: { score: 60, breakdown: [] } }),
        tripDoc('car-c.1', t8, { vehicleId: 'car-c', distanceM: 5000, score: { score: 70, breakdown: [] }, events: [{ ...event('speeding', 'low'), lat: 50.868, lon: 4.35, startMs: t8 }] }),
      ];
      await index.apply(trips.map((trip, i) => change(i + 1, 1, trip)), new Map([
        ['car-a.1', east(t8, 50.85)], ['car-b.1', east(t9, 50.85)], ['car-c.1', east(t8, 50.868)],
      ]));
      // car-a passes lon 4.35 at t8 + 66.7 s.
      const near = await index.nearTracks({ tenantId: 't1', lat: 50.8501, lon: 4.35, radiusM: 100, fromMs: t8, toMs: t8 + 600_000, limit: 10 });
      assert.deepEqual(near.map((h) => h.vehicleId), ['car-a'], 'car-b passed an hour later; car-c 2 km away');
      assert.ok(near[0]!.distanceM < 15, `closest approach ${near[0]!.distanceM} m`);
      assert.ok(Math.abs(near[0]!.closestMs - (t8 + 66_667)) < 2000, 'the time of the closest approach, interpolated');
      const later = await index.nearTracks({ tenantId: 't1', lat: 50.85, lon: 4.35, radiusM: 100, fromMs: t8, toMs: t9 + 3_600_000, limit: 10 });
      assert.deepEqual(later.map((h) => h.vehicleId).sort(), ['car-a', 'car-b']);
      assert.deepEqual(await index.nearTracks({ tenantId: 't2', lat: 50.85, lon: 4.35, radiusM: 100, fromMs: t8, toMs: t9 + 3_600_000, limit: 10 }), [], 'tenants never mix');
      const afterPassing = await index.nearTracks({ tenantId: 't1', lat: 50.85, lon: 4.35, radiusM: 100, fromMs: t8 + 70_000, toMs: t8 + 600_000, limit: 10 });
      assert.ok(afterPassing[0] && afterPassing[0].distanceM > 60 && afterPassing[0].distanceM < 75, 'from 70 s on, car-a is already 70 m past the point');

      // A new version with another track replaces the old pieces: nothing of the old track is left.
      await index.apply([change(10, 2, trips[0]!)], new Map([['car-a.1', east(t8, 50.95)]]));
      assert.deepEqual((await index.nearTracks({ tenantId: 't1', lat: 50.8501, lon: 4.35, radiusM: 100, fromMs: t8, toMs: t8 + 600_000, limit: 10 })).map((h) => h.vehicleId), []);
      assert.deepEqual((await index.nearTracks({ tenantId: 't1', lat: 50.95, lon: 4.35, radiusM: 100, fromMs: t8, toMs: t8 + 600_000, limit: 10 })).map((h) => h.vehicleId), ['car-a']);

      const box = await index.searchEvents({ tenantId: 't1', bbox: [4.34, 50.84, 4.36, 50.86], limit: 10 });
      assert.deepEqual(box.events.map((e) => [e.vehicleId, e.event.type]), [['car-a', 'harsh_braking']]);
      const speeding = await index.searchEvents({ tenantId: 't1', types: ['speeding'], limit: 10 });
      assert.deepEqual(speeding.events.map((e) => e.tripId), ['car-c.1']);

      const vehicles = await index.groupStats({ tenantId: 't1' }, 'vehicle');
      assert.deepEqual(vehicles.map((v) => [v.id, v.trips, v.events]), [['car-a', 1, 1], ['car-b', 1, 0], ['car-c', 1, 1]]);
      assert.equal(vehicles[0]!.eventsPer100Km, 40);
      assert.deepEqual((await index.groupStats({ tenantId: 't1' }, 'driver')).map((d) => [d.id, d.trips, d.distanceM]), [['alice', 2, 5000]]);
      assert.deepEqual((await index.searchTrips({ tenantId: 't1', limit: 10, driverId: 'alice', sort: 'startMs', order: 'asc' })).trips.map((t) => t.tripId), ['car-a.1', 'car-b.1']);
      assert.deepEqual((await index.searchTrips({ tenantId: 't1', limit: 10, policyId: 'POL-9' })).trips.map((t) => t.tripId), ['car-b.1']);
      const fleet = await index.fleetStats({ tenantId: 't1' });
      assert.equal(fleet.trips, 3);
      assert.deepEqual(fleet.scoreHistogram.filter((b) => b.trips > 0).map((b) => [b.from, b.trips]), [[60, 1], [70, 1], [90, 1]]);
      assert.deepEqual(fleet.eventsByType, { harsh_braking: 1, speeding: 1 });
      assert.deepEqual(fleet.kmPerDay, [{ day: '2026-11-24', km: 10 }]);
    } finally {
      await close();
    }
  });

  test(`${name}: ties page by trip id in byte order; a radius in metres around the start too; event pages; reset`, async () => {
    const { index, close } = await open();
    try {
      // Equal distances: only the trip id orders them, byte-wise ('B' < '_x' < 'a' < 'a-1' < 'a.1'), whatever the database's locale.
      const tied = ['a.1', 'B', 'a', '_x', 'a-1'];
      await index.apply(tied.map((tripId, i) => change(i + 1, 1, tripDoc(tripId, 1000, { start: { lat: 50, lon: 4 }, end: { lat: 50.5, lon: 5 } }))));
      const pages = async (order: 'asc' | 'desc', cursor?: string): Promise<string[]> => {
        const page = await index.searchTrips({ tenantId: 't1', sort: 'distanceM', order, limit: 2, ...(cursor ? { cursor } : {}) });
        const ids = page.trips.map((t) => t.tripId);
        return page.nextCursor ? [...ids, ...(await pages(order, page.nextCursor))] : ids;
      };
      assert.deepEqual(await pages('asc'), ['B', '_x', 'a', 'a-1', 'a.1']);
      assert.deepEqual(await pages('desc'), ['a.1', 'a-1', 'a', '_x', 'B']);
      const byScore = await index.searchTrips({ tenantId: 't1', sort: 'score', order: 'desc', limit: 2 });
      const otherSort = await index.searchTrips({ tenantId: 't1', sort: 'distanceM', order: 'asc', limit: 2, cursor: byScore.nextCursor! });
      assert.deepEqual(otherSort.trips.map((t) => t.tripId), ['B', '_x'], "a cursor of another sort does not page this one");

      // Every trip starts at 50, 4; 0.0014° of longitude there is 100 m (71.6 km per degree), not 156 m.
      const near = async (radiusM: number) => (await index.searchTrips({ tenantId: 't1', endsNear: { lat: 50, lon: 4.0014, radiusM }, limit: 10 })).trips.length;
      assert.equal(await near(110), 5, 'the start counts as much as the end');
      assert.equal(await near(90), 0, 'east-west metres, not degrees');

      const events = Array.from({ length: 3 }, (_, i) => ({ ...event('harsh_braking', 'high'), peak: i }));
      await index.apply([change(6, 1, tripDoc('with-events', 2000, { events }))]);
      const peaks: number[] = [];
      let cursor: string | undefined;
      do {
        const page = await index.searchEvents({ tenantId: 't1', limit: 1, ...(cursor ? { cursor } : {}) });
        peaks.push(...page.events.map((e) => e.event.peak));
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      assert.deepEqual(peaks.sort(), [0, 1, 2], 'events at the same instant page one by one, none twice');

      await index.reset();
      assert.equal(await index.count(), 0);
      assert.deepEqual(await index.position(), { seq: 0, writtenAtMs: 0 });
      assert.deepEqual((await index.searchEvents({ tenantId: 't1', limit: 10 })).events, []);
      await index.apply([change(1, 1, tripDoc('again', 1000))], new Map([['again', [{ tsMs: 1000, lat: 50, lon: 4 }, { tsMs: 61_000, lat: 50.01, lon: 4.01 }]]]));
      assert.equal(await index.count(), 1, 'a rebuild starts from an empty store');
      assert.deepEqual((await index.nearTracks({ tenantId: 't1', lat: 50, lon: 4, radiusM: 10, fromMs: 0, toMs: 100_000, limit: 10 })).map((h) => h.tripId), ['again']);
    } finally {
      await close();
    }
  });

  test(`${name}: odd input gets an answer, never an error`, async () => {
    const { index, close } = await open();
    try {
      await index.apply([change(1, 1, tripDoc('a', 1000, { startPlace: 'Brussels' }))], new Map([['a', [{ tsMs: 1000, lat: 50, lon: 4 }]]]));
      const cursor = (value: unknown[]) => Buffer.from(JSON.stringify(value)).toString('base64url');
      assert.equal(await index.trip('t1', 'a\u0000'), null, 'a NUL byte (from a URL) matches nothing');
      assert.deepEqual((await index.searchTrips({ tenantId: 't1', vehicleId: 'v1\u0000', limit: 5 })).trips, []);
      assert.deepEqual((await index.searchTrips({ tenantId: 't1', placeText: 'b'.repeat(5000), limit: 5 })).trips, [], 'a very long word');
      assert.deepEqual((await index.searchTrips({ tenantId: 't1', placeText: ':* & | ! \\ ( ) \' "', limit: 5 })).trips.map((t) => t.tripId), ['a'], 'no word: no text filter');
      assert.deepEqual((await index.searchTrips({ tenantId: 't1', limit: 5, cursor: cursor(['startMs:desc', 1e300, 'x\u0000']) })).trips.map((t) => t.tripId), ['a'], 'a forged cursor');
      assert.deepEqual((await index.searchEvents({ tenantId: 't1', limit: 5, cursor: cursor(['event', 5, 'not a row']) })).events, []);
      assert.deepEqual(await index.nearTracks({ tenantId: 't1', lat: 50, lon: 4, radiusM: 10, fromMs: 2000, toMs: 0, limit: 5 }), [], 'an empty window');
      const always = await index.nearTracks({ tenantId: 't1', lat: 50, lon: 4, radiusM: 10, fromMs: -1e300, toMs: 1e300, limit: 5 });
      assert.deepEqual(always.map((h) => h.tripId), ['a'], 'a window beyond any date');
    } finally {
      await close();
    }
  });
}
