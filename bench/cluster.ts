/**
 * The cluster benchmark (issue 7), on a local cluster of PostgreSQL + PostGIS (default
 * durability), NATS JetStream, Mosquitto and tripline processes by role (2 ingest, 1 sync, 1 api,
 * 1 to 4 workers), with the embedded benchmark's workloads:
 * 1. points per second with 1, 2 and 4 worker processes, end to end and onto the bus; then the
 *    workers alone, draining a bus filled while none ran;
 * 2. publish to searchable latency (100 probe trips, 10 at a time, 20 background cars);
 * 3. trip finalization latency with 5 and with 5,000 cars driving (a point every 5 s each), and
 *    the same 5,000 trips at a point every 60 s, which tells the trip count from the message rate;
 * 4. the CPU each process used during each measured window, from /proc.
 * Run: `npm run bench:cluster` (about 3 minutes). Progress goes to stderr, figures to stdout.
 * The simulated devices are real MQTT clients in a worker thread of this process; everything,
 * devices included, shares the machine's cores, and the CPU table says who used them.
 */
import { clusterPackagesMissing, clusterToken } from '../testkit/localClusterTest.js';
import { benchClusterFinalization, benchClusterSearchLatency, type ClusterFinalizationFigures } from './clusterLatency.js';
import { benchClusterIngest, THROUGHPUT, type DrainFigures, type RoundFigures } from './clusterIngest.js';
import {
  leasesBalanced, machineFacts, openTripsByGroup, type stageMeans, registerInBulk, registerThroughBroker, serverFacts, startBenchCluster, syncIdle, TENANT, withRole,
} from './clusterHarness.js';
import { FINAL } from './finalization.js';
import { LATENCY } from './latency.js';
import type { CpuShares } from './procStat.js';
import { progress, round } from './support.js';

const BIG_FLEET = 5000;
const SMALL_FLEET = 5;
const SLOW_PERIOD_MS = 60_000;

const idList = (prefix: string, n: number, digits: number): string[] => Array.from({ length: n }, (_, i) => `${prefix}${String(i).padStart(digits, '0')}`);

/** Least squares of each registration's time against how many devices were registered before it. */
function fitLine(ms: readonly number[], skip: number): { a: number; b: number } {
  const xs = ms.map((_, i) => i).slice(skip);
  const ys = ms.slice(skip);
  const n = xs.length;
  const mx = xs.reduce((s, x) => s + x, 0) / n;
  const my = ys.reduce((s, y) => s + y, 0) / n;
  const b = xs.reduce((s, x, i) => s + (x - mx) * (ys[i]! - my), 0) / xs.reduce((s, x) => s + (x - mx) ** 2, 0);
  return { a: my - b * mx, b };
}

async function main(): Promise<void> {
  const skip = clusterPackagesMissing();
  if (skip) throw new Error(skip);
  const started = performance.now();
  const host = machineFacts();
  progress('starting PostgreSQL + PostGIS (default durability), NATS JetStream and Mosquitto');
  const bc = await startBenchCluster();
  try {
    const facts = await serverFacts(bc);
    const d = facts.postgresDurability;
    console.log(`machine: ${host.cpu}, ${host.cores} cores, ${host.memGiB} GiB, node ${host.node}; PostgreSQL ${facts.postgres} + PostGIS, NATS ${facts.nats}, Mosquitto ${facts.mosquitto}; data in ${host.tmpdir}`);
    console.log(
      `durability: PostgreSQL defaults (fsync=${d.fsync}, synchronous_commit=${d.synchronous_commit}, full_page_writes=${d.full_page_writes}, wal_sync_method=${d.wal_sync_method}): ` +
        'each write-store commit is on disk before the worker moves on; NATS JetStream file storage, 1 replica: a PubAck means written to the OS, ' +
        `fsynced every 2 min (${facts.nats.startsWith('2.9') ? 'fixed in 2.9' : 'sync_interval default'}); Mosquitto persistence on, its in-memory store saved every 1 s ` +
        '(autosave_interval 1): a device\'s PUBACK from Mosquitto precedes durability on the bus',
    );
    console.log(
      `layout: ${THROUGHPUT.ingestProcesses} ingest processes (4 share-group connections each, one message at a time per connection), 1 sync, 1 api, ` +
        `1/2/4 workers; ${THROUGHPUT.partitions} bus partitions; the devices run in a worker thread of the benchmark; everything shares the ${host.cores} cores`,
    );

    const ids = {
      throughput: idList('tput-', THROUGHPUT.devices, 4),
      latencyProbes: idList('probe-', LATENCY.probes, 3),
      background: idList('bg-', LATENCY.backgroundCars, 3),
      smallProbes: idList(`fin${SMALL_FLEET}-`, FINAL.probes, 2),
      bigProbes: idList(`fin${BIG_FLEET}-`, FINAL.probes, 2),
      smallCars: idList(`car${SMALL_FLEET}-`, SMALL_FLEET, 5),
      bigCars: idList(`car${BIG_FLEET}-`, BIG_FLEET, 5),
    };
    const small = [...ids.throughput, ...ids.latencyProbes, ...ids.background, ...ids.smallProbes, ...ids.bigProbes, ...ids.smallCars];
    progress(`registering ${small.length} devices through the cluster registry (PostgreSQL, then Mosquitto's dynamic security), one after another`);
    const registry = await bc.ctx.registry();
    const reg = await registerThroughBroker(registry, small, 'devices');
    const secretOf = new Map(small.map((id, i) => [id, reg.secrets[i]!]));
    const secrets = (list: string[]): string[] => list.map((id) => secretOf.get(id)!);
    progress(`registering ${BIG_FLEET} cars in bulk (registry 8 at a time; broker accounts written while Mosquitto is stopped)`);
    const bulk = await registerInBulk(bc, ids.bigCars, ids.throughput[0]!);

    progress(`starting tripline processes: api-1, sync-1, worker-1, ${THROUGHPUT.ingestProcesses} ingest`);
    await bc.start('api-1', ['api']);
    await bc.start('sync-1', ['sync']);
    await bc.start('worker-1', ['worker']);
    for (let i = 1; i <= THROUGHPUT.ingestProcesses; i++) await bc.start(`ingest-${i}`, ['ingest']);

    const { rounds, drains } = await benchClusterIngest(bc, ids.throughput, secrets(ids.throughput));

    progress('back to 2 workers for the latency steps');
    for (const w of withRole(bc.cluster, 'worker').slice(2)) await bc.cluster.stopProcess(w.name, 'SIGTERM');
    await leasesBalanced(bc.cluster, THROUGHPUT.partitions);
    await syncIdle(bc.cluster);
    progress(`publish -> searchable: ${LATENCY.probes} probe trips, ${LATENCY.concurrency} at a time, ${LATENCY.backgroundCars} background cars`);
    const search = await benchClusterSearchLatency(bc, ids.latencyProbes, secrets(ids.latencyProbes), ids.background, secrets(ids.background));
    await syncIdle(bc.cluster);
    const openBefore = await openTripsByGroup(bc);
    progress(`finalization latency with ${SMALL_FLEET} cars driving`);
    const [fin5] = await benchClusterFinalization(bc, SMALL_FLEET, ids.smallProbes, secrets(ids.smallProbes), ids.smallCars, secrets(ids.smallCars));
    await syncIdle(bc.cluster);
    progress(`finalization latency with ${BIG_FLEET} cars driving`);
    // Then the same 5,000 trips with a twelfth of the messages: is it the open trips or the message rate?
    const [fin5000, fin5000slow] = await benchClusterFinalization(bc, BIG_FLEET, ids.bigProbes, secrets(ids.bigProbes), ids.bigCars, bulk.secrets, [FINAL.periodMs, SLOW_PERIOD_MS]);

    // The trips through the API, as a client asks for them: the search store serves the API's list.
    const api = withRole(bc.cluster, 'api')[0]!;
    const token = await clusterToken(bc.cluster, 'trips:read', TENANT);
    const listed = await fetch(`http://127.0.0.1:${api.httpPort}/v1/trips?limit=100&status=completed`, { headers: { authorization: `Bearer ${token}` } });
    const apiTrips = ((await listed.json()) as { trips?: unknown[] }).trips?.length ?? 0;

    print({ host, facts, reg, bulk, rounds, drains, search, fin5: fin5!, fin5000: fin5000!, fin5000slow: fin5000slow!, openBefore, apiTrips, totalS: round((performance.now() - started) / 1000) });
  } finally {
    progress('stopping the cluster');
    await bc.stop();
  }
}

interface Results {
  host: ReturnType<typeof machineFacts>;
  facts: Awaited<ReturnType<typeof serverFacts>>;
  reg: Awaited<ReturnType<typeof registerThroughBroker>>;
  bulk: Awaited<ReturnType<typeof registerInBulk>>;
  rounds: RoundFigures[];
  drains: DrainFigures[];
  search: Awaited<ReturnType<typeof benchClusterSearchLatency>>;
  fin5: ClusterFinalizationFigures;
  fin5000: ClusterFinalizationFigures;
  fin5000slow: ClusterFinalizationFigures;
  openBefore: Map<string, number>;
  apiTrips: number;
  totalS: number;
}

type Stages = ReturnType<typeof stageMeans>;

/** Mean milliseconds (and how many) of the pipeline's own timings, from the processes' histograms. */
function stageRows(stages: Stages[]): string[][] {
  const cell = (st: Stages, key: string): string => {
    const v = st.get(key);
    return v ? `${v.meanMs.toFixed(1)} (${v.count.toLocaleString('en-US')})` : '';
  };
  return [
    ['  ingest, receipt -> on the bus, per message', ...stages.map((st) => cell(st, 'ingest'))],
    ['  worker pass (read partitions + commit)', ...stages.map((st) => cell(st, 'trip_worker'))],
    ['    of which the write-store commit', ...stages.map((st) => cell(st, 'commit'))],
    ['  receipt -> committed, per message', ...stages.map((st) => cell(st, 'ingest_to_stored'))],
    ['  sync pass', ...stages.map((st) => cell(st, 'sync'))],
  ];
}

function print(r: Results): void {
  const num = (v: number | undefined, digits = 0): string => (v === undefined || Number.isNaN(v) ? 'n/a' : round(v, digits).toLocaleString('en-US'));
  const table = (rows: string[][]): void => {
    const columns = Math.max(...rows.map((row) => row.length));
    const widths = Array.from({ length: columns }, (_, c) => Math.max(...rows.map((row) => (row[c] ?? '').length)));
    for (const row of rows) console.log(row.map((cell, c) => (c === 0 ? cell.padEnd(widths[0]!) : cell.padStart(widths[c]!))).join('  ').trimEnd());
  };

  const { reg } = r;
  const sumOf = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);
  const mean = (xs: number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length;
  const fit = fitLine(reg.ms, 10);
  const projectedS = (n: number): number => (fit.a * n + (fit.b * n * (n - 1)) / 2) / 1000;
  console.log('');
  console.log(
    `registration, the product's path (PostgreSQL row, then the device's role and client on Mosquitto, one after another): ` +
      `devices 1-100 ${num(mean(reg.ms.slice(0, 100)), 1)} ms each, ${reg.ms.length - 99}-${reg.ms.length} ${num(mean(reg.ms.slice(-100)), 1)} ms each; ` +
      `+${num(fit.b * 1000, 1)} us per account already on the broker (fit), so ${BIG_FLEET.toLocaleString('en-US')} devices would take about ${num(projectedS(BIG_FLEET) / 60, 1)} min ` +
      `(${num(fit.a + fit.b * BIG_FLEET, 0)} ms for the last one)`,
  );
  console.log(
    `the ${BIG_FLEET.toLocaleString('en-US')} cars instead: registry add 8 at a time ${num(r.bulk.registryS, 1)} s; their broker accounts, copies of a provisioned device's, ` +
      `written into the plugin's file and Mosquitto restarted: ${num(r.bulk.brokerS, 1)} s`,
  );

  console.log('');
  console.log(`1. throughput: ${THROUGHPUT.devices} devices x ${THROUGHPUT.batches} batches x ${THROUGHPUT.pointsPerBatch} points = ${num(r.rounds[0]!.points)} points, QoS 1, up to ${THROUGHPUT.window} in flight per device; workers added between rounds`);
  const tp = r.rounds;
  table([
    [`  worker processes (+ ${THROUGHPUT.ingestProcesses} ingest, 1 sync, 1 api)`, ...tp.map((x) => String(x.workers))],
    ['  points/s, publish -> committed by the workers (stored or filtered)', ...tp.map((x) => num(x.points / x.committedS))],
    ['  points/s, publish -> on the bus (ingest)', ...tp.map((x) => num(x.points / x.busS))],
    ['  points/s, publish -> PUBACK from Mosquitto', ...tp.map((x) => num(x.points / x.brokerS))],
    ['  seconds: all PUBACKed / on the bus / committed', ...tp.map((x) => `${num(x.brokerS, 2)} / ${num(x.busS, 2)} / ${num(x.committedS, 2)}`)],
    ['  points stored by each worker', ...tp.map((x) => x.storedPerWorker.map((v) => num(v / 1000, 1) + 'k').join(' '))],
    ['  points stored, of all', ...tp.map((x) => `${num((100 * sumOf(x.storedPerWorker)) / x.points, 1)} %`)],
    ['  points filtered, by reason', ...tp.map((x) => [...x.filtered].map(([reason, n]) => `${reason} ${num(n)}`).join(', ') || '0')],
    ['  messages rejected by ingest', ...tp.map((x) => String(x.rejected))],
    ...stageRows(tp.map((x) => x.stages)),
  ]);
  console.log(`1b. the workers alone: the workload twice over (${num(r.drains[0]!.points)} points) put on the bus with no worker running, then drained by workers started together`);
  table([
    ['  worker processes', ...r.drains.map((x) => String(x.workers))],
    ['  points/s committed, between 10 % and 90 % done', ...r.drains.map((x) => num(x.pointsPerS))],
    ['  seconds from starting the processes to all committed', ...r.drains.map((x) => num(x.totalS, 2))],
  ]);

  console.log('');
  const s = r.search;
  console.log(`2. last publish -> trip completed in the search store (ms), 2 workers: ${s.n} probe trips, ${LATENCY.concurrency} at a time, ${LATENCY.backgroundCars} background cars (${s.background.messages} messages)`);
  table([
    ['  ', 'p50', 'p99', 'max'],
    ['  -> searchable (search store)', num(s.p50, 1), num(s.p99, 1), num(s.max, 1)],
    ['  -> completed in the write store', num(s.storedP50, 1), num(s.storedP99, 1), ''],
    ['  -> PUBACK from Mosquitto', num(s.ackP50, 1), '', ''],
  ]);
  table(stageRows([s.stages]));

  console.log('');
  console.log(`3. ignition off -> trip completed in the search store (ms), 2 workers; ${FINAL.probes} probes, ${FINAL.probeSpacingMs} ms apart, while the cars each publish a point every 5 s (60 s in the last row)`);
  const fins = [r.fin5, r.fin5000, r.fin5000slow];
  const label = (f: ClusterFinalizationFigures): string =>
    `  ${f.cars.toLocaleString('en-US')} cars${f.periodMs === FINAL.periodMs ? '' : `, every ${f.periodMs / 1000} s`} (${num(f.activeTrips)} open, ${num((f.cars * 1000) / f.periodMs)} msg/s)`;
  table([
    ['  ', 'p50', 'p99', 'max', 'write store p50', 'p99', 'cars\' PUBACK p50', 'p99'],
    ...fins.map((f) => [label(f), num(f.p50, 1), num(f.p99, 1), num(f.max, 1), num(f.storedP50, 1), num(f.storedP99, 1), num(f.loadAckP50, 1), num(f.loadAckP99, 1)]),
    ['  ratio 5,000 / 5 cars (the headline)', num(r.fin5000.p50 / r.fin5.p50, 2), num(r.fin5000.p99 / r.fin5.p99, 2), num(r.fin5000.max / r.fin5.max, 2)],
    ['  ratio 5,000 every 60 s / 5 cars', num(r.fin5000slow.p50 / r.fin5.p50, 2), num(r.fin5000slow.p99 / r.fin5.p99, 2), num(r.fin5000slow.max / r.fin5.max, 2)],
  ]);
  table([['  (mean ms, count)', ...fins.map((f) => `${f.cars.toLocaleString('en-US')} cars, ${f.periodMs / 1000} s`)], ...stageRows(fins.map((f) => f.stages))]);
  console.log(`  trips already open before step 3, by device group: ${[...r.openBefore].map(([g, n]) => `${g} ${n}`).join(', ') || 'none'} (steps 1-2 end every drive with ignition off)`);
  const rssRow = (f: ClusterFinalizationFigures): string => [...f.rssMiB].map(([name, mib]) => `${name} ${mib}`).join(', ');
  console.log(`  resident MiB with ${r.fin5.cars} cars: ${rssRow(r.fin5)}`);
  console.log(`  resident MiB with ${r.fin5000.cars.toLocaleString('en-US')} cars: ${rssRow(r.fin5000)}`);

  console.log('');
  console.log('4. CPU per process during each measured window, in cores (1.00 = one core all the time; the machine has ' + `${r.host.cores})`);
  const windows: Array<[string, CpuShares]> = [
    ...tp.map((x): [string, CpuShares] => [`tput ${x.workers}w`, x.cpu]),
    ...r.drains.map((x): [string, CpuShares] => [`drain ${x.workers}w`, x.cpu]),
    ['latency', s.cpu],
    [`fin ${r.fin5.cars}`, r.fin5.cpu],
    [`fin ${r.fin5000.cars}`, r.fin5000.cpu],
    [`fin ${r.fin5000slow.cars}/60s`, r.fin5000slow.cpu],
  ];
  const names: string[] = [];
  for (const [, shares] of windows) for (const name of shares.cores.keys()) if (!names.includes(name)) names.push(name);
  const cell = (v: number | undefined): string => (v === undefined ? '' : v.toFixed(2));
  table([
    ['  process', ...windows.map(([label]) => label)],
    ...names.map((name) => [`  ${name}`, ...windows.map(([, shares]) => cell(shares.cores.get(name)))]),
    ['  everything else on the machine', ...windows.map(([, shares]) => cell(shares.otherCores))],
    ['  machine busy', ...windows.map(([, shares]) => cell(shares.machineBusyCores))],
    ['  machine waiting for I/O', ...windows.map(([, shares]) => cell(shares.machineIowaitCores))],
    ['  window (s)', ...windows.map(([, shares]) => shares.seconds.toFixed(1))],
  ]);
  console.log('  (everything else: CPU of processes outside this cluster and benchmark, i.e. other users of the machine, during the same window)');
  console.log(`API check: GET /v1/trips?status=completed&limit=100 returned ${r.apiTrips} trips. p99 of 50 probes is their maximum (nearest rank). Total ${r.totalS} s.`);

  const cpuJson = (c: CpuShares) => ({ seconds: round(c.seconds, 2), cores: Object.fromEntries([...c.cores].map(([k, v]) => [k, round(v, 3)])), machineBusy: round(c.machineBusyCores, 3), iowait: round(c.machineIowaitCores, 3), other: round(c.otherCores, 3) });
  const stagesJson = (st: Stages) => Object.fromEntries([...st].map(([k, v]) => [k, { meanMs: round(v.meanMs, 2), count: v.count }]));
  const finJson = (f: ClusterFinalizationFigures) => ({
    cars: f.cars, periodMs: f.periodMs, activeTrips: f.activeTrips, p50Ms: f.p50, p99Ms: f.p99, maxMs: f.max, storedP50Ms: f.storedP50, storedP99Ms: f.storedP99, ackP50Ms: f.ackP50,
    loadMessages: f.loadMessages, loadAckP50Ms: f.loadAckP50, loadAckP99Ms: f.loadAckP99, fleetLoopBusy: f.fleetLoopBusy, cpu: cpuJson(f.cpu), stages: stagesJson(f.stages), rssMiB: Object.fromEntries(f.rssMiB),
  });
  console.log(JSON.stringify({
    bench: 'cluster',
    machine: r.host,
    servers: r.facts,
    registration: { devices: reg.ms.length, firstHundredMsEach: round(mean(reg.ms.slice(0, 100)), 2), lastHundredMsEach: round(mean(reg.ms.slice(-100)), 2), usPerExistingAccount: round(fit.b * 1000, 2), projectedMinFor5000: round(projectedS(BIG_FLEET) / 60, 1), bulk: { registryS: round(r.bulk.registryS, 2), brokerS: round(r.bulk.brokerS, 2) } },
    throughput: tp.map((x) => ({
      workers: x.workers, points: x.points, committedPointsPerS: round(x.points / x.committedS), busPointsPerS: round(x.points / x.busS), brokerPointsPerS: round(x.points / x.brokerS),
      committedS: round(x.committedS, 3), busS: round(x.busS, 3), brokerS: round(x.brokerS, 3), storedPerWorker: x.storedPerWorker, rejected: x.rejected, filtered: Object.fromEntries(x.filtered), cpu: cpuJson(x.cpu), stages: stagesJson(x.stages),
    })),
    drain: r.drains.map((x) => ({ workers: x.workers, pointsPerS: round(x.pointsPerS), totalS: round(x.totalS, 3), cpu: cpuJson(x.cpu) })),
    publishToSearchable: { p50Ms: s.p50, p99Ms: s.p99, maxMs: s.max, probes: s.n, storedP50Ms: s.storedP50, storedP99Ms: s.storedP99, ackP50Ms: s.ackP50, backgroundMessages: s.background.messages, cpu: cpuJson(s.cpu), stages: stagesJson(s.stages) },
    finalization: { cars5: finJson(r.fin5), cars5000: finJson(r.fin5000), cars5000Every60s: finJson(r.fin5000slow), ratioP50: round(r.fin5000.p50 / r.fin5.p50, 2), ratioP99: round(r.fin5000.p99 / r.fin5.p99, 2), ratioEvery60sP50: round(r.fin5000slow.p50 / r.fin5.p50, 2), ratioEvery60sP99: round(r.fin5000slow.p99 / r.fin5.p99, 2) },
    openTripsBeforeFinalization: Object.fromEntries(r.openBefore),
    totalS: r.totalS,
  }));
}

main().then(
  () => progress('done'),
  (error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  },
);
