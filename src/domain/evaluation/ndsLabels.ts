/**
 * Ground truth from the nds logger (test/fixtures/nds/README.md): its device-flagged harsh events
 * and its drives. Event ids restart in every drive, so an event is a (drive, id) pair. Its type is
 * read from the axis and sign of the largest |acceleration| among its rows: y → cornering, x > 0 →
 * acceleration, x < 0 → braking (69 / 27 / 11 in the fixture).
 */
import type { NdsEventCategory, NdsRow } from '../../sim/ndsCsv.js';
import type { DrivingEventType, Severity } from '../events/drivingEvent.js';
import type { LabelledEvent } from './matchEvents.js';
import type { TripSpan } from './matchTrips.js';

const CATEGORY: Record<NdsEventCategory, Severity> = { low: 'low', med: 'medium', high: 'high' };

export interface NdsLabels {
  events: LabelledEvent[];
  /** One per drive, first to last row. */
  trips: TripSpan[];
}

interface Group {
  startMs: number;
  endMs: number;
  category?: Severity;
  peak: { axis: 'x' | 'y'; valueMps2: number } | null;
}

export function labelsFromNds(rows: NdsRow[]): NdsLabels {
  const events = new Map<string, Group>();
  const trips = new Map<number, TripSpan>();
  for (const row of rows) {
    const tsMs = row.point.tsMs;
    const trip = trips.get(row.drive);
    if (!trip) trips.set(row.drive, { startMs: tsMs, endMs: tsMs });
    else Object.assign(trip, { startMs: Math.min(trip.startMs, tsMs), endMs: Math.max(trip.endMs, tsMs) });

    if (row.accelEventId === undefined) continue;
    const key = `${row.drive}:${row.accelEventId}`;
    let group = events.get(key);
    if (!group) events.set(key, (group = { startMs: tsMs, endMs: tsMs, peak: null }));
    group.startMs = Math.min(group.startMs, tsMs);
    group.endMs = Math.max(group.endMs, tsMs);
    if (row.accelEventCat) group.category = CATEGORY[row.accelEventCat];
    const accel = row.point.accelMps2;
    if (!accel) continue;
    for (const [axis, valueMps2] of [['x', accel.x], ['y', accel.y]] as const) {
      if (!group.peak || Math.abs(valueMps2) > Math.abs(group.peak.valueMps2)) group.peak = { axis, valueMps2 };
    }
  }

  const labelled: LabelledEvent[] = [];
  for (const group of events.values()) {
    if (!group.peak) continue; // no accelerometer reading: no axis to type it by
    const label: LabelledEvent = { type: typeOf(group.peak), startMs: group.startMs, endMs: group.endMs };
    if (group.category) label.category = group.category;
    labelled.push(label);
  }
  return {
    events: labelled.sort((a, b) => a.startMs - b.startMs),
    trips: [...trips.values()].sort((a, b) => a.startMs - b.startMs),
  };
}

function typeOf(peak: { axis: 'x' | 'y'; valueMps2: number }): DrivingEventType {
  if (peak.axis === 'y') return 'harsh_cornering';
  return peak.valueMps2 > 0 ? 'harsh_acceleration' : 'harsh_braking';
}
