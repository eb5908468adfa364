/**
 * Does one flooding device slow the other cars? 50 registered cars publish 1–5 point batches at
 * QoS 1, 4 times a second each (event time runs at 1 Hz; well under the 10 messages/s limit),
 * while, in alternate 7 s windows, one registered device also floods 1,000 valid messages/s:
 *   - QoS 0: over-limit messages are dropped, the connection stays up;
 *   - QoS 1, mqtt.js reconnecting: over-limit messages wait for their turn (the broker holds
 *     their PUBACKs, up to 30 s, and stops reading the socket); should the broker close the
 *     connection, mqtt.js reconnects after 10 ms and resends what was not acknowledged;
 *   - QoS 1, reconnect storm: the same, but a fresh connection as soon as one closes, nothing resent.
 * One run is 3 rounds of (baseline, QoS 0, baseline, QoS 1 reconnect, baseline, storm) and a last
 * baseline, so drift (warm-up, store growth) falls on every mode alike. Each mode's p99 is the
 * median of its windows' p99s: a single stall from elsewhere (another process, a disk flush)
 * lands in one window and would otherwise decide the pooled p99 of whichever mode it hit. The
 * pooled p99s are printed too, and the spread of the baseline windows says how noisy the run was.
 *
 * For the cars it measures publish -> PUBACK (durable on the bus) and receipt -> committed by the
 * trip worker (every `tripline_ingest_to_stored_seconds` observation, recorded raw, ms resolution;
 * it also holds the flooder's few accepted messages). For the flooder: attempted and sent (its
 * worker), rate limited (`tripline_messages_rejected_total{reason="rate_limited"}`), and its
 * messages on the bus, by receipt time: in any interval they must fit the token bucket (burst +
 * rate × interval). Throttled QoS 1 messages drain into the windows after a flood, so a
 * per-window count is shown but the verdict is over every interval of the run.
 *
 * The platform runs on the main thread (rate 10/s, burst 20, scrypt cost 10, synchronous FULL);
 * the cars and the flooder each run in their own worker thread (bench/floodingWorker.ts), so the
 * generators do not share the platform's event loop, only the machine's cores.
 * Run: `npx tsc -p tsconfig.json && node dist/bench/flooding.js` (about 2.5 minutes).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import type { DeviceCredentials } from '../src/ports/deviceRegistry.js';
import { loadConfig } from '../src/runtime/config.js';
import { startEmbedded } from '../src/runtime/embedded.js';
import { createLogger } from '../src/runtime/logger.js';
import type { CarSamples, FloodingCommand, FloodMode, FloodReport } from './floodingWorker.js';
import { counterValue, machine, pointsStored } from './harness.js';
import { absNow, benchStartAbs, percentile, progress, round, sleep } from './support.js';

const RUN = {
  cars: 50,
  carPeriodMs: 250,
  minPoints: 1,
  maxPoints: 5,
  warmupS: 8,
  windowS: 7,
  rounds: 3,
  floodPerS: 1000,
  reconnectPeriodMs: 10,
  deviceRatePerS: 10,
  deviceBurst: 20,
  maxRatio: 1.5,
} as const;

type Mode = 'baseline' | FloodMode;
const MODES: ReadonlyArray<{ mode: Mode; label: string }> = [
  { mode: 'baseline', label: 'baseline (cars only)' },
  { mode: 'qos0', label: 'flood QoS 0' },
  { mode: 'qos1-reconnect', label: 'flood QoS 1, mqtt.js reconnect' },
  { mode: 'qos1-storm', label: 'flood QoS 1, reconnect storm' },
];
const FLOODS = MODES.slice(1).map((m) => m.mode as FloodMode);
const PLAN: Mode[] = [...Array.from({ length: RUN.rounds }, () => FLOODS.flatMap((flood): Mode[] => ['baseline', flood])).flat(), 'baseline'];

/** A worker thread answering one promise per command. */
class Generator {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  private readonly worker: Worker;

  constructor(seed: number) {
    this.worker = new Worker(new URL('./floodingWorker.js', import.meta.url), { workerData: { seed, benchStartAbs } });
    this.worker.on('message', (message: { id: number; result?: unknown; error?: string }) => {
      const waiting = this.pending.get(message.id);
      this.pending.delete(message.id);
      if (message.error !== undefined) waiting?.reject(new Error(`flooding worker: ${message.error}`));
      else waiting?.resolve(message.result);
    });
    this.worker.on('error', (error) => {
      for (const waiting of this.pending.values()) waiting.reject(error);
    });
  }

  call<T>(command: FloodingCommand): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.worker.postMessage({ id, command });
    });
  }

  /** Closes the worker's connections, then stops it (a connection still closing must not keep the run alive). */
  async end(): Promise<void> {
    await this.call({ cmd: 'end' }).catch(() => undefined);
    await this.worker.terminate();
  }
}

interface Mark { atAbsMs: number; rateLimited: number; rejectedOther: number; connectsRefused: number; elu: { platform: number; cars: number; flooder: number } }
interface Window { mode: Mode; from: Mark; to: Mark; flood: FloodReport | null }

const median = (values: readonly number[]): number => percentile(values, 50);

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(os.tmpdir(), 'tripline-bench-flooding-'));
  const config = loadConfig({
    mqttPort: 0, httpPort: 0, dataDir, logLevel: 'silent',
    deviceRatePerS: RUN.deviceRatePerS, deviceBurst: RUN.deviceBurst, secretHashCost: 10,
  }, {});
  const host = machine(config.sqliteSynchronous);
  // The load average shows whether something else was using the cores around the run.
  const loadAvg = (): number[] => os.loadavg().map((l) => round(l, 2));
  const loadAvgAtStart = loadAvg();
  console.log(
    `machine: ${host.cpu}, ${host.cores} cores, ${host.memGiB} GiB, node ${host.node}, SQLite ${host.sqlite} synchronous=${host.synchronous}, ` +
      `data in ${host.tmpdir}, load average ${loadAvgAtStart.join(' ')}`,
  );
  const started = performance.now();
  const platform = await startEmbedded(config, createLogger(config.logLevel));
  const url = `mqtt://127.0.0.1:${platform.mqttPort}`;
  const { metrics } = platform;

  // Every receipt -> committed observation, raw (the histogram's buckets are too coarse for a p99).
  const processed: Array<{ receivedAbsMs: number; ms: number }> = [];
  const histogram = metrics.ingestToStoredSeconds;
  const observe = histogram.observe.bind(histogram) as (value: number) => void;
  (histogram as unknown as { observe: (value: number) => void }).observe = (seconds: number) => {
    processed.push({ receivedAbsMs: absNow() - seconds * 1000, ms: seconds * 1000 });
    observe(seconds);
  };

  const register = (deviceId: string): Promise<DeviceCredentials> =>
    platform.registry.add({ deviceId, tenantId: config.defaultTenant, vehicleId: deviceId });
  const carDevices = await Promise.all(Array.from({ length: RUN.cars }, (_, i) => register(`car-${String(i).padStart(3, '0')}`)));
  const flooderDevice = await register('flooder-000');

  const cars = new Generator(11);
  const flooder = new Generator(12);
  try {
    await cars.call({ cmd: 'connectCars', url, devices: carDevices });
    progress(`${RUN.cars} cars connected; each sends a ${RUN.minPoints}-${RUN.maxPoints} point batch every ${RUN.carPeriodMs} ms; ${RUN.warmupS} s warm-up`);

    let platformElu = performance.eventLoopUtilization();
    const mark = async (): Promise<Mark> => {
      const [carsElu, flooderElu] = await Promise.all([cars.call<number>({ cmd: 'elu' }), flooder.call<number>({ cmd: 'elu' })]);
      const platformUtilization = performance.eventLoopUtilization(platformElu).utilization;
      platformElu = performance.eventLoopUtilization();
      const rejected = (await metrics.messagesRejected.get()).values;
      const sum = (keep: (reason: unknown) => boolean): number => rejected.filter((v) => keep(v.labels.reason)).reduce((total, v) => total + v.value, 0);
      return {
        atAbsMs: absNow(),
        rateLimited: sum((reason) => reason === 'rate_limited'),
        rejectedOther: sum((reason) => reason !== 'rate_limited'),
        connectsRefused: await counterValue(metrics.connectsRefused),
        elu: { platform: platformUtilization, cars: carsElu, flooder: flooderElu },
      };
    };

    await cars.call({ cmd: 'startCars', periodMs: RUN.carPeriodMs, minPoints: RUN.minPoints, maxPoints: RUN.maxPoints });
    await sleep(RUN.warmupS * 1000);
    const windows: Window[] = [];
    let from = await mark();
    for (const [i, mode] of PLAN.entries()) {
      if (i % (2 * FLOODS.length) === 0) progress(i < PLAN.length - 1 ? `round ${i / (2 * FLOODS.length) + 1} of ${RUN.rounds}` : 'last baseline window');
      if (mode !== 'baseline') await flooder.call({ cmd: 'startFlood', url, device: flooderDevice, ratePerS: RUN.floodPerS, mode, reconnectPeriodMs: RUN.reconnectPeriodMs });
      await sleep(RUN.windowS * 1000);
      const flood = mode !== 'baseline' ? await flooder.call<FloodReport>({ cmd: 'stopFlood' }) : null;
      const to = await mark();
      windows.push({ mode, from, to, flood });
      from = to;
    }
    const samples = await cars.call<CarSamples>({ cmd: 'stopCars' });
    const loadAvgAtEnd = loadAvg();
    await pointsStored(platform, await counterValue(metrics.pointsReceived), 'the trip worker to catch up');

    // The flooder's messages on the bus (exact), by when the platform received them.
    const bus = new Database(join(dataDir, 'bus.db'), { readonly: true });
    const flooderReceivedAtMs = (bus
      .prepare("SELECT json_extract(body, '$.receivedAtMs') AS at FROM bus_messages WHERE json_extract(body, '$.deviceId') = ? AND json_extract(body, '$.kind') = 'points'")
      .all(flooderDevice.deviceId) as Array<{ at: number }>).map((row) => row.at);
    bus.close();
    const flooderStoredPoints = (await platform.store.points(flooderDevice.deviceId, 0, 4_102_444_800_000)).length;

    // Per window: the cars' publishes sent in it, the observations of messages received in it.
    const measured = windows.map((w) => {
      const inWindow = (t: number): boolean => t >= w.from.atAbsMs && t < w.to.atAbsMs;
      const idx = samples.sentAbsMs.flatMap((t, i) => (inWindow(t) ? [i] : []));
      const acks = idx.map((i) => samples.ackMs[i]!).filter((ms) => !Number.isNaN(ms));
      const done = processed.filter((p) => inWindow(p.receivedAbsMs)).map((p) => p.ms);
      const seconds = (w.to.atAbsMs - w.from.atAbsMs) / 1000;
      return {
        mode: w.mode,
        seconds: round(seconds, 2),
        acks,
        done,
        carMessages: idx.length,
        carsFailed: idx.length - acks.length,
        ackP99Ms: percentile(acks, 99),
        processedP99Ms: percentile(done, 99),
        flooder: {
          attempted: w.flood?.attempted ?? 0,
          sent: w.flood?.sent ?? 0,
          rateLimited: w.to.rateLimited - w.from.rateLimited,
          onBus: flooderReceivedAtMs.filter(inWindow).length,
          allowance: w.flood ? Math.floor(RUN.deviceBurst + RUN.deviceRatePerS * seconds) : 0,
          connects: w.flood?.connects ?? 0,
          closedByBroker: w.flood?.closes ?? 0,
        },
        rejectedOther: w.to.rejectedOther - w.from.rejectedOther,
        connectsRefused: w.to.connectsRefused - w.from.connectsRefused,
        elu: w.to.elu,
      };
    });

    const modes = MODES.map(({ mode, label }) => {
      const ws = measured.filter((w) => w.mode === mode);
      const acks = ws.flatMap((w) => w.acks);
      const done = ws.flatMap((w) => w.done);
      const total = (pick: (f: (typeof ws)[number]['flooder']) => number): number => ws.reduce((sum, w) => sum + pick(w.flooder), 0);
      const mean = (pick: (w: (typeof ws)[number]) => number): number => round(ws.reduce((sum, w) => sum + pick(w), 0) / ws.length, 3);
      return {
        mode,
        label,
        windows: ws.length,
        carMessages: acks.length,
        carsFailed: ws.reduce((sum, w) => sum + w.carsFailed, 0),
        ackP50Ms: round(percentile(acks, 50)),
        ackP99Ms: round(median(ws.map((w) => w.ackP99Ms))),
        ackP99PerWindowMs: ws.map((w) => round(w.ackP99Ms)),
        ackP99PooledMs: round(percentile(acks, 99)),
        ackMaxMs: round(Math.max(...acks)),
        processedP50Ms: round(percentile(done, 50)),
        processedP99Ms: round(median(ws.map((w) => w.processedP99Ms))),
        processedP99PooledMs: round(percentile(done, 99)),
        flooder: {
          attempted: total((f) => f.attempted),
          sent: total((f) => f.sent),
          rateLimited: total((f) => f.rateLimited),
          onBus: total((f) => f.onBus),
          allowance: total((f) => f.allowance),
          connects: total((f) => f.connects),
          closedByBroker: total((f) => f.closedByBroker),
        },
        busy: { platform: mean((w) => w.elu.platform), cars: mean((w) => w.elu.cars), flooder: mean((w) => w.elu.flooder) },
      };
    });
    const base = modes[0]!;
    const ratios = modes.map((m) => ({
      mode: m.mode,
      ackP99: round(m.ackP99Ms / base.ackP99Ms, 2),
      processedP99: round(m.processedP99Ms / base.processedP99Ms, 2),
      ackP99Pooled: round(m.ackP99PooledMs / base.ackP99PooledMs, 2),
    }));
    const worst = Math.max(...ratios.slice(1).flatMap((r) => [r.ackP99, r.processedP99]));
    // Baseline windows whose p99 is over twice the baseline's: disturbed by something else. The
    // medians absorb one; with more, the run is too noisy to judge.
    const disturbedBaselines = base.ackP99PerWindowMs.filter((p99) => p99 > 2 * base.ackP99Ms).length;
    const noisy = disturbedBaselines > 1;
    const floods = modes.slice(1);
    const flooderExcess = bucketExcess(flooderReceivedAtMs, RUN.deviceRatePerS);
    // +1: a token refilling exactly as a message arrives.
    const flooderWithinAllowance = flooderExcess <= RUN.deviceBurst + 1;
    const carsFailed = modes.reduce((sum, m) => sum + m.carsFailed, 0);
    const carsRateLimited = base.flooder.rateLimited;
    const rejectedOther = measured.reduce((sum, w) => sum + w.rejectedOther, 0);
    const connectsRefused = measured.reduce((sum, w) => sum + w.connectsRefused, 0);
    const totalS = round((performance.now() - started) / 1000);

    const num = (v: number, digits = 0): string => (Number.isNaN(v) ? 'n/a' : round(v, digits).toLocaleString('en-US'));
    const pct = (v: number): string => `${Math.round(v * 100)}%`;
    printTable([
      ['cars, by window type', 'windows', 'messages', 'failed', 'PUBACK p50', 'p99', 'x base', 'p99 per window', 'pooled p99', 'max', 'processed p50', 'p99', 'x base', 'busy: platform', 'cars', 'flooder'],
      ...modes.map((m, i) => [
        m.label, String(m.windows), num(m.carMessages), num(m.carsFailed),
        num(m.ackP50Ms, 1), num(m.ackP99Ms, 1), i === 0 ? '' : num(ratios[i]!.ackP99, 2), m.ackP99PerWindowMs.map((v) => num(v, 1)).join(' '), num(m.ackP99PooledMs, 1), num(m.ackMaxMs, 1),
        num(m.processedP50Ms, 1), num(m.processedP99Ms, 1), i === 0 ? '' : num(ratios[i]!.processedP99, 2),
        pct(m.busy.platform), pct(m.busy.cars), pct(m.busy.flooder),
      ]),
    ]);
    console.log(`(ms; p99 = median of the windows' p99s; "busy" = each thread's event loop utilization, mean over the windows; ${RUN.windowS} s windows)`);
    printTable([
      ['flooder, by window type', 'attempted', 'sent', 'rate limited', 'on the bus', 'allowance', 'connects', 'closed by broker'],
      ...floods.map((m) => [m.label, num(m.flooder.attempted), num(m.flooder.sent), num(m.flooder.rateLimited), num(m.flooder.onBus), num(m.flooder.allowance), num(m.flooder.connects), num(m.flooder.closedByBroker)]),
    ]);
    console.log(
      `(allowance: burst ${RUN.deviceBurst} + ${RUN.deviceRatePerS}/s x window; throttled messages drain into later windows. Flooder in total: ${flooderReceivedAtMs.length} messages on the bus, ` +
        `${flooderStoredPoints} points stored; most in any interval beyond ${RUN.deviceRatePerS}/s: ${round(flooderExcess, 1)} (burst ${RUN.deviceBurst}): ${flooderWithinAllowance ? 'within the token bucket' : 'OVER the token bucket'}. ` +
        `Cars: ${carsFailed} publishes failed, ${carsRateLimited} rate limited. Other rejections: ${rejectedOther}; connects refused: ${connectsRefused}.)`,
    );
    console.log(
      `\ncars' p99 while flooded: ${worst}x the baseline p99 at worst (limit ${RUN.maxRatio}x): ${worst <= RUN.maxRatio ? 'within' : 'EXCEEDED'}. ` +
        `Disturbed baseline windows (p99 over 2x): ${disturbedBaselines} of ${base.windows}${noisy ? ' (NOISY: something else used the machine; rerun on a quiet one)' : ''}; ` +
        `load average ${loadAvgAtStart[0]} at start, ${loadAvgAtEnd[0]} at end. Total ${totalS} s.`,
    );
    console.log(JSON.stringify({
      bench: 'flooding',
      machine: { ...host, loadAvgAtStart, loadAvgAtEnd },
      run: RUN,
      modes,
      ratios,
      worstP99Ratio: worst,
      withinLimit: worst <= RUN.maxRatio,
      disturbedBaselines,
      noisy,
      flooder: { onBus: flooderReceivedAtMs.length, storedPoints: flooderStoredPoints, maxExcessOverRate: round(flooderExcess, 1), withinAllowance: flooderWithinAllowance },
      carsFailed,
      carsRateLimited,
      rejectedOther,
      connectsRefused,
      windows: measured.map(({ acks: _acks, done: _done, ...w }) => ({ ...w, ackP99Ms: round(w.ackP99Ms), processedP99Ms: round(w.processedP99Ms), elu: { platform: round(w.elu.platform, 3), cars: w.elu.cars, flooder: w.elu.flooder } })),
      totalS,
    }));
  } finally {
    await Promise.all([cars.end(), flooder.end()]);
    await platform.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function printTable(rows: string[][]): void {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  console.log('');
  for (const r of rows) console.log(r.map((cell, c) => (c === 0 ? cell.padEnd(widths[0]!) : (cell ?? '').padStart(widths[c]!))).join('  '));
}

main().then(
  () => progress('done'),
  (error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  },
);

/**
 * The most messages any interval [t_i, t_j] holds beyond what the rate alone allows:
 * max over i <= j of (j - i + 1) - rate × (t_j - t_i). A token bucket keeps it at most its burst.
 */
function bucketExcess(timesMs: readonly number[], ratePerS: number): number {
  const sorted = [...timesMs].sort((a, b) => a - b);
  let best = 0;
  let bestStart = Number.NEGATIVE_INFINITY; // max over i of (ratePerS × t_i - i)
  sorted.forEach((tMs, j) => {
    bestStart = Math.max(bestStart, (ratePerS * tMs) / 1000 - j);
    best = Math.max(best, j + 1 - (ratePerS * tMs) / 1000 + bestStart);
  });
  return best;
}
