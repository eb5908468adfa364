/**
 * The detectors on real data: the nds logger flagged 107 harsh events with its own 0.35 g rule.
 * With that rule (NDS_DEVICE_RULE) the detectors must find them; the production config is then
 * measured against the same flags (figures printed, not asserted: its thresholds differ on purpose).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DrivingEvent } from '../../../src/domain/events/drivingEvent.js';
import {
  DEFAULT_DETECTOR_CONFIG,
  NDS_DEVICE_RULE,
  flushDetectors,
  initialDetectorsState,
  stepDetectors,
  type DetectorConfig,
} from '../../../src/domain/events/detectors.js';
import { matchEventPairs, matchEvents } from '../../../src/domain/evaluation/matchEvents.js';
import { labelsFromNds } from '../../../src/domain/evaluation/ndsLabels.js';
import { readNdsCsv, type NdsRow } from '../../../src/sim/ndsCsv.js';

const FIXTURE = new URL('../../../../test/fixtures/nds/nds_data.csv.gz', import.meta.url);
const rows = await readNdsCsv(FIXTURE);
const labels = labelsFromNds(rows);

/** The whole file in time order (one car), flushing at each drive change as at a trip end. */
function detect(data: NdsRow[], config: DetectorConfig): DrivingEvent[] {
  const events: DrivingEvent[] = [];
  let state = initialDetectorsState();
  let drive: number | null = null;
  for (const row of data) {
    if (drive !== null && row.drive !== drive) {
      events.push(...flushDetectors(state));
      state = initialDetectorsState();
    }
    drive = row.drive;
    const step = stepDetectors(state, row.point, config);
    state = step.state;
    events.push(...step.events);
  }
  return [...events, ...flushDetectors(state)];
}

const harsh = (events: DrivingEvent[]) => events.filter((e) => e.type.startsWith('harsh_'));
const percent = (x: number) => `${(100 * x).toFixed(1)} %`;

test('the nds labels are the 107 flagged events: 69 lateral, 27 accelerating, 11 braking', () => {
  assert.equal(labels.events.length, 107);
  const count = (type: string) => labels.events.filter((e) => e.type === type).length;
  assert.deepEqual([count('harsh_cornering'), count('harsh_acceleration'), count('harsh_braking')], [69, 27, 11]);
  assert.equal(labels.trips.length, 28);
});

test('with the device rule (0.35 g), the detectors reproduce the flagged events and their categories', (t) => {
  const found = harsh(detect(rows, NDS_DEVICE_RULE));
  const { pairs, missed } = matchEventPairs(labels.events, found, 2000);
  const sameCategory = pairs.filter((p) => p.expected.category === p.found.severity).length;
  const stats = matchEvents(labels.events, found, 2000);
  t.diagnostic(`device rule: ${pairs.length}/107 matched within 2 s, ${sameCategory}/${pairs.length} same category, ${found.length} detected`);
  for (const [type, s] of Object.entries(stats)) t.diagnostic(`  ${type}: ${JSON.stringify(s)}`);
  for (const m of missed) t.diagnostic(`  missed ${m.type} at ${new Date(m.startMs).toISOString()}`);
  assert.ok(pairs.length >= 105, `only ${pairs.length} of 107 matched`);
  assert.ok(sameCategory >= pairs.length - 2, `${sameCategory} of ${pairs.length} categories match`);
});

test('precision and recall of the production config against the 107 flags (reported)', (t) => {
  const found = harsh(detect(rows, DEFAULT_DETECTOR_CONFIG));
  const stats = matchEvents(labels.events, found, 2000);
  t.diagnostic(`production config: ${found.length} harsh events detected`);
  for (const [type, s] of Object.entries(stats)) {
    t.diagnostic(`  ${type}: tp ${s.tp} fp ${s.fp} fn ${s.fn} precision ${percent(s.precision)} recall ${percent(s.recall)}`);
  }
  assert.ok(found.length > 0);
});
