import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPlaceNamer } from '../../../src/adapters/enrichment/placeNames.js';

const nameOf = createPlaceNamer();

test('names the nearest place from the offline gazetteer', () => {
  const brussels = nameOf(50.85, 4.35);
  assert.equal(brussels?.name, 'Brussels');
  assert.equal(brussels?.country, 'BE');
  assert.ok((brussels?.distanceM ?? 1e9) < 1000, `${brussels?.distanceM} m`);
  const omaha = nameOf(41.25, -95.98);
  assert.deepEqual([omaha?.name, omaha?.country], ['Omaha', 'US']);
});

test('nothing within 50 km (mid-ocean) or bad coordinates: null', () => {
  assert.equal(nameOf(0, -30), null);
  assert.equal(nameOf(Number.NaN, 4), null);
});

test('population and distance limits are options', () => {
  const bigOnly = createPlaceNamer({ minPopulation: 500_000 });
  // Leuven is 25 km from Brussels: with only big cities, Leuven's centre is named after Brussels.
  assert.equal(bigOnly(50.88, 4.70)?.name, 'Brussels');
  const near = createPlaceNamer({ maxDistanceM: 100 });
  assert.equal(near(50.9, 4.6), null);
});
