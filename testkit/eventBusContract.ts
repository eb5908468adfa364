import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { partitionOf, type BusRecord, type EventBus, type PointsMessage, type SilenceMessage } from '../src/ports/eventBus.js';

export interface BusOpenOptions {
  partitionCount: number;
  retentionMs: number;
}

/** A new, empty place for a bus; every bus opened on the same place sees the same messages. */
export type BusPlace = (options: BusOpenOptions) => Promise<EventBus>;

export const pointsMessage = (deviceId: string, tsMs: number, receivedAtMs = 1): PointsMessage => ({
  kind: 'points', deviceId, vehicleId: `v-${deviceId}`, tenantId: 'acme', receivedAtMs,
  points: [{ tsMs, lat: 50 + tsMs / 1e6, lon: 4, speedMps: 12.5 }],
});

export const silenceMessage = (deviceId: string, lastMessageAtMs: number): SilenceMessage => ({ kind: 'silence', deviceId, lastMessageAtMs });

/** The first device id (`prefix-N`) that lands in `partition`. */
export function deviceIn(partition: number, partitionCount: number, prefix = 'car'): string {
  for (let i = 0; ; i++) if (partitionOf(`${prefix}-${i}`, partitionCount) === partition) return `${prefix}-${i}`;
}

export async function readAll(bus: EventBus, partition: number, afterOffset = 0): Promise<BusRecord[]> {
  return bus.read(partition, afterOffset, 100_000);
}

const PARTITIONS = 4;
const options = { partitionCount: PARTITIONS, retentionMs: 3_600_000 };

/** The behaviour every event bus must have (the embedded SQLite one and the cluster's NATS JetStream one). */
export function eventBusContract(name: string, newPlace: () => Promise<BusPlace>, skip: string | false = false): void {
  test(`${name}: keeps each partition in order, offsets grow across partitions, messages come back as appended`, { skip }, async () => {
    const bus = await (await newPlace())(options);
    try {
      assert.equal(await bus.head(), 0);
      const devices = Array.from({ length: 12 }, (_, i) => `car-${i}`);
      const appended: PointsMessage[] = [];
      for (let round = 0; round < 3; round++) {
        const batch = devices.map((deviceId) => pointsMessage(deviceId, 1000 + round));
        appended.push(...batch);
        await bus.append(batch);
      }
      const records = (await Promise.all(Array.from({ length: PARTITIONS }, (_, p) => readAll(bus, p)))).flat();
      assert.equal(records.length, appended.length);
      const offsets = new Set<number>();
      for (let p = 0; p < PARTITIONS; p++) {
        const own = records.filter((record) => record.partition === p);
        for (let i = 1; i < own.length; i++) assert.ok(own[i]!.offset > own[i - 1]!.offset, 'offsets grow within a partition');
        for (const record of own) assert.equal(partitionOf(record.message.deviceId, PARTITIONS), p);
      }
      for (const record of records) offsets.add(record.offset);
      assert.equal(offsets.size, records.length, 'offsets are unique across partitions');
      for (const deviceId of devices) {
        const mine = records.filter((record) => record.message.deviceId === deviceId);
        assert.deepEqual(mine.map((record) => record.message), appended.filter((message) => message.deviceId === deviceId));
      }
      assert.equal(await bus.head(), Math.max(...offsets));
    } finally {
      await bus.close();
    }
  });

  test(`${name}: reads after an offset, at most a limit, again from an earlier offset, and promptly when nothing waits`, { skip }, async () => {
    const bus = await (await newPlace())(options);
    try {
      const p = 1;
      const deviceId = deviceIn(p, PARTITIONS);
      for (let i = 0; i < 5; i++) await bus.append([pointsMessage(deviceId, i)]);
      const tsOf = (records: BusRecord[]) => records.map((record) => (record.message as PointsMessage).points[0]!.tsMs);
      const first = await bus.read(p, 0, 2);
      assert.deepEqual(tsOf(first), [0, 1]);
      const second = await bus.read(p, first[1]!.offset, 2);
      assert.deepEqual(tsOf(second), [2, 3]);
      const third = await bus.read(p, second[1]!.offset, 10);
      assert.deepEqual(tsOf(third), [4]);
      const startedMs = performance.now();
      assert.deepEqual(await bus.read(p, third[0]!.offset, 10), []);
      assert.deepEqual(await bus.read(0, 0, 10), []);
      const emptyReadsMs = performance.now() - startedMs;
      assert.ok(emptyReadsMs < 200, `two empty reads took ${emptyReadsMs.toFixed(1)} ms`);
      // A failed commit reads its batch again.
      assert.deepEqual(tsOf(await bus.read(p, 0, 10)), [0, 1, 2, 3, 4]);
      assert.deepEqual(tsOf(await bus.read(p, first[0]!.offset, 1)), [1]);
      assert.deepEqual(await bus.read(p, 0, 0), []);
      assert.deepEqual(await bus.read(PARTITIONS + 3, 0, 10), [], 'a partition that does not exist holds nothing');
      // Appended after the partition was read to its end: the next read finds it.
      await bus.append([pointsMessage(deviceId, 5)]);
      assert.deepEqual(tsOf(await bus.read(p, third[0]!.offset, 10)), [5]);
    } finally {
      await bus.close();
    }
  });

  test(`${name}: headers go with every message of an append and come back; none come back empty`, { skip }, async () => {
    const bus = await (await newPlace())(options);
    try {
      const deviceId = deviceIn(2, PARTITIONS);
      const headers = { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', tracestate: 'vendor=a' };
      await bus.append([pointsMessage(deviceId, 1), silenceMessage(deviceId, 1)], headers);
      await bus.append([pointsMessage(deviceId, 2)]);
      const records = await readAll(bus, 2);
      assert.deepEqual(records.map((record) => record.headers), [headers, headers, {}]);
      assert.deepEqual(records[1]!.message, silenceMessage(deviceId, 1));
    } finally {
      await bus.close();
    }
  });

  test(`${name}: tells when the oldest unconsumed message of the partitions asked about was appended`, { skip }, async () => {
    const bus = await (await newPlace())(options);
    const fromStart = new Map(Array.from({ length: PARTITIONS }, (_, partition) => [partition, 0]));
    try {
      assert.equal(await bus.oldestUnconsumedAtMs(fromStart), null);
      const beforeMs = Date.now();
      await bus.append([pointsMessage(deviceIn(0, PARTITIONS), 1)]);
      await sleep(20);
      await bus.append([pointsMessage(deviceIn(3, PARTITIONS), 1)]);
      const afterMs = Date.now();
      const [first] = await readAll(bus, 0);
      const [second] = await readAll(bus, 3);
      const oldest = await bus.oldestUnconsumedAtMs(fromStart);
      assert.ok(oldest !== null && oldest >= beforeMs - 50 && oldest <= afterMs, `oldest ${oldest} not in [${beforeMs}, ${afterMs}]`);
      const later = await bus.oldestUnconsumedAtMs(new Map([...fromStart, [0, first!.offset]]));
      assert.ok(later !== null && later > oldest, 'with partition 0 consumed, partition 3 is the oldest');
      assert.equal(await bus.oldestUnconsumedAtMs(new Map([[3, 0], [1, 0]])), later, 'only the partitions asked about');
      assert.equal(await bus.oldestUnconsumedAtMs(new Map([[1, 0], [2, 0]])), null, 'partitions without messages');
      assert.equal(await bus.oldestUnconsumedAtMs(new Map()), null);
      assert.equal(await bus.oldestUnconsumedAtMs(new Map([[0, first!.offset], [3, second!.offset]])), null);
    } finally {
      await bus.close();
    }
  });

  test(`${name}: keeps what it acknowledged across close and reopen, and offsets keep growing`, { skip }, async () => {
    const place = await newPlace();
    const bus = await place(options);
    const deviceId = deviceIn(1, PARTITIONS);
    await bus.append([pointsMessage(deviceId, 1), pointsMessage(deviceId, 2), pointsMessage(deviceId, 3)]);
    const head = await bus.head();
    await bus.close();
    const reopened = await place(options);
    try {
      assert.equal(await reopened.head(), head);
      assert.equal((await readAll(reopened, 1)).length, 3);
      await reopened.append([pointsMessage(deviceId, 4)]);
      assert.ok((await readAll(reopened, 1, head))[0]!.offset > head);
    } finally {
      await reopened.close();
    }
  });

  test(`${name}: wakes its append listeners`, { skip }, async () => {
    const bus = await (await newPlace())(options);
    try {
      let woken = 0;
      bus.onAppend(() => woken++);
      await bus.append([pointsMessage('car-1', 1)]);
      for (let waitedMs = 0; woken === 0 && waitedMs < 2000; waitedMs += 10) await sleep(10);
      assert.ok(woken > 0);
    } finally {
      await bus.close();
    }
  });

  test(`${name}: prune drops consumed messages older than the retention, and nothing else`, { skip }, async () => {
    const place = await newPlace();
    const keepAll = await place(options);
    const a = deviceIn(0, PARTITIONS);
    const b = deviceIn(1, PARTITIONS);
    await keepAll.append([pointsMessage(a, 1), pointsMessage(a, 2), pointsMessage(a, 3), pointsMessage(b, 1)]);
    const [, second] = await readAll(keepAll, 0);
    const [onlyB] = await readAll(keepAll, 1);
    await sleep(5);
    assert.equal(await keepAll.prune(new Map([[0, second!.offset], [1, onlyB!.offset]])), 0, 'nothing is older than an hour');
    await keepAll.close();
    const keepUnconsumed = await place({ ...options, retentionMs: 0 });
    try {
      // Partition 1's cursor is unknown to this caller: its message stays.
      assert.equal(await keepUnconsumed.prune(new Map([[0, second!.offset]])), 2);
      assert.deepEqual((await readAll(keepUnconsumed, 0)).map((record) => (record.message as PointsMessage).points[0]!.tsMs), [3]);
      assert.equal((await readAll(keepUnconsumed, 1)).length, 1);
      assert.equal(await keepUnconsumed.prune(new Map([[0, second!.offset]])), 0);
      assert.ok((await keepUnconsumed.head()) >= onlyB!.offset, 'pruning never lowers the head');
    } finally {
      await keepUnconsumed.close();
    }
  });
}
