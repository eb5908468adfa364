/** Steps 1 and 2: ingest throughput of the platform, and of a bare broker + SQLite pipeline as a ceiling. */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import { join } from 'node:path';
import { Aedes } from 'aedes';
import Database from 'better-sqlite3';
import type { MqttClient } from 'mqtt';
import { TOPICS, toWire } from '../src/functions/ingest/wireFormat.js';
import { connect, counterValue, endMany, progress, publishWindowed, rng, sleep, startPlatform, Track, waitUntil } from './support.js';

export const INGEST = { devices: 200, batches: 60, pointsPerBatch: 10, window: 20 } as const;
const TOTAL_POINTS = INGEST.devices * INGEST.batches * INGEST.pointsPerBatch;
const TOTAL_MESSAGES = INGEST.devices * INGEST.batches;

export interface IngestFigures {
  points: number;
  messages: number;
  seconds: number;
  pointsPerS: number;
  messagesPerS: number;
  /** When the last PUBACK arrived (the platform: every message durable on the bus). */
  allAckedS: number;
}

/** The same payloads for both runs: per device, 60 batches of 10 fixes at 1 Hz along a straight line at 12 m/s. */
function workload(): Array<{ deviceId: string; payloads: string[] }> {
  const random = rng(1);
  const t0 = Date.now() - 2 * 3_600_000;
  return Array.from({ length: INGEST.devices }, (_, d) => {
    const deviceId = `ingest-${String(d).padStart(4, '0')}`;
    const track = Track.random(random, t0 + d * 1000);
    const payloads = Array.from({ length: INGEST.batches }, (_, b) => {
      const points = Array.from({ length: INGEST.pointsPerBatch }, (_, i) => toWire(track.at(track.t0Ms + (b * INGEST.pointsPerBatch + i) * 1000)));
      return JSON.stringify({ points });
    });
    return { deviceId, payloads };
  });
}

/** Publishes the workload from one client per device and waits until `done()`; times from first publish. */
async function drive(url: string, label: string, done: () => Promise<number>): Promise<IngestFigures> {
  const work = workload();
  const clients: MqttClient[] = await Promise.all(work.map((w) => connect(url, w.deviceId)));
  progress(`${label}: ${clients.length} devices connected, publishing ${TOTAL_MESSAGES} messages / ${TOTAL_POINTS} points`);
  const started = performance.now();
  let allAckedS = NaN;
  const publishing = Promise.all(work.map((w, i) => publishWindowed(clients[i]!, TOPICS.telemetry(w.deviceId), w.payloads, INGEST.window))).then(() => {
    allAckedS = (performance.now() - started) / 1000;
  });
  let lastReport = started;
  await waitUntil(
    async () => {
      const stored = await done();
      if (performance.now() - lastReport > 2000) (lastReport = performance.now()), progress(`${label}: ${stored}/${TOTAL_POINTS} points stored`);
      return stored >= TOTAL_POINTS;
    },
    180_000,
    `${label} to store ${TOTAL_POINTS} points`,
    2,
  );
  const seconds = (performance.now() - started) / 1000;
  await publishing;
  await endMany(clients);
  return {
    points: TOTAL_POINTS,
    messages: TOTAL_MESSAGES,
    seconds,
    pointsPerS: TOTAL_POINTS / seconds,
    messagesPerS: TOTAL_MESSAGES / seconds,
    allAckedS,
  };
}

export async function benchPlatformIngest(): Promise<IngestFigures & { storedPoints: number; rejected: number; dropped: number }> {
  const bp = await startPlatform();
  try {
    const { metrics, store } = bp.platform;
    const figures = await drive(bp.mqttUrl, 'platform ingest', () => counterValue(metrics.pointsStored));
    const counts = await store.counts();
    const rejected = await counterValue(metrics.messagesRejected);
    const dropped = await counterValue(metrics.pointsDropped);
    progress(`platform ingest: ${counts.points} points in ${counts.chunks} chunks, ${counts.trips} trips; rejected ${rejected}, dropped ${dropped}`);
    return { ...figures, storedPoints: counts.points, rejected, dropped };
  } finally {
    await bp.stop();
  }
}

/** The ceiling: Aedes + one QoS 1 subscriber that parses and inserts each message in its own FULL-synchronous transaction. */
export async function benchCeilingIngest(): Promise<IngestFigures> {
  const dir = mkdtempSync(join(os.tmpdir(), 'tripline-bench-ceiling-'));
  const db = new Database(join(dir, 'ceiling.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec('CREATE TABLE points (device_id TEXT NOT NULL, ts_ms INTEGER NOT NULL, lat REAL NOT NULL, lon REAL NOT NULL, speed_mps REAL, heading_deg REAL)');
  const insert = db.prepare('INSERT INTO points VALUES (?, ?, ?, ?, ?, ?)');
  let rows = 0;
  const insertMessage = db.transaction((deviceId: string, points: Array<{ ts: number; lat: number; lon: number; speed?: number; heading?: number }>) => {
    for (const p of points) insert.run(deviceId, p.ts, p.lat, p.lon, p.speed ?? null, p.heading ?? null);
  });

  const aedes = await Aedes.createBroker();
  const server = createServer(aedes.handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const url = `mqtt://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  const sink = await connect(url, 'ceiling-sink');
  sink.on('message', (topic, payload) => {
    const { points } = JSON.parse(payload.toString('utf8')) as { points: Array<{ ts: number; lat: number; lon: number }> };
    insertMessage(topic.split('/')[1]!, points);
    rows += points.length;
  });
  await sink.subscribeAsync('tripline/+/telemetry', { qos: 1 });
  try {
    return await drive(url, 'ceiling ingest', async () => rows);
  } finally {
    await sink.endAsync();
    await new Promise<void>((resolve) => aedes.close(() => resolve()));
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await sleep(10);
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
