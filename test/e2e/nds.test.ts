import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import type { TripSummary } from '../../src/domain/trip.js';
import { readNdsCsv, type NdsRow } from '../../src/sim/ndsCsv.js';
import { replayFile } from '../../src/sim/replay.js';
import { eventually, startTestPlatform, type TestPlatform } from '../../testkit/platform.js';

const NDS = fileURLToPath(new URL('../../../test/fixtures/nds/nds_data.csv.gz', import.meta.url));
const MILE_M = 1609.344;

let t: TestPlatform;
before(async () => {
  t = await startTestPlatform();
});
after(async () => {
  await t.stop();
});

/** Each drive's first and last time, and its distance as the logger measured it (its cumulative distance across the drive). */
function drivesOf(rows: NdsRow[]) {
  const drives = new Map<number, { startMs: number; endMs: number; firstCumMi: number; lastCumMi: number }>();
  for (const row of rows) {
    const drive = drives.get(row.drive);
    if (!drive) drives.set(row.drive, { startMs: row.point.tsMs, endMs: row.point.tsMs, firstCumMi: row.cumulativeDriveDistMi, lastCumMi: row.cumulativeDriveDistMi });
    else Object.assign(drive, { endMs: row.point.tsMs, lastCumMi: row.cumulativeDriveDistMi });
  }
  return [...drives.values()].map((d) => ({ ...d, distanceM: (d.lastCumMi - d.firstCumMi) * MILE_M }));
}

test('the 28 real nds drives replayed over MQTT become 28 trips with the logger distances within 2 %', { timeout: 120_000 }, async () => {
  const drives = drivesOf(await readNdsCsv(NDS));
  assert.equal(drives.length, 28);
  const sent = await replayFile({ file: NDS, ...(await t.device('nds-car')), brokerUrl: t.mqttUrl, speedup: 1e9 });
  assert.equal(sent.points, 23_187);

  const trips = await eventually(async () => {
    const page = await t.platform.search.searchTrips({ tenantId: 'demo', vehicleId: 'nds-car', status: 'completed', limit: 100 });
    return page.trips.length >= 28 ? page.trips : null;
  }, 30_000, '28 completed trips');
  assert.equal(trips.length, 28);

  const byStart = [...trips].sort((a, b) => a.startMs - b.startMs);
  const errors: string[] = [];
  drives.forEach((drive, i) => {
    const trip = byStart[i] as TripSummary;
    const distanceError = Math.abs(trip.distanceM - drive.distanceM) / drive.distanceM;
    if (distanceError > 0.02) errors.push(`drive ${i}: distance ${trip.distanceM.toFixed(0)} m vs ${drive.distanceM.toFixed(0)} m`);
    if (trip.startMs > drive.endMs || trip.endMs < drive.startMs) errors.push(`drive ${i}: trip does not overlap the drive`);
  });
  assert.deepEqual(errors, []);
});
