/**
 * Rounds penalty points to tenths so that they add up exactly to a given total (largest
 * remainder method). This keeps the promise an insurer makes to a customer: the points listed
 * in a breakdown sum to exactly 100 minus the score shown, with no rounding residue.
 */

/** Points rounded to tenths whose sum is exactly totalTenths / 10; raw points are scaled to it. */
export function apportionTenths(rawPoints: readonly number[], totalTenths: number): number[] {
  const rawSum = rawPoints.reduce((s, p) => s + p, 0);
  if (rawSum <= 0 || totalTenths <= 0) return rawPoints.map(() => 0);
  const exact = rawPoints.map((p) => (p * totalTenths) / rawSum);
  const floors = exact.map(Math.floor);
  let missing = totalTenths - floors.reduce((s, f) => s + f, 0);
  // Hand the remaining tenths to the largest fractional parts, earlier factors first on ties.
  const order = exact.map((e, i) => ({ i, frac: e - Math.floor(e) })).sort((a, b) => b.frac - a.frac || a.i - b.i);
  for (const { i } of order) {
    if (missing <= 0) break;
    floors[i] = (floors[i] ?? 0) + 1;
    missing--;
  }
  return floors.map((t) => t / 10);
}

/** Tenths of a point, the precision of every published score and penalty. */
export function toTenths(points: number): number {
  return Math.round(points * 10);
}
