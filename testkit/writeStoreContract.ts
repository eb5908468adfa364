import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TRIP_TRACE_LINKS } from '../src/adapters/tripTraceLinks.js';
import type { Alert } from '../src/domain/alerts/alert.js';
import type { TelemetryPoint } from '../src/domain/point.js';
import type { TripSummary } from '../src/domain/trip.js';
import { initialState, type DeviceTripState, type TripAccumulator } from '../src/domain/tripSegmenter.js';
import { partitionOf } from '../src/ports/eventBus.js';
import { CursorConflictError, type AlertFeed, type BatchEffects, type ChangeFeed, type PointChunk, type WriteStore } from '../src/ports/writeStore.js';
import { tripDoc } from './searchIndexContract.js';

export type ContractStore = WriteStore & ChangeFeed & AlertFeed;

export const alertOf = (n: number, over: Partial<Alert> = {}): Alert => ({
  alertId: `car:crash:${n}`, type: 'crash', tenantId: 'acme', deviceId: 'car', vehicleId: 'van', driverId: null, tripId: null,
  startMs: n, raisedAtPointMs: n, receivedAtMs: n, lat: 50, lon: 4, severity: 'high', peak: 50, peakUnit: 'mps2', details: {},
  ...over,
});

/** A batch of partition `partition` that consumed up to `offset` and changed nothing else unless told. */
export const batchOf = (partition: number, offset: number, over: Partial<BatchEffects> = {}): BatchEffects => ({
  partition, offset, chunks: [], trips: [], states: [], alerts: [], ...over,
});

/** A point with every optional field set, so a round trip shows none is lost. */
const fullPoint = (tsMs: number): TelemetryPoint => ({
  tsMs, lat: 50 + tsMs / 1e7, lon: 4.25, speedMps: 13.5, headingDeg: 271.5, accuracyM: 4, accelMps2: { x: 0.5, y: -0.25, z: 9.81 },
  gyroRadps: { x: 0, y: 0.01, z: -0.125 }, ignition: true, seq: tsMs / 100, speedLimitMps: 13.89, phoneUse: false,
});

/** `count` points of a device, every `stepMs` from `firstMs`: one chunk. */
export function chunkOf(deviceId: string, firstMs: number, count: number, stepMs = 100): PointChunk {
  const points = Array.from({ length: count }, (_, i) => (i % 2 === 0 ? fullPoint(firstMs + i * stepMs) : { tsMs: firstMs + i * stepMs, lat: 50, lon: 4 }));
  return { deviceId, firstMs, lastMs: firstMs + (count - 1) * stepMs, points };
}

function openTrip(deviceId: string, startMs: number): TripAccumulator {
  return {
    tripId: `${deviceId}.${startMs}`, startMs, start: { lat: 50, lon: 4 }, lastMs: startMs + 1000, last: { lat: 50.001, lon: 4, speedMps: 12 },
    distanceM: 111, gapDistanceM: 0, maxSpeedMps: 12, pointCount: 2, bbox: [4, 50, 4, 50.001], hasMoved: true, lastMovingMs: startMs + 1000,
    events: [], eventCounts: {}, exposure: { movingS: 1, nightS: 0, rushHourS: 0, speedingS: 0, roadM: {} }, timeZone: null,
  };
}

export function stateOf(deviceId: string, open: boolean, lastPointMs = 1000): DeviceTripState {
  const trip = open ? openTrip(deviceId, lastPointMs - 1000) : null;
  return { ...initialState(deviceId, `veh-${deviceId}`, 't1'), lastPointMs, lastMessageAtMs: lastPointMs + 5, trip, atLastMove: trip };
}

/** A W3C traceparent whose trace id ends in `n`. */
export const traceparentOf = (n: number): string => `00-${n.toString(16).padStart(32, '0')}-${'1'.padStart(16, '0')}-01`;
const traceIdOf = (n: number): string => n.toString(16).padStart(32, '0');

/** Every active state: with one partition, every device is in partition 0. */
const allActiveStates = (store: WriteStore): Promise<DeviceTripState[]> => store.activeStates([0], 1);

/** States come back as they were checkpointed: as JSON. */
const asStored = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

async function nothingWritten(store: ContractStore): Promise<void> {
  assert.deepEqual(await store.cursors(), new Map());
  assert.deepEqual(await store.counts(), { trips: 0, chunks: 0, points: 0 });
  assert.deepEqual(await store.readAfter(0, 10), []);
  assert.deepEqual(await store.alertsAfter(0, 10), []);
  assert.deepEqual(await allActiveStates(store), []);
  assert.deepEqual((await store.head()).seq, 0);
}

/**
 * For an adapter's upgrade test: a store whose `devices` states were written before the
 * device_hash column existed still finds each in its partition, and hashes the one it commits next.
 * Returns that device's id.
 */
export async function findsUnhashedStates(store: WriteStore, devices: readonly string[]): Promise<string> {
  for (const partition of [0, 1, 2]) {
    const read = (await store.activeStates([partition], 3)).map((state) => state.deviceId).sort();
    assert.deepEqual(read, devices.filter((id) => partitionOf(id, 3) === partition), `partition ${partition}`);
  }
  await store.commit([batchOf(0, 2, { states: [stateOf(devices[0]!, true)] })]);
  return devices[0]!;
}

/**
 * The behaviour every write store must have (the embedded SQLite one and the cluster's
 * PostgreSQL one). Each test opens a fresh, empty store.
 */
export function writeStoreContract(name: string, open: () => Promise<{ store: ContractStore; close(): Promise<void> }>): void {
  const withStore = (title: string, body: (store: ContractStore) => Promise<void>) =>
    test(`${name}: ${title}`, async () => {
      const { store, close } = await open();
      try {
        await body(store);
      } finally {
        await close();
      }
    });

  withStore('a commit writes chunks, trips, states, alerts and the cursor; reads give them back', async (store) => {
    const trip = tripDoc('car-1.1000', 1000, { deviceId: 'car-1' });
    const state = stateOf('car-1', true, 2000);
    await store.commit([batchOf(0, 3, { chunks: [chunkOf('car-1', 1000, 5)], trips: [trip], states: [state], alerts: [alertOf(1)] })]);
    assert.deepEqual(await store.cursors(), new Map([[0, 3]]));
    assert.deepEqual(await store.trip('t1', 'car-1.1000'), trip);
    assert.equal(await store.trip('t2', 'car-1.1000'), null, "another tenant's trip is not found");
    assert.equal(await store.trip('t1', 'car-9.1'), null);
    assert.deepEqual(await store.points('car-1', 0, 10_000), chunkOf('car-1', 1000, 5).points);
    assert.deepEqual(await store.loadStates(['car-1', 'car-9']), new Map([['car-1', asStored(state)]]));
    assert.deepEqual(await store.counts(), { trips: 1, chunks: 1, points: 5 });
    assert.equal(await store.tripCount(), 1);
    assert.deepEqual((await store.alertsAfter(0, 10)).map((row) => row.alert), [alertOf(1)]);
    const [change] = await store.readAfter(0, 10);
    assert.deepEqual({ ...change, seq: 0, writtenAtMs: 0 }, { seq: 0, tripId: 'car-1.1000', version: 1, writtenAtMs: 0, trip, traceparents: [] });
  });

  withStore('cursors: the last committed offset of each partition; several partitions commit together', async (store) => {
    assert.deepEqual(await store.cursors(), new Map());
    await store.commit([batchOf(0, 5), batchOf(2, 7)]);
    await store.commit([batchOf(2, 9)]);
    await store.commit([batchOf(0, 6), batchOf(1, 1), batchOf(0, 8)]);
    assert.deepEqual(await store.cursors(), new Map([[0, 8], [1, 1], [2, 9]]));
  });

  withStore('device states: the latest checkpoint wins; activeStates lists open trips and states holding points', async (store) => {
    const holding = stateOf('car-4', false);
    holding.cleaning = { ...holding.cleaning, held: [{ tsMs: 1000, lat: 48.1, lon: 11.5 }], heldAtMs: [1005] };
    await store.commit([batchOf(0, 1, { states: [stateOf('car-1', true), stateOf('car-2', false), holding] })]);
    assert.deepEqual((await allActiveStates(store)).map((s) => s.deviceId).sort(), ['car-1', 'car-4']);
    const later = stateOf('car-1', false, 9000);
    await store.commit([batchOf(0, 2, { states: [later, stateOf('car-3', true), stateOf('car-4', false)] })]);
    assert.deepEqual(await allActiveStates(store), [asStored(stateOf('car-3', true))]);
    const loaded = await store.loadStates(['car-1', 'car-2', 'car-3', 'car-4', 'car-5']);
    assert.deepEqual([...loaded.keys()].sort(), ['car-1', 'car-2', 'car-3', 'car-4']);
    assert.deepEqual(loaded.get('car-1'), asStored(later));
    assert.deepEqual(await store.loadStates([]), new Map());
  });

  withStore('activeStates reads the devices of the partitions asked for, whatever the partition count', async (store) => {
    const devices = [...Array.from({ length: 16 }, (_, i) => `car-${i}`), 'odd-é🚗'];
    await store.commit([batchOf(0, 1, { states: [...devices.map((id) => stateOf(id, true)), stateOf('parked', false)] })]);
    for (const partitionCount of [1, 4, 7]) {
      const every = Array.from({ length: partitionCount }, (_, p) => p);
      for (const partitions of [every, [0], [1, 3], []]) {
        const expected = devices.filter((id) => partitions.includes(partitionOf(id, partitionCount))).sort();
        const read = (await store.activeStates(partitions, partitionCount)).map((state) => state.deviceId).sort();
        assert.deepEqual(read, expected, `partitions ${partitions.join(',')} of ${partitionCount}`);
      }
    }
    assert.ok(devices.some((id) => partitionOf(id, 4) === 0) && devices.some((id) => partitionOf(id, 4) !== 0), 'the devices spread over partitions');
  });

  withStore('trip versions count up by one per change; the change feed has one row per change, in commit order', async (store) => {
    const a = (distanceM: number, over: Partial<TripSummary> = {}) => tripDoc('a', 1000, { distanceM, ...over });
    const b = (distanceM: number) => tripDoc('b', 2000, { distanceM });
    const c = tripDoc('c', 3000, { tenantId: 't2' });
    const before = Date.now();
    await store.commit([batchOf(0, 1, { trips: [a(1, { status: 'active' }), b(1)] })]);
    // A trip that starts and ends in one batch changes twice in it.
    await store.commit([batchOf(0, 2, { trips: [a(2, { status: 'active' }), a(3)] })]);
    await store.commit([batchOf(0, 3, { trips: [b(2)] }), batchOf(1, 1, { trips: [c] })]);
    const after = Date.now();
    const feed = await store.readAfter(0, 100);
    assert.deepEqual(feed.map((row) => [row.tripId, row.version, row.trip.distanceM]), [['a', 1, 1], ['b', 1, 1], ['a', 2, 2], ['a', 3, 3], ['b', 2, 2], ['c', 1, 1000]]);
    assert.ok(feed.every((row, i) => i === 0 || row.seq > feed[i - 1]!.seq), 'seqs ascend');
    assert.ok(feed.every((row) => row.writtenAtMs >= before && row.writtenAtMs <= after));
    assert.deepEqual(await store.head(), { seq: feed[5]!.seq, writtenAtMs: feed[5]!.writtenAtMs });
    assert.deepEqual(await store.readAfter(feed[1]!.seq, 2), feed.slice(2, 4), 'paging by seq');
    assert.deepEqual(await store.readAfter(feed[5]!.seq, 10), []);
    assert.deepEqual(await store.trip('t1', 'a'), a(3));
    assert.deepEqual(await store.trip('t2', 'c'), c);
    assert.deepEqual((await store.tripsAfter('', 10)).map((row) => [row.trip.tripId, row.version]), [['a', 3], ['b', 2], ['c', 1]]);
    assert.deepEqual(await store.head(), { seq: feed[5]!.seq, writtenAtMs: feed[5]!.writtenAtMs }, 'reads move nothing');
  });

  withStore('an empty store has an empty feed at seq 0', async (store) => {
    await nothingWritten(store);
    assert.deepEqual(await store.head(), { seq: 0, writtenAtMs: 0 });
    assert.equal(await store.alertsHead(), 0);
    assert.deepEqual(await store.tripsAfter('', 10), []);
  });

  withStore('trace links: a trip keeps the trace ids of its first and latest messages; its feed rows carry their traceparents', async (store) => {
    // Messages that only add points to an open trip link it too.
    await store.commit([batchOf(0, 1, { tripTraces: { 'x.1': [traceparentOf(1), traceparentOf(2)] } })]);
    await store.commit([batchOf(0, 2, { trips: [tripDoc('x.1', 1)], tripTraces: { 'x.1': [traceparentOf(3), traceparentOf(2)] } })]);
    const [first] = await store.readAfter(0, 10);
    assert.deepEqual(first!.trip.traceIds, [traceIdOf(1), traceIdOf(2), traceIdOf(3)]);
    assert.deepEqual(first!.traceparents, [traceparentOf(3), traceparentOf(2)]);
    assert.deepEqual((await store.trip('t1', 'x.1'))?.traceIds, [traceIdOf(1), traceIdOf(2), traceIdOf(3)]);

    const many = Array.from({ length: 25 }, (_, i) => traceparentOf(100 + i));
    await store.commit([batchOf(0, 3, { trips: [tripDoc('x.1', 1)], tripTraces: { 'x.1': many } })]);
    await store.commit([batchOf(0, 4, { trips: [tripDoc('x.1', 1, { status: 'active' })] })]);
    const [, second, third] = await store.readAfter(0, 10);
    // The first five stay; the rest is a window over the latest.
    assert.deepEqual(second!.trip.traceIds, [1, 2, 3, 100, 101, 120, 121, 122, 123, 124].map(traceIdOf));
    assert.equal(second!.trip.traceIds?.length, TRIP_TRACE_LINKS.first + TRIP_TRACE_LINKS.last);
    assert.deepEqual(second!.traceparents, many.slice(-20), 'the latest 20 go on to sync');
    assert.deepEqual(third!.traceparents, [], 'a change without traced messages');
    assert.deepEqual(third!.trip.traceIds, second!.trip.traceIds, 'the links stay on the document');

    await store.commit([batchOf(0, 5, { trips: [tripDoc('y.1', 1)] })]);
    assert.deepEqual(await store.trip('t1', 'y.1'), tripDoc('y.1', 1), 'a trip without traces has no traceIds');
  });

  withStore('points: range reads across chunks and devices, in time order, every field kept', async (store) => {
    await store.commit([batchOf(0, 1, { chunks: [chunkOf('car-1', 1000, 10), chunkOf('car-2', 1000, 10)] })]);
    await store.commit([batchOf(0, 2, { chunks: [chunkOf('car-1', 2000, 10)] }), batchOf(1, 1, { chunks: [chunkOf('car-3', 5000, 3)] })]);
    await store.commit([batchOf(0, 3, { chunks: [chunkOf('car-1', 3000, 10)] })]);
    const all = [chunkOf('car-1', 1000, 10), chunkOf('car-1', 2000, 10), chunkOf('car-1', 3000, 10)].flatMap((c) => c.points);
    assert.deepEqual(await store.points('car-1', 1500, 3200), all.filter((p) => p.tsMs >= 1500 && p.tsMs <= 3200));
    assert.deepEqual(await store.points('car-1', 0, 99_999), all);
    assert.deepEqual(await store.points('car-1', 1950, 1999), [], 'between two chunks');
    assert.deepEqual(await store.points('car-1', 3900, 3900), [all.at(-1)], 'bounds are inclusive');
    assert.deepEqual(await store.points('car-9', 0, 99_999), []);
    assert.deepEqual(await store.counts(), { trips: 0, chunks: 5, points: 43 });
  });

  withStore('tripsAfter pages over every trip in id order with its version', async (store) => {
    const ids = ['t05', 't01', 't07', 't03', 't02', 't06', 't04'];
    await store.commit([batchOf(0, 1, { trips: ids.slice(0, 4).map((id) => tripDoc(id, 1)) })]);
    await store.commit([batchOf(0, 2, { trips: [...ids.slice(4).map((id) => tripDoc(id, 1)), tripDoc('t03', 1, { tenantId: 't2' })] })]);
    const pages: string[][] = [];
    for (let after = ''; ;) {
      const page = await store.tripsAfter(after, 3);
      if (page.length === 0) break;
      pages.push(page.map((row) => `${row.trip.tripId}@${row.version}`));
      after = page.at(-1)!.trip.tripId;
    }
    assert.deepEqual(pages, [['t01@1', 't02@1', 't03@2'], ['t04@1', 't05@1', 't06@1'], ['t07@1']]);
    assert.equal(await store.tripCount(), 7);
  });

  withStore('odd strings (NUL, lone surrogates, quotes) round-trip in documents, states and alerts', async (store) => {
    const odd = 'a\u0000b\ud800c"\\\'\n\u2028é🚗';
    const trip = tripDoc('odd.1', 1, { startPlace: odd, enrichmentFailures: [odd] });
    const state = { ...stateOf('odd', false), driverId: odd };
    const alert = alertOf(1, { details: { [odd]: 1 } });
    await store.commit([batchOf(0, 1, { trips: [trip], states: [state], alerts: [alert] })]);
    assert.deepEqual(await store.trip('t1', 'odd.1'), trip);
    assert.deepEqual((await store.readAfter(0, 1))[0]?.trip, trip);
    assert.deepEqual((await store.loadStates(['odd'])).get('odd'), asStored(state));
    assert.deepEqual((await store.alertsAfter(0, 1))[0]?.alert, alert);
  });

  withStore('the alert outbox: one row per alert id across replays, in commit order; pruning keeps the head and undispatched alerts', async (store) => {
    await store.commit([batchOf(0, 1, { alerts: [alertOf(1), alertOf(2)] })]);
    await store.commit([batchOf(0, 2, { alerts: [alertOf(2), alertOf(3), alertOf(3)] })]);
    assert.deepEqual((await store.alertsAfter(0, 10)).map((row) => row.alert.alertId), ['car:crash:1', 'car:crash:2', 'car:crash:3']);
    const [one, two, three] = await Promise.all([1, 2, 3].map((n) => store.alertSeq(`car:crash:${n}`)));
    assert.ok(one! < two! && two! < three!, 'seqs in commit order');
    assert.equal(await store.alertSeq('car:crash:9'), null);
    assert.deepEqual((await store.alertsAfter(one!, 1)).map((row) => row.alert.alertId), ['car:crash:2'], 'paging by seq');
    assert.equal(await store.alertsHead(), three);
    assert.equal(await store.pruneAlerts(two!, Date.now() + 1), 2, 'dispatched ones go');
    assert.deepEqual((await store.alertsAfter(0, 10)).map((row) => row.alert.alertId), ['car:crash:3']);
    assert.equal(await store.pruneAlerts(three!, Date.now() - 60_000), 0, 'recent ones stay');
    assert.equal(await store.pruneAlerts(three!, Date.now() + 1), 1);
    assert.equal(await store.alertsHead(), three, 'the head survives pruning everything');
    await store.commit([batchOf(0, 3, { alerts: [alertOf(4)] })]);
    assert.ok((await store.alertSeq('car:crash:4'))! > three!, 'seqs are never reused');
    assert.equal(await store.alertsHead(), await store.alertSeq('car:crash:4'));
  });

  withStore('fencing: a batch commits only from the stored cursor (absent counts as 0), also when a partition has two batches in one commit', async (store) => {
    await store.commit([batchOf(0, 4, { fromOffset: 0 })]);
    await store.commit([batchOf(0, 6, { fromOffset: 4 }), batchOf(0, 9, { fromOffset: 6 }), batchOf(1, 2, { fromOffset: 0 })]);
    assert.deepEqual(await store.cursors(), new Map([[0, 9], [1, 2]]));
    await assert.rejects(store.commit([batchOf(0, 12, { fromOffset: 9 }), batchOf(0, 14, { fromOffset: 9 })]), CursorConflictError);
    assert.deepEqual(await store.cursors(), new Map([[0, 9], [1, 2]]));
  });

  withStore('fencing: a stale cursor throws CursorConflictError and writes nothing, even where other batches of the commit were fine', async (store) => {
    const everything = (partition: number, offset: number, fromOffset: number, n: number) => batchOf(partition, offset, {
      fromOffset, chunks: [chunkOf(`car-${n}`, 1000, 3)], trips: [tripDoc(`car-${n}.1000`, 1000)], states: [stateOf(`car-${n}`, true)], alerts: [alertOf(n)],
      tripTraces: { [`car-${n}.1000`]: [traceparentOf(n)] },
    });
    const error = await store.commit([everything(0, 2, 0, 1), everything(1, 9, 7, 2)]).then(() => null, (e: unknown) => e);
    assert.ok(error instanceof CursorConflictError, String(error));
    assert.deepEqual([error.partition, error.expected, error.actual], [1, 7, 0]);
    await nothingWritten(store);

    await store.commit([everything(0, 2, 0, 1)]);
    const stale = await store.commit([everything(0, 5, 1, 3)]).then(() => null, (e: unknown) => e);
    assert.ok(stale instanceof CursorConflictError);
    assert.deepEqual([stale.partition, stale.expected, stale.actual], [0, 1, 2]);
    assert.deepEqual(await store.counts(), { trips: 1, chunks: 1, points: 3 });
    assert.equal((await store.alertsAfter(0, 10)).length, 1);
    assert.equal((await store.readAfter(0, 10)).length, 1);
    assert.deepEqual([...(await store.loadStates(['car-1', 'car-3'])).keys()], ['car-1']);
  });

  withStore('fencing: a batch replayed after it committed is refused and changes nothing', async (store) => {
    const batch = batchOf(3, 10, {
      fromOffset: 0, chunks: [chunkOf('car-1', 1000, 4)], trips: [tripDoc('car-1.1000', 1000)], states: [stateOf('car-1', true)], alerts: [alertOf(1)],
    });
    await store.commit([batch]);
    const head = await store.head();
    await assert.rejects(store.commit([batch]), (error: unknown) => error instanceof CursorConflictError && error.actual === 10 && error.expected === 0);
    assert.deepEqual(await store.head(), head);
    assert.deepEqual((await store.tripsAfter('', 10)).map((row) => row.version), [1], 'no second version');
    assert.deepEqual(await store.counts(), { trips: 1, chunks: 1, points: 4 });
    assert.deepEqual(await store.cursors(), new Map([[3, 10]]));
  });

  withStore('fencing: two commits racing from one cursor: exactly one wins', async (store) => {
    await store.commit([batchOf(0, 5, { fromOffset: 0 })]);
    const racer = (offset: number, tripId: string) => store.commit([batchOf(0, offset, { fromOffset: 5, trips: [tripDoc(tripId, 1)] })]);
    const outcomes = await Promise.allSettled([racer(8, 'first'), racer(9, 'second')]);
    const won = outcomes.findIndex((o) => o.status === 'fulfilled');
    assert.equal(outcomes.filter((o) => o.status === 'fulfilled').length, 1, JSON.stringify(outcomes));
    const lost = outcomes[1 - won] as PromiseRejectedResult;
    assert.ok(lost.reason instanceof CursorConflictError, String(lost.reason));
    assert.deepEqual(await store.cursors(), new Map([[0, won === 0 ? 8 : 9]]));
    assert.deepEqual((await store.tripsAfter('', 10)).map((row) => row.trip.tripId), [won === 0 ? 'first' : 'second']);
  });
}
