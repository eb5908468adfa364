import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { readNdsCsv } from '../../src/sim/ndsCsv.js';

// Tests run from dist/test/sim/, three levels below the repository root.
const FIXTURE = fileURLToPath(new URL('../../../test/fixtures/nds/nds_data.csv.gz', import.meta.url));

test('the nds CSV has 23,187 rows, 28 drives and 107 device-flagged events', async () => {
  const rows = await readNdsCsv(FIXTURE);
  assert.equal(rows.length, 23_187);
  assert.equal(new Set(rows.map((r) => r.drive)).size, 28);
  // Event ids restart in every drive, so an event is a (drive, id) pair.
  assert.equal(new Set(rows.flatMap((r) => (r.accelEventId === undefined ? [] : [`${r.drive}:${r.accelEventId}`]))).size, 107);
  for (const r of rows) if (r.accelEventId !== undefined) assert.ok(r.accelEventCat, 'every event row has a category');
});

test('rows are converted to SI units in file order', async () => {
  const rows = await readNdsCsv(FIXTURE);
  const first = rows[0]!;
  // 1.0,2019-05-23T20:54:11Z,...,gps_hdop 2.5, speed_mph 30.4658289340253, accel -0.174,-0.04,1.191, gyro 0.94,1.38,-0.31
  assert.equal(first.drive, 1);
  assert.equal(first.point.tsMs, Date.parse('2019-05-23T20:54:11Z'));
  assert.equal(first.point.lat, 41.25786972);
  assert.equal(first.point.lon, -95.98425293);
  assert.ok(Math.abs(first.point.speedMps! - 30.4658289340253 * 0.44704) < 1e-9);
  assert.ok(Math.abs(first.point.headingDeg! - 270.880005) < 1e-9);
  assert.equal(first.point.accuracyM, 12.5);
  assert.ok(Math.abs(first.point.accelMps2!.z - 1.191 * 9.80665) < 1e-9);
  assert.ok(Math.abs(first.point.gyroRadps!.x - (0.94 * Math.PI) / 180) < 1e-12);
  assert.equal(first.point.ignition, undefined);
  rows.forEach((r, i) => {
    assert.equal(r.point.seq, i);
    assert.ok(r.point.headingDeg! >= 0 && r.point.headingDeg! < 360);
    if (i > 0) assert.ok(r.point.tsMs > rows[i - 1]!.point.tsMs, 'time order');
  });
  // One row of drive 30 has no IMU data: it keeps its fix but no accel or gyro.
  assert.equal(rows.filter((r) => r.point.accelMps2 === undefined).length, 1);
});
