/** Step 3: publish-to-searchable latency of a trip's last message, under a light background load. */
import { TOPICS, toWire } from '../src/functions/ingest/wireFormat.js';
import { CompletionWatcher, runProbe, runProbes, summarize } from './probes.js';
import { connectMany, endMany, progress, rng, startPlatform, Track } from './support.js';

export const LATENCY = { backgroundCars: 20, backgroundBatch: 5, backgroundEveryMs: 500, probes: 100, concurrency: 10, probePoints: 30, probeBatch: 10 } as const;

export async function benchSearchLatency(): Promise<ReturnType<typeof summarize> & { backgroundMessages: number }> {
  const bp = await startPlatform();
  const random = rng(3);
  const ids = Array.from({ length: LATENCY.backgroundCars }, (_, i) => `bg-${String(i).padStart(3, '0')}`);
  const clients = await connectMany(bp.mqttUrl, ids, 'background cars');
  // Real-time-ish: a 5-point batch every 500 ms per car, timestamps advancing 5 s per batch.
  const t0 = Date.now() - 3_600_000;
  const cars = ids.map((deviceId, i) => ({ deviceId, client: clients[i]!, track: Track.random(random, t0), nextTs: t0 }));
  let backgroundMessages = 0;
  const inFlight = new Set<Promise<unknown>>();
  const timers = cars.map((car, i) =>
    setTimeout(() => {
      const tick = (): void => {
        const points = Array.from({ length: LATENCY.backgroundBatch }, (_, k) => toWire(car.track.at(car.nextTs + k * 1000)));
        car.nextTs += LATENCY.backgroundBatch * 1000;
        const sent = car.client.publishAsync(TOPICS.telemetry(car.deviceId), JSON.stringify({ points }), { qos: 1 }).finally(() => inFlight.delete(sent));
        inFlight.add(sent);
        backgroundMessages++;
      };
      tick();
      timers[i] = setInterval(tick, LATENCY.backgroundEveryMs);
    }, (i * LATENCY.backgroundEveryMs) / cars.length),
  );
  try {
    const watcher = new CompletionWatcher(bp.platform);
    let finished = 0;
    const timings = await runProbes(LATENCY.probes, LATENCY.concurrency, async (i) => {
      const timing = await runProbe(bp.mqttUrl, watcher, `probe-${String(i).padStart(3, '0')}`, Track.random(random, Date.now() - 60_000), LATENCY.probePoints, LATENCY.probeBatch);
      if (++finished % 20 === 0) progress(`search latency: ${finished}/${LATENCY.probes} probe trips searchable`);
      return timing;
    });
    return { ...summarize(timings), backgroundMessages };
  } finally {
    for (const timer of timers) clearInterval(timer);
    await Promise.allSettled([...inFlight]);
    await endMany(clients);
    await bp.stop();
  }
}
