/**
 * The alert benchmark: latency from publishing the crash (the MQTT message carrying the point that
 * confirms it) to the signed webhook arriving at a local HTTP receiver, and to the device's own
 * downlink message, p50 and p99, with 20 cars driving (the demo's fleet size) and with 5,000.
 * The background cars run in a worker thread (bench/fleetWorker.ts), each publishing a one-point
 * message every 5 s of wall time; the probe cars, the receiver and the platform share the main thread.
 * Run: `npm run bench:alerts` (figures as JSON on stdout, progress on stderr).
 */
import type { MqttClient } from 'mqtt';
import { TOPICS, toWire } from '../src/functions/ingest/wireFormat.js';
import { crashScenario } from '../testkit/crashPoints.js';
import { startWebhookReceiver, type WebhookReceiver } from '../testkit/webhookReceiver.js';
import { Fleet } from './fleet.js';
import { machine, startPlatform, type BenchPlatform } from './harness.js';
import { connectMany, endMany, percentile, progress, round, sleep } from './support.js';

const PROBES = 50;
const PROBE_SPACING_MS = 200;
const LOAD = { periodMs: 5000, pointsPerBatch: 1 } as const;

interface Figures {
  cars: number;
  probes: number;
  webhookP50Ms: number;
  webhookP99Ms: number;
  webhookMaxMs: number;
  downlinkP50Ms: number;
  downlinkP99Ms: number;
  within1s: number;
  loadMessages: number;
  loadAckP50Ms: number;
  loadAckP99Ms: number;
}

async function probe(client: MqttClient, deviceId: string, seed: number, receiver: WebhookReceiver, downlink: Map<string, number>): Promise<{ webhookMs: number; downlinkMs: number }> {
  const { moving, crash } = crashScenario(deviceId, seed, Date.now() - 60_000);
  for (let i = 0; i < moving.length; i += 5) await client.publishAsync(TOPICS.telemetry(deviceId), JSON.stringify({ points: moving.slice(i, i + 5).map(toWire) }), { qos: 1 });
  const publishedAt = Date.now();
  await client.publishAsync(TOPICS.telemetry(deviceId), JSON.stringify({ points: crash.map(toWire) }), { qos: 1 });
  const request = await receiver.next((r) => String(r.headers['tripline-alert-id']).startsWith(`${deviceId}:crash:`), 30_000);
  const started = Date.now();
  while (!downlink.has(deviceId) && Date.now() - started < 5000) await sleep(2);
  return { webhookMs: request.receivedAtMs - publishedAt, downlinkMs: (downlink.get(deviceId) ?? NaN) - publishedAt };
}

async function run(cars: number): Promise<Figures> {
  const bp: BenchPlatform = await startPlatform();
  const receiver = await startWebhookReceiver();
  const fleet = new Fleet(3000 + cars);
  try {
    await bp.platform.alerts.addWebhook({ webhookId: 'wh_000000000000000000000b01', tenantId: bp.platform.config.defaultTenant, url: receiver.url, types: null, createdAtMs: Date.now() }, 'whsec_bench');
    const probeIds = Array.from({ length: PROBES }, (_, i) => `crash${cars}-${String(i).padStart(2, '0')}`);
    const probes = await connectMany(bp.mqttUrl, probeIds, 'probe cars', 50, await bp.register(probeIds));
    const downlink = new Map<string, number>();
    await Promise.all(probes.map((client, i) => client.subscribeAsync(`tripline/${probeIds[i]}/alerts`, { qos: 1 })));
    probes.forEach((client, i) => client.on('message', () => downlink.set(probeIds[i]!, Date.now())));
    const carIds = Array.from({ length: cars }, (_, i) => `drive${cars}-${String(i).padStart(5, '0')}`);
    await fleet.connect(bp.mqttUrl, carIds, `${cars} cars`, await bp.register(carIds));
    await fleet.openTrips(3);
    await fleet.startLoad(LOAD.periodMs, LOAD.pointsPerBatch, 'wall');
    await sleep(LOAD.periodMs); // one whole cycle of the load before the first crash
    progress(`${cars} cars driving; ${PROBES} crashes, ${PROBE_SPACING_MS} ms apart`);
    const webhook: number[] = [];
    const device: number[] = [];
    for (let i = 0; i < PROBES; i++) {
      const timing = await probe(probes[i]!, probeIds[i]!, 500 + i, receiver, downlink);
      webhook.push(timing.webhookMs);
      device.push(timing.downlinkMs);
      await sleep(PROBE_SPACING_MS);
    }
    const load = await fleet.stopLoad();
    await endMany(probes);
    return {
      cars,
      probes: PROBES,
      webhookP50Ms: round(percentile(webhook, 50)),
      webhookP99Ms: round(percentile(webhook, 99)),
      webhookMaxMs: Math.max(...webhook),
      downlinkP50Ms: round(percentile(device, 50)),
      downlinkP99Ms: round(percentile(device, 99)),
      within1s: webhook.filter((ms) => ms < 1000).length / PROBES,
      loadMessages: load.messages,
      loadAckP50Ms: load.ackP50Ms,
      loadAckP99Ms: load.ackP99Ms,
    };
  } finally {
    await fleet.end();
    await receiver.close();
    await bp.stop();
  }
}

const results: Figures[] = [];
for (const cars of [20, 5000]) {
  progress(`alerts with ${cars} cars`);
  results.push(await run(cars));
  progress(`${cars} cars: ${JSON.stringify(results[results.length - 1])}`);
}
process.stdout.write(`${JSON.stringify({ bench: 'alerts', machine: machine('FULL'), load: `each car one point every ${LOAD.periodMs / 1000} s`, results }, null, 2)}\n`);
