/**
 * The NATS bus benchmark: NatsBus against one local nats-server (JetStream, file storage), the
 * shapes the platform uses it in. Appends: one message per append with 2,000 in flight (ingest),
 * and appends of 200 messages (the watchdog's silences). Reads: every partition in batches of 200
 * (a worker catching up), and the empty read at a partition's end (a worker's idle loop).
 * Run: `npm run bench:nats` (figures as JSON on stdout, progress on stderr; needs nats-server).
 */
import { openNatsBus } from '../src/adapters/nats/natsBus.js';
import { natsServerBinary } from '../src/cluster/services/nats.js';
import { pointsMessage, silenceMessage } from '../testkit/eventBusContract.js';
import { startTestNats } from '../testkit/natsService.js';
import { binaryVersion, machineFacts } from './clusterHarness.js';
import { progress, round } from './support.js';

const PARTITIONS = 16;
const DEVICES = Array.from({ length: 200 }, (_, i) => `car-${i}`);
const SINGLE_APPENDS = 2000;
const BATCHED_APPENDS = 10;
const READ_BATCH = 200;
const EMPTY_READS = 160;

const secondsSince = (startedMs: number): number => (performance.now() - startedMs) / 1000;

const nats = await startTestNats();
const bus = await openNatsBus({ url: nats.url, stream: 'BENCH', partitionCount: PARTITIONS, retentionMs: 3_600_000, duplicateWindowMs: 120_000 });
try {
  progress(`${SINGLE_APPENDS} appends of one message, all in flight`);
  let startedMs = performance.now();
  await Promise.all(Array.from({ length: SINGLE_APPENDS }, (_, i) => bus.append([pointsMessage(DEVICES[i % DEVICES.length]!, i)])));
  const singlePerS = SINGLE_APPENDS / secondsSince(startedMs);

  progress(`${BATCHED_APPENDS} appends of ${DEVICES.length} messages, one after another`);
  startedMs = performance.now();
  for (let batch = 0; batch < BATCHED_APPENDS; batch++) await bus.append(DEVICES.map((deviceId) => silenceMessage(deviceId, batch)));
  const batchedPerS = (BATCHED_APPENDS * DEVICES.length) / secondsSince(startedMs);
  const appended = SINGLE_APPENDS + BATCHED_APPENDS * DEVICES.length;
  if ((await bus.head()) !== appended) throw new Error(`the bus holds ${await bus.head()} messages, not ${appended}`);

  progress(`reading every partition in batches of ${READ_BATCH}`);
  startedMs = performance.now();
  let read = 0;
  const ends: number[] = [];
  for (let partition = 0; partition < PARTITIONS; partition++) {
    let cursor = 0;
    for (;;) {
      const records = await bus.read(partition, cursor, READ_BATCH);
      if (records.length === 0) break;
      read += records.length;
      cursor = records.at(-1)!.offset;
    }
    ends.push(cursor);
  }
  const readPerS = read / secondsSince(startedMs);
  if (read !== appended) throw new Error(`read ${read} messages of ${appended}`);

  progress(`${EMPTY_READS} reads at a partition's end`);
  startedMs = performance.now();
  for (let i = 0; i < EMPTY_READS; i++) await bus.read(i % PARTITIONS, ends[i % PARTITIONS]!, READ_BATCH);
  const emptyReadMs = (secondsSince(startedMs) * 1000) / EMPTY_READS;

  const results = {
    appendOnePerAppendMsgPerS: round(singlePerS, 0),
    appendBatchesOf200MsgPerS: round(batchedPerS, 0),
    readBatchesOf200MsgPerS: round(readPerS, 0),
    emptyReadAtEndMs: round(emptyReadMs, 2),
  };
  const machine = { ...machineFacts(), nats: binaryVersion(natsServerBinary(), ['--version']) };
  process.stdout.write(`${JSON.stringify({ bench: 'natsBus', machine, partitions: PARTITIONS, results }, null, 2)}\n`);
} finally {
  await bus.close();
  await nats.close();
}
