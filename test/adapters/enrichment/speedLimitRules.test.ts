// Pure enrichment rules (src/domain/enrichment), tested beside their adapters.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMaxspeedMps } from '../../../src/domain/enrichment/maxspeed.js';
import { chooseSpeedLimit } from '../../../src/domain/enrichment/speedLimit.js';
import { roadTypeDefaultLimitMps, isDrivableHighway } from '../../../src/domain/enrichment/roadTypeDefaults.js';

const kmh = (mps: number | null | undefined): number | null => (mps == null ? null : Math.round(mps * 3.6 * 10) / 10);

test('maxspeed values: numbers, units, implicit zones, and values without a limit', () => {
  const cases: Array<[string | undefined, number | null]> = [
    ['50', 50], ['30 mph', 48.3], ['30mph', 48.3], ['50 km/h', 50], ['10 knots', 18.5],
    ['RU:urban', 60], ['BE:urban', 50], ['BE-VLG:rural', 70], ['BE-WAL:rural', 90], ['FR:rural', 80],
    ['DE:zone30', 30], ['DE:zone:30', 30], ['GB:nsl_single', 96.6], ['GB:zone20', 32.2],
    ['walk', 7], ['50;30', 50], ['none', null], ['signals', null], ['variable', null], ['0', null],
    ['XX:weird', null], ['', null], [undefined, null],
  ];
  for (const [raw, expected] of cases) assert.equal(kmh(parseMaxspeedMps(raw)), expected, String(raw));
});

test('road-type defaults cover roads cars drive on, not footways', () => {
  assert.equal(kmh(roadTypeDefaultLimitMps('motorway')), 120);
  assert.equal(kmh(roadTypeDefaultLimitMps('living_street')), 20);
  assert.equal(roadTypeDefaultLimitMps('footway'), null);
  assert.equal(roadTypeDefaultLimitMps('constructor'), null);
  assert.equal(isDrivableHighway('residential'), true);
  assert.equal(isDrivableHighway('cycleway'), false);
  assert.equal(kmh(roadTypeDefaultLimitMps('residential', { residential: 30 })), 30);
});

test('device-sent limit wins over OSM, OSM over nothing; implausible values are ignored', () => {
  const osm = { limitMps: 50 / 3.6, source: 'osm_maxspeed' as const };
  assert.deepEqual(chooseSpeedLimit({ deviceLimitMps: 30 / 3.6, osm }), { limitMps: 30 / 3.6, source: 'device' });
  assert.deepEqual(chooseSpeedLimit({ osm }), { limitMps: 50 / 3.6, source: 'osm_maxspeed' });
  assert.deepEqual(chooseSpeedLimit({ deviceLimitMps: 0, osm }), { limitMps: 50 / 3.6, source: 'osm_maxspeed' });
  assert.deepEqual(chooseSpeedLimit({ deviceLimitMps: Number.NaN, osm: { limitMps: 20, source: 'road_type_default' } }), { limitMps: 20, source: 'road_type_default' });
  assert.equal(chooseSpeedLimit({ deviceLimitMps: null, osm: null }), null);
  assert.equal(chooseSpeedLimit({}), null);
  assert.equal(chooseSpeedLimit({ deviceLimitMps: 500 }), null);
});
