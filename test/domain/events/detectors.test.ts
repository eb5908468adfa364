import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  DEFAULT_DETECTOR_CONFIG,
  flushDetectors,
  initialDetectorsState,
  stepDetectors,
  type DetectorsState,
} from '../../../src/domain/events/detectors.js';
import type { DrivingEvent } from '../../../src/domain/events/drivingEvent.js';
import { MPH, accel, series } from '../../../testkit/eventHelpers.js';

test('all detectors run side by side; a checkpoint through JSON changes nothing', () => {
  const points = series(40, (i) => ({
    speedMps: (i >= 20 && i < 34 ? 40 : 28) * MPH,
    speedLimitMps: 30 * MPH,
    phoneUse: i >= 5 && i < 8,
    ...accel(i === 10 ? -0.5 : i === 15 ? 0.4 : 0, i === 25 ? 0.5 : 0),
  }));
  const run = (checkpoint: boolean): DrivingEvent[] => {
    let state: DetectorsState = initialDetectorsState();
    const events: DrivingEvent[] = [];
    for (const point of points) {
      const step = stepDetectors(state, point, DEFAULT_DETECTOR_CONFIG);
      state = checkpoint ? (JSON.parse(JSON.stringify(step.state)) as DetectorsState) : step.state;
      events.push(...step.events);
    }
    return [...events, ...flushDetectors(state)];
  };
  const events = run(false);
  // In the order their episodes ended: the speeding stretch outlasts the corner inside it.
  assert.deepEqual(
    events.map((e) => e.type),
    ['phone_handling', 'harsh_braking', 'harsh_acceleration', 'harsh_cornering', 'speeding'],
  );
  assert.deepEqual(run(true), events);
});
