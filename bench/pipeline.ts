/**
 * The pipeline benchmark: ingest throughput against a bare broker + SQLite ceiling, publish-to-searchable
 * latency, trip finalization latency with 5 and 5,000 cars driving, and heap per active trip.
 * Run: `npx tsc -p tsconfig.json && node --expose-gc dist/bench/pipeline.js` (without --expose-gc step 5 is skipped).
 */
import { loadConfig } from '../src/runtime/config.js';
import { benchFinalization, type FinalizationFigures } from './finalization.js';
import { benchCeilingIngest, benchPlatformIngest, INGEST } from './ingest.js';
import { benchSearchLatency, LATENCY } from './latency.js';
import { machine, progress, round } from './support.js';

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
  progress('2/4 ceiling ingest: bare Aedes + one subscriber inserting into SQLite');
  const ceiling = await benchCeilingIngest();
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
  const rows: Array<[string, string, string, string]> = [
    ['1-2. ingest (MQTT QoS 1 -> durable row)', 'platform', 'bare ceiling', 'platform/ceiling'],
    ['  points/s', num(platform.pointsPerS), num(ceiling.pointsPerS), num(platform.pointsPerS / ceiling.pointsPerS, 2)],
    ['  messages/s', num(platform.messagesPerS), num(ceiling.messagesPerS), num(platform.messagesPerS / ceiling.messagesPerS, 2)],
    ['  seconds for 120,000 points', num(platform.seconds, 2), num(ceiling.seconds, 2), ''],
    ['  last PUBACK after (s)', num(platform.allAckedS, 2), num(ceiling.allAckedS, 2), ''],
    ['3. publish -> searchable (ms)', 'p50', 'p99', 'max'],
    [`  ${search.n} probe trips, ${LATENCY.backgroundCars} bg cars`, num(search.p50, 1), num(search.p99, 1), num(search.max, 1)],
    ['  of which -> PUBACK p50 / -> write store p50, p99', num(search.ackP50, 1), num(search.storedP50, 1), num(search.storedP99, 1)],
    ['4. ignition off -> completed (ms)', 'p50', 'p99', 'max'],
    ...fleets.flatMap((f: FinalizationFigures): Array<[string, string, string, string]> => [
      [`  ${f.cars.toLocaleString('en-US')} cars (${f.activeTrips} open), ${f.n} probes`, num(f.p50, 1), num(f.p99, 1), num(f.max, 1)],
      [`    bg PUBACK p50/p99, event loop busy`, num(f.loadAckP50, 1), num(f.loadAckP99, 1), `${Math.round(f.eventLoopUtilization * 100)}%`],
    ]),
    ['  ratio 5000/5', num(large.p50 / small.p50, 2), num(large.p99 / small.p99, 2), num(large.max / small.max, 2)],
    ['5. heap per active trip (bytes)', num(large.bytesPerActiveTrip), 'state only:', num(large.bytesPerTripStateOnly)],
  ];
  const widths = [0, 1, 2, 3].map((c) => Math.max(...rows.map((r) => r[c]!.length)));
  console.log('');
  for (const r of rows) console.log(`${r[0].padEnd(widths[0]!)}  ${r[1].padStart(widths[1]!)}  ${r[2].padStart(widths[2]!)}  ${r[3].padStart(widths[3]!)}`);
  if (large.heapMiB) console.log(`heap MiB after GC (5,000 cars): connected ${large.heapMiB.connected}, trips open ${large.heapMiB.open}, open after load ${large.heapMiB.openAfterLoad}, closed ${large.heapMiB.closed}`);
  console.log(`total ${totalS} s`);

  const pick = (f: FinalizationFigures) => ({
    p50Ms: f.p50, p99Ms: f.p99, maxMs: f.max, probes: f.n, activeTrips: f.activeTrips, storedP50Ms: f.storedP50, storedP99Ms: f.storedP99,
    loadMessages: f.loadMessages, loadAckP50Ms: f.loadAckP50, loadAckP99Ms: f.loadAckP99, eventLoopUtilization: f.eventLoopUtilization,
  });
  const json = {
    bench: 'pipeline',
    machine: host,
    ingest: {
      platform: { pointsPerS: round(platform.pointsPerS), messagesPerS: round(platform.messagesPerS), seconds: round(platform.seconds, 3), allAckedS: round(platform.allAckedS, 3), points: platform.points, messages: platform.messages, storedPoints: platform.storedPoints, rejected: platform.rejected, dropped: platform.dropped },
      ceiling: { pointsPerS: round(ceiling.pointsPerS), messagesPerS: round(ceiling.messagesPerS), seconds: round(ceiling.seconds, 3), allAckedS: round(ceiling.allAckedS, 3) },
      platformOverCeiling: round(platform.pointsPerS / ceiling.pointsPerS, 3),
    },
    publishToSearchable: { p50Ms: search.p50, p99Ms: search.p99, maxMs: search.max, probes: search.n, ackP50Ms: search.ackP50, storedP50Ms: search.storedP50, storedP99Ms: search.storedP99, backgroundMessages: search.backgroundMessages },
    finalization: { cars5: pick(small), cars5000: pick(large), ratioP50: round(large.p50 / small.p50, 2), ratioP99: round(large.p99 / small.p99, 2) },
    memory: { bytesPerActiveTrip: large.bytesPerActiveTrip ?? null, bytesPerTripStateOnly: large.bytesPerTripStateOnly ?? null, heapMiB: large.heapMiB ?? null },
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
