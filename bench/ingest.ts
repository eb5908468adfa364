/** Steps 1 and 2: ingest throughput of the platform, and of a bare broker + SQLite pipeline as a ceiling. */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import { join } from 'node:path';
import { Aedes } from 'aedes';
import Database from 'better-sqlite3';
import { Fleet } from './fleet.js';
import { counterValue, startPlatform } from './harness.js';
import { absNow, connect, progress, sleep, waitUntil } from './support.js';

export const INGEST = { devices: 200, batches: 60, pointsPerBatch: 10, window: 20 } as const;
const TOTAL_POINTS = INGEST.devices * INGEST.batches * INGEST.pointsPerBatch;
const TOTAL_MESSAGES = INGEST.devices * INGEST.batches;

export interface IngestFigures {
  points: number;
  messages: number;
  seconds: number;
  pointsPerS: number;
  messagesPerS: number;
  /** From the first publish until the last PUBACK (the platform: every message durable on the bus). */
  allAckedS: number;
}

/**
 * The same workload for both runs (same seed): 200 devices, each 60 batches of 10 fixes at 1 Hz
 * along a straight line at 12 m/s, up to 20 publishes in flight per client. Timed from the
 * first publish until `stored()` reaches every point.
 */
async function drive(url: string, label: string, stored: () => Promise<number>, register?: (ids: readonly string[]) => Promise<string[]>): Promise<IngestFigures> {
  const fleet = new Fleet(1);
  try {
    const ids = Array.from({ length: INGEST.devices }, (_, d) => `ingest-${String(d).padStart(4, '0')}`);
    await fleet.connect(url, ids, `${label} devices`, await register?.(ids));
    await fleet.prepareIngest(INGEST.batches, INGEST.pointsPerBatch);
    progress(`${label}: ${ids.length} devices connected, publishing ${TOTAL_MESSAGES} messages / ${TOTAL_POINTS} points`);
    const publishing = fleet.ingest(INGEST.window);
    let lastReport = performance.now();
    await waitUntil(
      async () => {
        const n = await stored();
        if (performance.now() - lastReport > 2000) (lastReport = performance.now()), progress(`${label}: ${n}/${TOTAL_POINTS} points stored`);
        return n >= TOTAL_POINTS;
      },
      180_000,
      `${label} to store ${TOTAL_POINTS} points`,
      1,
    );
    const doneAbs = absNow();
    const { firstPublishAbs, allAckedAbs } = await publishing;
    const seconds = (doneAbs - firstPublishAbs) / 1000;
    return {
      points: TOTAL_POINTS,
      messages: TOTAL_MESSAGES,
      seconds,
      pointsPerS: TOTAL_POINTS / seconds,
      messagesPerS: TOTAL_MESSAGES / seconds,
      allAckedS: (allAckedAbs - firstPublishAbs) / 1000,
    };
  } finally {
    await fleet.end();
  }
}

export async function benchPlatformIngest(): Promise<IngestFigures & { storedPoints: number; chunks: number; rejected: number; dropped: number }> {
  const bp = await startPlatform();
  try {
    const { metrics, store } = bp.platform;
    const figures = await drive(bp.mqttUrl, 'platform ingest', () => counterValue(metrics.pointsStored), bp.register);
    const counts = await store.counts();
    const rejected = await counterValue(metrics.messagesRejected);
    const dropped = await counterValue(metrics.pointsFiltered);
    progress(`platform ingest: ${counts.points} points in ${counts.chunks} chunks, ${counts.trips} trips; rejected ${rejected}, dropped ${dropped}`);
    return { ...figures, storedPoints: counts.points, chunks: counts.chunks, rejected, dropped };
  } finally {
    await bp.stop();
  }
}

/**
 * The ceiling: Aedes + one QoS 1 subscriber that parses each message and inserts its points, one row
 * per point, in a FULL-synchronous WAL database: one transaction per message, or (`group`) one per
 * turn of the event loop for every message that arrived in it, as the platform's bus does.
 */
export async function benchCeilingIngest(commit: 'per-message' | 'group'): Promise<IngestFigures> {
  const dir = mkdtempSync(join(os.tmpdir(), 'tripline-bench-ceiling-'));
  const db = new Database(join(dir, 'ceiling.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec('CREATE TABLE points (device_id TEXT NOT NULL, ts_ms INTEGER NOT NULL, lat REAL NOT NULL, lon REAL NOT NULL, speed_mps REAL, heading_deg REAL)');
  const insert = db.prepare('INSERT INTO points VALUES (?, ?, ?, ?, ?, ?)');
  let rows = 0;
  type Row = { ts: number; lat: number; lon: number; speed?: number; heading?: number };
  const insertMessages = db.transaction((messages: Array<[string, Row[]]>) => {
    for (const [deviceId, points] of messages) for (const p of points) insert.run(deviceId, p.ts, p.lat, p.lon, p.speed ?? null, p.heading ?? null);
  });
  let queued: Array<[string, Row[]]> = [];
  const flush = (): void => {
    insertMessages(queued);
    for (const [, points] of queued) rows += points.length;
    queued = [];
  };

  const aedes = await Aedes.createBroker();
  const server = createServer(aedes.handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const url = `mqtt://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  const sink = await connect(url, 'ceiling-sink');
  sink.on('message', (topic, payload) => {
    const { points } = JSON.parse(payload.toString('utf8')) as { points: Row[] };
    queued.push([topic.split('/')[1]!, points]);
    if (commit === 'per-message') flush();
    else if (queued.length === 1) setImmediate(flush);
  });
  await sink.subscribeAsync('tripline/+/telemetry', { qos: 1 });
  try {
    return await drive(url, `ceiling ingest (${commit} commit)`, async () => rows);
  } finally {
    await sink.endAsync();
    await new Promise<void>((resolve) => aedes.close(() => resolve()));
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await sleep(10);
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
