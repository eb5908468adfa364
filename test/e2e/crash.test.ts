import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import mqtt from 'mqtt';
import { decodeChunk } from '../../src/adapters/embedded/pointChunkCodec.js';
import { destination } from '../../src/domain/geo.js';
import type { TelemetryPoint } from '../../src/domain/point.js';
import { TOPICS, toWire } from '../../src/functions/ingest/wireFormat.js';
import { eventually, getJson } from '../../testkit/platform.js';
import type { DeviceCredentials } from '../../src/ports/deviceRegistry.js';
import { exited, freePort, runCli, startPlatformProcess, waitForPort } from '../../testkit/processes.js';

const DEVICES = 5;
const POINTS_PER_DEVICE = 400;
const BATCH = 5;

/** A device that keeps its unacknowledged batch and sends it again after reconnecting, as QoS 1 devices do. */
async function runDevice(brokerUrl: string, { deviceId, username, password }: DeviceCredentials, index: number, acked: Set<number>, stopAt: () => boolean): Promise<void> {
  const t0 = Date.now() - 3_600_000 + index * 7;
  let position = { lat: 50.8 + index * 0.01, lon: 4.3 };
  const points: TelemetryPoint[] = [];
  for (let seq = 0; seq < POINTS_PER_DEVICE; seq++) {
    const last = seq === POINTS_PER_DEVICE - 1;
    points.push({ tsMs: t0 + seq * 1000, lat: position.lat, lon: position.lon, speedMps: last ? 0 : 12, seq, ...(last ? { ignition: false } : {}) });
    position = destination(position.lat, position.lon, 90, 12);
  }
  let next = 0;
  while (next < points.length && !stopAt()) {
    let client: mqtt.MqttClient | undefined;
    try {
      client = await mqtt.connectAsync(brokerUrl, { clientId: deviceId, username, password, reconnectPeriod: 0, connectTimeout: 2000 });
      // mqtt.js keeps an unacknowledged publish pending across a lost connection; the device gives up on it and resends.
      const closed = new Promise<never>((_, reject) => client!.once('close', () => reject(new Error('connection lost'))));
      closed.catch(() => undefined);
      for (; next < points.length; next += BATCH) {
        const batch = points.slice(next, next + BATCH);
        await Promise.race([closed, client.publishAsync(TOPICS.telemetry(deviceId), JSON.stringify({ points: batch.map(toWire) }), { qos: 1 })]);
        for (const point of batch) acked.add(point.seq!);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      await client.endAsync();
    } catch {
      client?.end(true);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

test('kill -9 while devices publish at QoS 1: every acknowledged point is stored exactly once, and search agrees', { timeout: 120_000 }, async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tripline-crash-'));
  const [mqttPort, httpPort] = [await freePort(), await freePort()];
  const args = ['--mqtt-port', String(mqttPort), '--http-port', String(httpPort), '--data-dir', dataDir];
  // Devices here send 100 messages a second, over the default per-device limit.
  const env = { TRIPLINE_LIVE_TIMEOUT_S: '5', TRIPLINE_DEVICE_RATE_PER_S: '0' };
  // Registered and signed in the way an operator would: the CLI on the data folder.
  const credentials: DeviceCredentials[] = [];
  for (let i = 0; i < DEVICES; i++) {
    const id = `crash-car-${i}`;
    credentials.push(JSON.parse(await runCli(['devices', 'add', id, '--vehicle', id, '--tenant', 'demo', '--json', '--data-dir', dataDir])) as DeviceCredentials);
  }
  const token = (await runCli(['token', '--tenant', 'demo', '--scope', 'trips:read', '--data-dir', dataDir])).trim();
  let platform = startPlatformProcess(args, env);
  // Whatever fails below, no platform process may outlive the test (the runner would wait for it forever).
  t.after(() => {
    platform.kill('SIGKILL');
  });
  await waitForPort(mqttPort);

  const acked = Array.from({ length: DEVICES }, () => new Set<number>());
  const deadline = Date.now() + 90_000;
  const devices = acked.map((set, i) => runDevice(`mqtt://127.0.0.1:${mqttPort}`, credentials[i]!, i, set, () => Date.now() > deadline));

  await eventually(async () => acked.every((set) => set.size >= 100), 30_000, 'devices to be mid-stream');
  const ackedBeforeKill = acked.reduce((n, set) => n + set.size, 0);
  platform.kill('SIGKILL');
  await exited(platform);
  platform = startPlatformProcess(args, env);
  await waitForPort(mqttPort);
  await Promise.all(devices);
  assert.ok(acked.every((set) => set.size === POINTS_PER_DEVICE), 'every device finished after the restart');

  await eventually(async () => {
    const { body } = await getJson<{ trips: unknown[] }>(`http://127.0.0.1:${httpPort}/v1/trips?status=completed`, token);
    const { body: health } = await getJson<{ components: { sync: { pendingChanges: number } } }>(`http://127.0.0.1:${httpPort}/healthz`);
    return body.trips.length === DEVICES && health.components.sync.pendingChanges === 0;
  }, 30_000, 'all trips completed and indexed');
  platform.kill('SIGTERM');
  await exited(platform);

  const write = new Database(join(dataDir, 'write.db'), { readonly: true });
  const search = new Database(join(dataDir, 'search.db'), { readonly: true });
  try {
    for (let i = 0; i < DEVICES; i++) {
      const rows = write.prepare('SELECT points FROM point_chunks WHERE device_id = ?').all(`crash-car-${i}`) as Array<{ points: string }>;
      const seqs = rows.flatMap((row) => decodeChunk(row.points).map((p) => p.seq));
      assert.equal(seqs.length, new Set(seqs).size, `crash-car-${i}: no point stored twice`);
      for (const seq of acked[i]!) assert.ok(seqs.includes(seq), `crash-car-${i}: acknowledged seq ${seq} is stored`);
    }
    const inWrite = write.prepare('SELECT trip_id, version FROM trips ORDER BY trip_id').all();
    const inSearch = search.prepare('SELECT trip_id, version FROM trips ORDER BY trip_id').all();
    assert.deepEqual(inSearch, inWrite, 'the search store holds every trip at its latest version');
    const trips = write.prepare('SELECT doc FROM trips').all() as Array<{ doc: string }>;
    for (const { doc } of trips) assert.equal((JSON.parse(doc) as { pointCount: number }).pointCount, POINTS_PER_DEVICE);
    assert.ok(ackedBeforeKill < DEVICES * POINTS_PER_DEVICE, 'the kill happened mid-stream');
  } finally {
    write.close();
    search.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
