import type { TelemetryPoint } from '../src/domain/point.js';
import { simulateTrip } from '../src/sim/vehicleModel.js';

/**
 * A car driving, then a crash: `moving` points, and the crash message a device sends — the
 * impact (a 7 g spike) and the car standing still after it, which confirms it. The still points
 * span the cleaning's 2 s reorder window, so the confirming point is processed on arrival.
 */
export function crashScenario(deviceId: string, seed: number, t0: number): { moving: TelemetryPoint[]; crash: TelemetryPoint[]; impactMs: number } {
  const trip = simulateTrip({ deviceId, seed, startMs: t0, durationS: 60, harshEvents: {} });
  const moving = trip.points.filter((p) => (p.speedMps ?? 0) > 5).slice(0, 15).map(({ seq: _seq, ...p }) => p);
  const stop = moving[moving.length - 1]!;
  const impact = { ...stop, tsMs: stop.tsMs + 1000, accelMps2: { x: -70, y: 5, z: 9.8 }, speedMps: 2 };
  const still = [1, 2, 3].map((i) => ({ ...stop, tsMs: impact.tsMs + i * 1000, speedMps: 0, accelMps2: { x: 0, y: 0, z: 9.8 } }));
  return { moving, crash: [impact, ...still], impactMs: impact.tsMs };
}
