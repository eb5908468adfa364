import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { NO_ENRICHMENT } from '../../src/domain/tripContext.js';
import { NDS_DEVICE_RULE } from '../../src/domain/events/detectors.js';
import { DEFAULT_PIPELINE_CONFIG } from '../../src/domain/pipelineConfig.js';
import { evaluate } from '../../src/functions/evaluate.js';
import { readLabelledData, type LabelledData } from '../../src/sim/labelledData.js';
import { simulateTrip } from '../../src/sim/vehicleModel.js';

const NDS = fileURLToPath(new URL('../../../test/fixtures/nds/nds_data.csv.gz', import.meta.url));

test('nds through the whole pipeline: 28 drives found within 60 s, the 107 device flags reproduced at the 0.35 g rule', async () => {
  const data = await readLabelledData(NDS);
  const report = evaluate(data, { ...DEFAULT_PIPELINE_CONFIG, detectors: NDS_DEVICE_RULE }, NO_ENRICHMENT);
  assert.deepEqual(report.trips, { expected: 28, found: 28, matched: 28 });
  const tp = Object.values(report.events).reduce((sum, s) => sum + s.tp, 0);
  assert.ok(tp >= 105, `matched ${tp} of 107 flags`);
  const production = evaluate(data, DEFAULT_PIPELINE_CONFIG, NO_ENRICHMENT);
  assert.equal(production.trips.matched, 28);
});

test("the simulator's injected harsh events are found: recall >= 0.95, precision >= 0.9 per type", () => {
  const data: LabelledData = { pointsByDevice: new Map(), trips: [], events: [] };
  const t0 = Date.UTC(2026, 10, 1, 6);
  for (let v = 0; v < 10; v++) {
    const deviceId = `sim-${v}`;
    let startMs = t0 + v * 1000;
    let seq = 0;
    const points = [];
    for (let k = 0; k < 3; k++) {
      const trip = simulateTrip({ deviceId, seed: 1000 + v * 10 + k, startMs, firstSeq: seq });
      points.push(...trip.points);
      data.trips.push({ startMs: trip.truth.trip.startMs, endMs: trip.truth.trip.endMs });
      data.events.push(...trip.truth.events.map((e) => ({ type: e.type, startMs: e.startMs, endMs: e.endMs })));
      seq = trip.nextSeq;
      startMs = trip.truth.trip.endMs + 600_000;
    }
    data.pointsByDevice.set(deviceId, points);
  }
  const report = evaluate(data, DEFAULT_PIPELINE_CONFIG, NO_ENRICHMENT);
  assert.deepEqual(report.trips, { expected: 30, found: 30, matched: 30 });
  for (const type of ['harsh_braking', 'harsh_acceleration', 'harsh_cornering'] as const) {
    const stats = report.events[type];
    assert.ok(stats && stats.tp > 0, `${type} was injected`);
    assert.ok(stats.recall >= 0.95, `${type} recall ${stats.recall}`);
    assert.ok(stats.precision >= 0.9, `${type} precision ${stats.precision}`);
  }
});
