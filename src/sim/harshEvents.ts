/**
 * Harsh driving events the vehicle model injects on purpose, with the ground truth a detector is
 * measured against. Magnitudes sit well above common thresholds (0.35 g ≈ 3.4 m/s²) and normal
 * driving in the model stays well below them (≤ 2.5 m/s²), so every labelled event is unambiguous.
 */
import type { Rng } from './random.js';

export type HarshEventType = 'harsh_braking' | 'harsh_acceleration' | 'harsh_cornering';
export const HARSH_EVENT_TYPES: readonly HarshEventType[] = ['harsh_braking', 'harsh_acceleration', 'harsh_cornering'];

/** Ground truth of one injected event: startMs/endMs are the first and last point carrying it. */
export interface HarshEventTruth {
  type: HarshEventType;
  deviceId: string;
  startMs: number;
  endMs: number;
  lat: number;
  lon: number;
  /** Largest reported |acceleration| on the event's axis (x for braking/acceleration, y for cornering), m/s². */
  peakMps2: number;
}

export interface PlannedHarshEvent {
  type: HarshEventType;
  /** Earliest trip second at which it may start; it waits until the vehicle can do it. */
  atS: number;
  durationS: number;
  /** Signed longitudinal acceleration, or the lateral magnitude for cornering. */
  accelMps2: number;
}

export type HarshEventCounts = Partial<Record<HarshEventType, number>>;

/** Keeps injected events apart so their truth windows never overlap. */
const MIN_SPACING_S = 20;

/** Spreads the requested events over the trip, leaving the first minute and the final stop clean. */
export function planHarshEvents(rng: Rng, durationS: number, counts?: HarshEventCounts): PlannedHarshEvent[] {
  const earliestS = 60;
  const latestS = durationS - 90;
  const planned: PlannedHarshEvent[] = [];
  if (latestS <= earliestS) return planned;
  for (const type of HARSH_EVENT_TYPES) {
    // Default: each type appears in about half the trips.
    const count = counts?.[type] ?? (rng.chance(0.5) ? 1 : 0);
    for (let i = 0; i < count; i++) {
      for (let attempt = 0; attempt < 50; attempt++) {
        const atS = Math.round(rng.range(earliestS, latestS));
        if (planned.every((p) => Math.abs(p.atS - atS) >= MIN_SPACING_S)) {
          planned.push(makeEvent(rng, type, atS));
          break;
        }
      }
    }
  }
  return planned.sort((a, b) => a.atS - b.atS);
}

function makeEvent(rng: Rng, type: HarshEventType, atS: number): PlannedHarshEvent {
  switch (type) {
    case 'harsh_braking':
      return { type, atS, durationS: rng.int(1, 2), accelMps2: -rng.range(4.3, 4.8) };
    case 'harsh_acceleration':
      return { type, atS, durationS: rng.int(1, 2), accelMps2: rng.range(3.9, 4.3) };
    case 'harsh_cornering':
      return { type, atS, durationS: rng.int(2, 3), accelMps2: rng.range(4.3, 4.8) };
  }
}

/** Whether the vehicle, moving at speedMps and not turning, can perform the event now. */
export function canStart(event: PlannedHarshEvent, speedMps: number, maxSpeedMps: number): boolean {
  const deltaMps = Math.abs(event.accelMps2) * event.durationS;
  switch (event.type) {
    // Must still be moving afterwards, or the last second would not be a full -4.5 m/s².
    case 'harsh_braking':
      return speedMps - deltaMps >= 2;
    case 'harsh_acceleration':
      return speedMps + deltaMps <= maxSpeedMps;
    // Lateral = speed × yaw rate: at low speed 4.5 m/s² would need an implausible yaw rate.
    case 'harsh_cornering':
      return speedMps >= 10;
  }
}
