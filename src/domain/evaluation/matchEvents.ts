/**
 * Scores detected events against labelled ones: one-to-one matching by type and time, then
 * true/false positives and negatives, precision and recall per type.
 */
import type { DrivingEvent, DrivingEventType, Severity } from '../events/drivingEvent.js';

export interface LabelledEvent {
  type: DrivingEventType;
  startMs: number;
  endMs: number;
  category?: Severity;
}

export interface EventMatchStats {
  tp: number;
  fp: number;
  fn: number;
  /** tp / (tp + fp); 1 when nothing was found (nothing claimed, nothing wrong). */
  precision: number;
  /** tp / (tp + fn); 1 when nothing was expected. */
  recall: number;
}

export interface EventPairs {
  pairs: Array<{ expected: LabelledEvent; found: DrivingEvent; gapMs: number }>;
  missed: LabelledEvent[];
  extra: DrivingEvent[];
}

/** Time between two intervals: 0 when they overlap. */
function gapMs(a: { startMs: number; endMs: number }, b: { startMs: number; endMs: number }): number {
  return Math.max(0, a.startMs - b.endMs, b.startMs - a.endMs);
}

/**
 * Pairs each labelled event with at most one found event of the same type whose interval overlaps
 * it or lies within toleranceMs. Greedy, closest pairs first (ties by start-time difference):
 * events of one type are sparse in time, so this equals an optimal assignment in practice.
 */
export function matchEventPairs(expected: LabelledEvent[], found: DrivingEvent[], toleranceMs = 2000): EventPairs {
  const candidates: Array<{ e: number; f: number; gapMs: number; startDiffMs: number }> = [];
  expected.forEach((label, e) => {
    found.forEach((event, f) => {
      if (event.type !== label.type) return;
      const gap = gapMs(label, event);
      if (gap <= toleranceMs) candidates.push({ e, f, gapMs: gap, startDiffMs: Math.abs(label.startMs - event.startMs) });
    });
  });
  candidates.sort((a, b) => a.gapMs - b.gapMs || a.startDiffMs - b.startDiffMs);
  const usedE = new Set<number>();
  const usedF = new Set<number>();
  const pairs: EventPairs['pairs'] = [];
  for (const c of candidates) {
    if (usedE.has(c.e) || usedF.has(c.f)) continue;
    usedE.add(c.e);
    usedF.add(c.f);
    pairs.push({ expected: expected[c.e]!, found: found[c.f]!, gapMs: c.gapMs });
  }
  return {
    pairs,
    missed: expected.filter((_, e) => !usedE.has(e)),
    extra: found.filter((_, f) => !usedF.has(f)),
  };
}

/** Per-type figures for every type that was expected or found. */
export function matchEvents(
  expected: LabelledEvent[],
  found: DrivingEvent[],
  toleranceMs = 2000,
): Partial<Record<DrivingEventType, EventMatchStats>> {
  const { pairs, missed, extra } = matchEventPairs(expected, found, toleranceMs);
  const counts = new Map<DrivingEventType, { tp: number; fp: number; fn: number }>();
  const count = (type: DrivingEventType) => {
    let c = counts.get(type);
    if (!c) counts.set(type, (c = { tp: 0, fp: 0, fn: 0 }));
    return c;
  };
  for (const p of pairs) count(p.expected.type).tp++;
  for (const m of missed) count(m.type).fn++;
  for (const x of extra) count(x.type).fp++;
  const result: Partial<Record<DrivingEventType, EventMatchStats>> = {};
  for (const [type, { tp, fp, fn }] of [...counts].sort(([a], [b]) => a.localeCompare(b))) {
    result[type] = { tp, fp, fn, precision: tp + fp === 0 ? 1 : tp / (tp + fp), recall: tp + fn === 0 ? 1 : tp / (tp + fn) };
  }
  return result;
}
