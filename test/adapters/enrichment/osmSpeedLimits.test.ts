import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { loadSpeedLimits } from '../../../src/adapters/enrichment/osmSpeedLimits.js';
import { destination } from '../../../src/domain/geo.js';

const FIXTURE = fileURLToPath(new URL('../../../../test/fixtures/osm/brussels-sample.osm', import.meta.url));
const kmh = (mps: number | undefined): number => Math.round((mps ?? 0) * 3.6);
const index = await loadSpeedLimits(FIXTURE);

test('the fixture loads its six drivable ways and skips the footway', () => {
  assert.equal(index.stats.ways, 6);
  assert.equal(index.stats.nodes, 22);
  // The motorway's 550 m segments are cut into 50 m pieces.
  assert.ok(index.stats.pieces > 40, `${index.stats.pieces} pieces`);
});

test('on the motorway, between two nodes 550 m apart: 120 km/h from OSM', () => {
  const hit = index.limitAt(50.8475, 4.365);
  assert.equal(hit?.wayId, 1001);
  assert.equal(hit?.highway, 'motorway');
  assert.equal(hit?.source, 'osm_maxspeed');
  assert.equal(kmh(hit?.limitMps), 120);
  assert.ok((hit?.distanceM ?? 99) < 1);
});

test('15 m beside a way still finds it; 40 m away finds nothing', () => {
  const near = destination(50.8475, 4.365, 90, 15);
  const hit = index.limitAt(near.lat, near.lon);
  assert.equal(hit?.wayId, 1001);
  assert.ok(Math.abs((hit?.distanceM ?? 0) - 15) < 0.5, `${hit?.distanceM}`);
  const far = destination(50.8475, 4.365, 90, 40);
  assert.equal(index.limitAt(far.lat, far.lon), null);
});

test('a primary without maxspeed falls back to its road-type default', () => {
  const hit = index.limitAt(50.85, 4.352);
  assert.equal(hit?.wayId, 1002);
  assert.equal(hit?.source, 'road_type_default');
  assert.equal(kmh(hit?.limitMps), 70);
  const service = index.limitAt(50.842, 4.3555);
  assert.deepEqual([service?.highway, service?.source, kmh(service?.limitMps)], ['service', 'road_type_default', 20]);
});

test('a residential street with maxspeed=30, and one with an implicit BE-BRU:urban limit cut at the border', () => {
  const hit = index.limitAt(50.8451, 4.3510);
  assert.deepEqual([hit?.wayId, hit?.source, kmh(hit?.limitMps)], [1003, 'osm_maxspeed', 30]);
  const cut = index.limitAt(50.8425, 4.341);
  assert.deepEqual([cut?.wayId, cut?.source, kmh(cut?.limitMps)], [1007, 'osm_maxspeed', 30]);
});

test('far from every road, or only near a footway: null', () => {
  assert.equal(index.limitAt(51.0, 4.5), null);
  assert.equal(index.limitAt(50.858, 4.3475), null);
});

test('at the bridge over the motorway, the heading picks the road', () => {
  assert.equal(index.limitAt(50.85, 4.365, 2)?.wayId, 1001);
  assert.equal(index.limitAt(50.85, 4.365, 178)?.wayId, 1001);
  assert.equal(index.limitAt(50.85, 4.365, 88)?.wayId, 1002);
  assert.equal(index.limitAt(50.85, 4.365, 265)?.wayId, 1002);
  // 8 m off the primary, on the motorway: the heading beats the nearer way.
  const p = destination(50.85, 4.365, 0, 8);
  assert.equal(index.limitAt(p.lat, p.lon)?.wayId, 1001);
  assert.equal(index.limitAt(p.lat, p.lon, 90)?.wayId, 1002);
});

test('maxspeed:forward/backward apply by direction of travel; unknown direction takes the higher', () => {
  assert.equal(kmh(index.limitAt(50.8525, 4.345, 0)?.limitMps), 50);
  assert.equal(kmh(index.limitAt(50.8525, 4.345, 180)?.limitMps), 30);
  assert.equal(kmh(index.limitAt(50.8525, 4.345)?.limitMps), 50);
});

test('reads .osm.gz, and a missing file rejects', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tripline-osm-'));
  try {
    const gz = join(dir, 'sample.osm.gz');
    writeFileSync(gz, gzipSync(readFileSync(FIXTURE)));
    const fromGz = await loadSpeedLimits(gz);
    assert.equal(fromGz.stats.ways, 6);
    assert.equal(fromGz.limitAt(50.8475, 4.365)?.wayId, 1001);
    await assert.rejects(loadSpeedLimits(join(dir, 'missing.osm.gz')));
    await assert.rejects(loadSpeedLimits(join(dir, 'missing.osm')));
    writeFileSync(join(dir, 'broken.osm'), '<osm><node id="1" lat="50" lon="4"></osm>');
    await assert.rejects(loadSpeedLimits(join(dir, 'broken.osm')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
