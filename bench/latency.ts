/** Step 3: publish-to-searchable latency of a trip's last message, under a light background load. */
import { Fleet, type LoadReport } from './fleet.js';
import { startPlatform } from './harness.js';
import { CompletionWatcher, runProbe, runProbes, summarize } from './probes.js';
import { connectMany, endMany, progress, rng, sleep, Track } from './support.js';

export const LATENCY = { backgroundCars: 20, backgroundBatch: 5, backgroundEveryMs: 500, probes: 100, concurrency: 10, probePoints: 30, probeBatch: 10 } as const;

export async function benchSearchLatency(): Promise<ReturnType<typeof summarize> & { background: LoadReport }> {
  const bp = await startPlatform();
  const fleet = new Fleet(3);
  const random = rng(3);
  const probeIds = Array.from({ length: LATENCY.probes }, (_, i) => `probe-${String(i).padStart(3, '0')}`);
  const probes = await connectMany(bp.mqttUrl, probeIds, 'probe devices', 50, await bp.register(probeIds));
  try {
    const ids = Array.from({ length: LATENCY.backgroundCars }, (_, i) => `bg-${String(i).padStart(3, '0')}`);
    await fleet.connect(bp.mqttUrl, ids, 'background cars', await bp.register(ids));
    // Real-time-ish, sped up: a 5-point batch every 500 ms per car, its timestamps 1 s apart (5 s per batch).
    await fleet.startLoad(LATENCY.backgroundEveryMs, LATENCY.backgroundBatch, 'fast');
    await sleep(2000); // four batches per car: their trips are open and moving before the first probe
    const watcher = new CompletionWatcher(bp.platform);
    let finished = 0;
    const timings = await runProbes(LATENCY.probes, LATENCY.concurrency, async (i) => {
      const timing = await runProbe(probes[i]!, watcher, probeIds[i]!, Track.random(random, Date.now() - 60_000), LATENCY.probePoints, LATENCY.probeBatch);
      if (++finished % 25 === 0) progress(`search latency: ${finished}/${LATENCY.probes} probe trips searchable`);
      return timing;
    });
    const background = await fleet.stopLoad();
    return { ...summarize(timings), background };
  } finally {
    await fleet.end();
    await endMany(probes);
    await bp.stop();
  }
}
