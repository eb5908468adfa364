/**
 * Replays a recorded file as one device over MQTT: the nds CSV (.csv / .csv.gz) or tripline NDJSON
 * (.ndjson, one wire point or message per line). Points go out in time order, in batches of batchS
 * seconds of data time, paced by the data clock divided by speedup — except that long gaps (days
 * between two drives) are shortened, so a replay never stalls on a parked car.
 */
import { readFile } from 'node:fs/promises';
import type { TelemetryPoint } from '../domain/point.js';
import { LIMITS, fromWire, triplineMessageSchema } from '../functions/ingest/wireFormat.js';
import { readNdsCsv } from './ndsCsv.js';
import { DevicePublisher, sleep } from './publisher.js';

export interface ReplayOptions {
  file: string;
  deviceId: string;
  brokerUrl: string;
  /** Data seconds per wall second; Infinity publishes as fast as PUBACKs allow. */
  speedup: number;
  batchS?: number;
  username?: string;
  password?: string;
  maxMessagesPerS?: number;
  /** A one-line human-readable status, at most once a second and once at the end. */
  onProgress?: (line: string) => void;
  signal?: AbortSignal;
}

/** The longest wall-clock sleep for a gap; ordinary batch pacing is never shortened by it. */
const MAX_GAP_SLEEP_MS = 2_000;

/** Points of a replayable file in time order (stable, so equal timestamps keep file order). */
export async function readReplayPoints(file: string): Promise<TelemetryPoint[]> {
  let points: TelemetryPoint[];
  if (/\.csv(\.gz)?$/i.test(file)) points = (await readNdsCsv(file)).map((row) => row.point);
  else if (/\.ndjson$/i.test(file)) points = parseNdjson(await readFile(file, 'utf8'));
  else throw new Error(`replay: unknown file type ${file} (expected .csv, .csv.gz or .ndjson)`);
  return points.sort((a, b) => a.tsMs - b.tsMs);
}

function parseNdjson(text: string): TelemetryPoint[] {
  const points: TelemetryPoint[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '') return;
    const json: unknown = JSON.parse(line);
    const parsed = triplineMessageSchema(json).safeParse(json);
    if (!parsed.success) throw new Error(`replay: line ${i + 1} is not a tripline point: ${parsed.error.message}`);
    points.push(...parsed.data.points.map(fromWire));
  });
  return points;
}

/** Consecutive points spanning less than batchMs of data time, at most one message's worth. */
export function batchByTime(points: readonly TelemetryPoint[], batchMs: number): TelemetryPoint[][] {
  const batches: TelemetryPoint[][] = [];
  let current: TelemetryPoint[] = [];
  for (const point of points) {
    const first = current[0];
    if (first && (point.tsMs - first.tsMs >= batchMs || current.length >= LIMITS.maxPointsPerMessage)) {
      batches.push(current);
      current = [];
    }
    current.push(point);
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

export async function replayFile(opts: ReplayOptions): Promise<{ messages: number; points: number }> {
  const batchMs = (opts.batchS ?? 5) * 1000;
  const points = await readReplayPoints(opts.file);
  const batches = batchByTime(points, batchMs);
  const paced = Number.isFinite(opts.speedup) && opts.speedup < 1e6;
  // Pacing keeps its normal rhythm (a batch every batchS/speedup); only longer gaps are capped.
  const maxSleepMs = Math.max(MAX_GAP_SLEEP_MS, batchMs / opts.speedup);

  let lastProgressMs = 0;
  const progress = (): void => opts.onProgress?.(`replay: ${publisher.acked.points}/${points.length} points in ${publisher.acked.messages} messages acknowledged`);
  const publisher = await DevicePublisher.connect({
    brokerUrl: opts.brokerUrl,
    deviceId: opts.deviceId,
    ...(opts.username !== undefined ? { username: opts.username } : {}),
    ...(opts.password !== undefined ? { password: opts.password } : {}),
    ...(opts.maxMessagesPerS !== undefined ? { maxMessagesPerS: opts.maxMessagesPerS } : {}),
    onAck: () => {
      if (!opts.onProgress || Date.now() - lastProgressMs < 1000) return;
      lastProgressMs = Date.now();
      progress();
    },
  });
  try {
    // Sleep until an absolute wall target, so time spent publishing does not add up as drift.
    let wallTargetMs = Date.now();
    let prevLastTsMs: number | undefined;
    for (const batch of batches) {
      if (opts.signal?.aborted) break;
      const lastTsMs = batch[batch.length - 1]!.tsMs;
      if (paced && prevLastTsMs !== undefined) {
        wallTargetMs += Math.min((lastTsMs - prevLastTsMs) / opts.speedup, maxSleepMs);
        await sleep(wallTargetMs - Date.now(), opts.signal);
      }
      prevLastTsMs = lastTsMs;
      await publisher.publish(batch, opts.signal);
    }
    await publisher.drain(opts.signal);
  } finally {
    await publisher.close(opts.signal?.aborted ?? false);
  }
  progress();
  return { ...publisher.acked };
}
