/** Trip-boundary accuracy: how many expected trips were found with both ends within a tolerance. */

export interface TripSpan {
  startMs: number;
  endMs: number;
}

export interface TripMatch {
  expected: number;
  found: number;
  /** Expected trips paired one-to-one with a found trip whose start and end each lie within the tolerance. */
  matched: number;
}

export function matchTrips(expected: TripSpan[], found: TripSpan[], toleranceMs = 60_000): TripMatch {
  const candidates: Array<{ e: number; f: number; errorMs: number }> = [];
  expected.forEach((want, e) => {
    found.forEach((got, f) => {
      const startErrMs = Math.abs(want.startMs - got.startMs);
      const endErrMs = Math.abs(want.endMs - got.endMs);
      if (startErrMs <= toleranceMs && endErrMs <= toleranceMs) candidates.push({ e, f, errorMs: startErrMs + endErrMs });
    });
  });
  // Closest pairs first, each trip used once.
  candidates.sort((a, b) => a.errorMs - b.errorMs);
  const usedE = new Set<number>();
  const usedF = new Set<number>();
  for (const c of candidates) {
    if (usedE.has(c.e) || usedF.has(c.f)) continue;
    usedE.add(c.e);
    usedF.add(c.f);
  }
  return { expected: expected.length, found: found.length, matched: usedE.size };
}
