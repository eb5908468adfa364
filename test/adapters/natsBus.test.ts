import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { openNatsBus, type NatsBus, type NatsBusOptions } from '../../src/adapters/nats/natsBus.js';
import type { PointsMessage } from '../../src/ports/eventBus.js';
import { deviceIn, eventBusContract, pointsMessage, readAll, silenceMessage } from '../../testkit/eventBusContract.js';
import { natsSkipReason, startTestNats, type TestNats } from '../../testkit/natsService.js';

const skip = natsSkipReason();
let nats: TestNats;
let streams = 0;

before(async () => {
  if (!skip) nats = await startTestNats();
});
after(async () => {
  if (!skip) await nats.close();
});

const base = (): { url: string; duplicateWindowMs: number } => ({ url: nats.url, duplicateWindowMs: 120_000 });

eventBusContract('NatsBus', async () => {
  const stream = `BUS${++streams}`;
  return (options) => openNatsBus({ ...base(), ...options, stream });
}, skip);

async function freshBus(extra: Partial<NatsBusOptions> = {}): Promise<NatsBus> {
  return openNatsBus({ ...base(), partitionCount: 4, retentionMs: 3_600_000, stream: `BUS${++streams}`, ...extra });
}

test('NatsBus: a message appended again (a redelivery after an ingest crash) is stored once', { skip }, async () => {
  const bus = await freshBus();
  try {
    const deviceId = deviceIn(0, 4);
    await bus.append([pointsMessage(deviceId, 1, 1000), silenceMessage(deviceId, 1000)]);
    // Ingest stamps a redelivered message anew: only the content identifies it.
    await bus.append([pointsMessage(deviceId, 1, 2000), silenceMessage(deviceId, 1000)]);
    await bus.append([pointsMessage(deviceId, 2), pointsMessage(deviceId, 2)]);
    // Another device with the same points, and a later silence, are other messages.
    await bus.append([pointsMessage(deviceIn(0, 4, 'van'), 1), silenceMessage(deviceId, 2000)]);
    const records = await readAll(bus, 0);
    assert.equal(records.length, 5);
    assert.equal(await bus.head(), 5);
    assert.equal((records[0]!.message as PointsMessage).receivedAtMs, 1000, 'the first append is the one kept');
  } finally {
    await bus.close();
  }
});

test('NatsBus: backlog (ingest\'s back-pressure) counts from the earliest message past its cursor over every partition, also ones without a cursor', { skip }, async () => {
  const bus = await freshBus();
  try {
    assert.equal(await bus.backlog(new Map()), 0);
    await bus.append([pointsMessage(deviceIn(1, 4), 1)]);
    await bus.append([pointsMessage(deviceIn(2, 4), 1)]);
    await bus.append([pointsMessage(deviceIn(1, 4), 2)]);
    assert.equal(await bus.backlog(new Map()), 3, 'partitions never committed count from the start');
    assert.equal(await bus.backlog(new Map([[1, 1]])), 2, 'from partition 2\'s message at offset 2 to the head');
    assert.equal(await bus.backlog(new Map([[1, 3], [2, 2]])), 0);
  } finally {
    await bus.close();
  }
});

test('NatsBus: opening again updates the de-duplication window, and refuses another partition count', { skip }, async () => {
  const bus = await freshBus();
  const stream = `BUS${streams}`;
  await bus.close();
  const reopened = await openNatsBus({ ...base(), duplicateWindowMs: 30_000, partitionCount: 4, retentionMs: 0, stream });
  await reopened.close();
  const nc = await connect({ servers: nats.url });
  try {
    const { config } = await (await jetstreamManager(nc)).streams.info(stream);
    assert.equal(config.duplicate_window, 30_000 * 1_000_000);
    assert.equal(config.storage, 'file');
    assert.equal(config.max_age, 0);
  } finally {
    await nc.close();
  }
  await assert.rejects(openNatsBus({ ...base(), partitionCount: 8, retentionMs: 0, stream }), /partition counts must match/);
});

test('NatsBus: an append in one process wakes the listeners of another, once per append', { skip }, async () => {
  const reader = await freshBus();
  const writer = await openNatsBus({ ...base(), partitionCount: 4, retentionMs: 0, stream: `BUS${streams}` });
  try {
    let woken = 0;
    reader.onAppend(() => woken++);
    await sleep(50); // the subscription reaches the server
    await writer.append(Array.from({ length: 20 }, (_, i) => pointsMessage(`car-${i}`, i)));
    for (let waitedMs = 0; woken === 0 && waitedMs < 2000; waitedMs += 10) await sleep(10);
    await sleep(100);
    assert.equal(woken, 1, 'one wake-up for an append of 20 messages');
  } finally {
    await writer.close();
    await reader.close();
  }
});

test('NatsBus: a record that is not a bus message is skipped and reported, and reading goes on past it', { skip }, async () => {
  const invalid: number[] = [];
  const bus = await freshBus({ onInvalidRecord: (_partition, offset) => invalid.push(offset) });
  const nc = await connect({ servers: nats.url });
  try {
    const stream = `BUS${streams}`.toLowerCase();
    const deviceId = deviceIn(2, 4);
    await bus.append([pointsMessage(deviceId, 1)]);
    const js = jetstream(nc);
    await js.publish(`${stream}.bus.2`, 'not json');
    await js.publish(`${stream}.bus.2`, JSON.stringify({ kind: 'points', deviceId }));
    const [first] = await readAll(bus, 2);
    assert.equal(invalid.length, 2);
    assert.deepEqual(await bus.read(2, first!.offset, 10), [], 'only garbage follows');
    await bus.append([pointsMessage(deviceId, 2)]);
    const next = await bus.read(2, first!.offset, 10);
    assert.deepEqual(next.map((record) => (record.message as PointsMessage).points[0]!.tsMs), [2]);
    assert.ok(next[0]!.offset > invalid[1]!);
  } finally {
    await nc.close();
    await bus.close();
  }
});

test('NatsBus: what was acknowledged survives a server stop and a kill -9; the client reconnects and appends again', { skip }, async () => {
  const bus = await freshBus();
  try {
    const deviceId = deviceIn(3, 4);
    await bus.append(Array.from({ length: 50 }, (_, i) => pointsMessage(deviceId, i)));
    const before = await readAll(bus, 3);
    assert.equal(before.length, 50);

    await nats.restart('stop');
    // The append waits for the client to reconnect instead of failing.
    await bus.append([pointsMessage(deviceId, 50)]);
    // The reader's consumer died with the server: the read after the last offset finds a new one.
    assert.deepEqual((await bus.read(3, before[49]!.offset, 10)).map((record) => (record.message as PointsMessage).points[0]!.tsMs), [50]);

    await bus.append(Array.from({ length: 500 }, (_, i) => pointsMessage(deviceId, 100 + i)));
    await nats.restart('kill');
    await bus.append([pointsMessage(deviceId, 1000)]);
    const after = await readAll(bus, 3);
    assert.equal(after.length, 552, 'every acknowledged append is still there after SIGKILL');
    assert.deepEqual(after.slice(0, 50).map((record) => record.offset), before.map((record) => record.offset));
  } finally {
    await bus.close();
  }
});
