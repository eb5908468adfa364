/**
 * The pipeline benchmark: ingest throughput against a bare broker + SQLite ceiling, publish-to-searchable
 * latency, trip finalization latency with 5 and 5,000 cars driving, and heap per active trip.
 * Run: `npx tsc -p tsconfig.json && node --expose-gc dist/bench/pipeline.js` (without --expose-gc step 5 is skipped).
 * The simulated devices run in a worker thread (bench/fleetWorker.ts); the platform runs on the main thread.
 */
import { loadConfig } from '../src/runtime/config.js';
import { benchFinalization, FINAL, type FinalizationFigures } from './finalization.js';
import { machine } from './harness.js';
import { benchCeilingIngest, benchPlatformIngest, INGEST } from './ingest.js';
import { benchSearchLatency, LATENCY } from './latency.js';
import { progress, round } from './support.js';

const FLEETS = [5, 5000] as const;

async function main(): Promise<void> {
  const host = machine(loadConfig({}, {}).sqliteSynchronous);
  console.log(
    `machine: ${host.cpu}, ${host.cores} cores, ${host.memGiB} GiB, node ${host.node}, SQLite ${host.sqlite} ` +
      `synchronous=${host.synchronous} (bus + write store; search store NORMAL), data in ${host.tmpdir}`,
  );
  const hasGc = typeof (globalThis as { gc?: unknown }).gc === 'function';
  if (!hasGc) progress('no global.gc: run node with --expose-gc to measure memory per active trip (step 5 skipped)');
  const started = performance.now();

  progress(`1/4 platform ingest: ${INGEST.devices} devices x ${INGEST.batches} batches x ${INGEST.pointsPerBatch} points`);
  const platform = await benchPlatformIngest();
  progress('2/4 ceiling ingest: bare Aedes + one subscriber inserting into SQLite (per message, then group commit)');
  const ceiling = await benchCeilingIngest('per-message');
  const grouped = await benchCeilingIngest('group');
  progress(`3/4 publish-to-searchable latency: ${LATENCY.probes} probe trips, ${LATENCY.backgroundCars} background cars`);
  const search = await benchSearchLatency();
  const fleets: FinalizationFigures[] = [];
  for (const n of FLEETS) {
    progress(`4/4 finalization latency with ${n} cars driving${n === 5000 && hasGc ? ' (+ heap per active trip)' : ''}`);
    fleets.push(await benchFinalization(n, n === 5000 && hasGc));
  }
  const [small, large] = fleets as [FinalizationFigures, FinalizationFigures];
  const totalS = round((performance.now() - started) / 1000);

  const num = (v: number | undefined, digits = 0): string => (v === undefined || Number.isNaN(v) ? 'n/a' : round(v, digits).toLocaleString('en-US'));
  const rows: string[][] = [
    ['1-2. ingest, MQTT QoS 1 -> durable row', 'platform', 'ceiling', 'platform/ceiling', 'ceiling, group commit'],
    ['  points/s', num(platform.pointsPerS), num(ceiling.pointsPerS), num(platform.pointsPerS / ceiling.pointsPerS, 2), num(grouped.pointsPerS)],
    ['  messages/s', num(platform.messagesPerS), num(ceiling.messagesPerS), num(platform.messagesPerS / ceiling.messagesPerS, 2), num(grouped.messagesPerS)],
    ['  seconds for 120,000 points', num(platform.seconds, 2), num(ceiling.seconds, 2), '', num(grouped.seconds, 2)],
    ['  last PUBACK after (s)', num(platform.allAckedS, 2), num(ceiling.allAckedS, 2), '', num(grouped.allAckedS, 2)],
    ['3. last publish -> searchable (ms)', 'p50', 'p99', 'max'],
    [`  ${search.n} probes, ${LATENCY.concurrency} at a time, ${LATENCY.backgroundCars} bg cars`, num(search.p50, 1), num(search.p99, 1), num(search.max, 1)],
    ['  -> PUBACK p50 | -> write store p50, p99', num(search.ackP50, 1), num(search.storedP50, 1), num(search.storedP99, 1)],
    ['4. ignition off -> completed (ms)', 'p50', 'p99', 'max'],
    ...fleets.flatMap((f) => [
      [`  ${f.cars.toLocaleString('en-US')} cars (${f.activeTrips} open), ${f.n} probes`, num(f.p50, 1), num(f.p99, 1), num(f.max, 1)],
      [`    cars' PUBACK p50, p99 ms | platform loop busy`, num(f.loadAckP50, 1), num(f.loadAckP99, 1), `${Math.round(f.platformLoopBusy * 100)}%`],
    ]),
    ['  ratio 5000/5', num(large.p50 / small.p50, 2), num(large.p99 / small.p99, 2), num(large.max / small.max, 2)],
    ['5. heap per active trip (bytes)', num(large.bytesPerActiveTrip), 'state only:', num(large.bytesPerTripStateOnly)],
    ['   heap per silent connection (bytes)', num(large.bytesPerConnection)],
  ];
  const widths = [0, 1, 2, 3, 4].map((c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  console.log('');
  for (const r of rows) console.log(r.map((cell, c) => (c === 0 ? cell.padEnd(widths[0]!) : cell.padStart(widths[c]!))).join('  '));
  const heap = large.heapMiB;
  if (heap) console.log(`heap MiB after GC (5,000 cars): base ${heap.base}, connected ${heap.connected}, trips open ${heap.open}, open after load ${heap.openAfterLoad}, closed ${heap.closed}`);
  console.log(`p99 of 50 probes is their maximum (nearest rank). Total ${totalS} s.`);

  const pick = (f: FinalizationFigures) => ({
    p50Ms: f.p50, p99Ms: f.p99, maxMs: f.max, probes: f.n, activeTrips: f.activeTrips, ackP50Ms: f.ackP50, storedP50Ms: f.storedP50, storedP99Ms: f.storedP99,
    loadMessages: f.loadMessages, loadAckP50Ms: f.loadAckP50, loadAckP99Ms: f.loadAckP99, platformLoopBusy: f.platformLoopBusy, fleetLoopBusy: f.fleetLoopBusy,
  });
  const ingest = (f: typeof ceiling) => ({ pointsPerS: round(f.pointsPerS), messagesPerS: round(f.messagesPerS), seconds: round(f.seconds, 3), allAckedS: round(f.allAckedS, 3) });
  const json = {
    bench: 'pipeline',
    machine: host,
    ingest: {
      points: platform.points,
      messages: platform.messages,
      platform: { ...ingest(platform), storedPoints: platform.storedPoints, chunks: platform.chunks, rejected: platform.rejected, dropped: platform.dropped },
      ceiling: ingest(ceiling),
      ceilingGroupCommit: ingest(grouped),
      platformOverCeiling: round(platform.pointsPerS / ceiling.pointsPerS, 3),
      platformOverCeilingGroupCommit: round(platform.pointsPerS / grouped.pointsPerS, 3),
    },
    publishToSearchable: {
      p50Ms: search.p50, p99Ms: search.p99, maxMs: search.max, probes: search.n, concurrency: LATENCY.concurrency, ackP50Ms: search.ackP50,
      storedP50Ms: search.storedP50, storedP99Ms: search.storedP99, backgroundMessages: search.background.messages, backgroundAckP50Ms: search.background.ackP50Ms,
    },
    finalization: { periodMs: FINAL.periodMs, cars5: pick(small), cars5000: pick(large), ratioP50: round(large.p50 / small.p50, 2), ratioP99: round(large.p99 / small.p99, 2) },
    memory: {
      bytesPerActiveTrip: large.bytesPerActiveTrip ?? null,
      bytesPerTripStateOnly: large.bytesPerTripStateOnly ?? null,
      bytesPerConnection: large.bytesPerConnection ?? null,
      heapMiB: large.heapMiB ?? null,
    },
    totalS,
  };
  console.log(JSON.stringify(json));
}

main().then(
  () => progress('done'),
  (error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  },
);
