import assert from 'node:assert/strict';
import { test } from 'node:test';
import { labelsFromNds } from '../../../src/domain/evaluation/ndsLabels.js';
import { readNdsCsv, type NdsRow } from '../../../src/sim/ndsCsv.js';

const G = 9.80665;
const row = (drive: number, s: number, x: number, y: number, id?: number, cat?: 'low' | 'med' | 'high'): NdsRow => {
  const r: NdsRow = { drive, point: { tsMs: s * 1000, lat: 41, lon: -96, accelMps2: { x: x * G, y: y * G, z: G } }, cumulativeDriveDistMi: 0 };
  if (id !== undefined) r.accelEventId = id;
  if (cat) r.accelEventCat = cat;
  return r;
};

test('events are (drive, id) pairs typed by the axis and sign of their peak', () => {
  const rows = [
    row(1, 0, 0, 0),
    row(1, 1, -0.4, 0.1, 1, 'low'),
    row(1, 2, 0.2, 0.47, 2, 'med'),
    row(1, 3, 0.36, -0.3, 2, 'med'), // same event, y still the peak
    row(2, 100, 0.61, 0, 1, 'high'), // id 1 again, another drive: another event
    row(2, 101, 0, 0),
  ];
  const { events, trips } = labelsFromNds(rows);
  assert.deepEqual(events, [
    { type: 'harsh_braking', startMs: 1000, endMs: 1000, category: 'low' },
    { type: 'harsh_cornering', startMs: 2000, endMs: 3000, category: 'medium' },
    { type: 'harsh_acceleration', startMs: 100_000, endMs: 100_000, category: 'high' },
  ]);
  assert.deepEqual(trips, [
    { startMs: 0, endMs: 3000 },
    { startMs: 100_000, endMs: 101_000 },
  ]);
});

test('the fixture holds 107 labelled events over 28 drives, all with a category', async () => {
  const rows = await readNdsCsv(new URL('../../../../test/fixtures/nds/nds_data.csv.gz', import.meta.url));
  const { events, trips } = labelsFromNds(rows);
  assert.equal(events.length, 107);
  assert.equal(trips.length, 28);
  assert.ok(events.every((e) => e.category !== undefined));
});
