/** Builders of synthetic 1 Hz point streams for the detector tests. */
import type { DrivingEvent } from '../src/domain/events/drivingEvent.js';
import type { Detector, EventPoint } from '../src/domain/events/eventPoint.js';

export const T0 = Date.UTC(2026, 10, 24, 8, 0, 0);
export const G = 9.80665;
export const MPH = 0.44704;

/** One point per second; `fill(i)` gives each point's fields. Position is irrelevant here. */
export function series(seconds: number, fill: (i: number) => Partial<EventPoint>): EventPoint[] {
  return Array.from({ length: seconds }, (_, i) => ({ tsMs: T0 + i * 1000, lat: 50.85 + i * 1e-4, lon: 4.35, ...fill(i) }));
}

/** Runs a detector over points, checkpointing its state through JSON at every step, then flushes. */
export function runDetector<S, C>(detector: Detector<S, C>, points: EventPoint[], config: C): { events: DrivingEvent[]; emittedAt: number[] } {
  let state = detector.initial();
  const events: DrivingEvent[] = [];
  const emittedAt: number[] = [];
  for (const point of points) {
    const step = detector.step(state, point, config);
    state = JSON.parse(JSON.stringify(step.state)) as S;
    events.push(...step.events);
    emittedAt.push(...step.events.map(() => point.tsMs));
  }
  const rest = detector.flush(state);
  return { events: [...events, ...rest], emittedAt: [...emittedAt, ...rest.map(() => Infinity)] };
}

export const accel = (x: number, y = 0) => ({ accelMps2: { x: x * G, y: y * G, z: G } });
