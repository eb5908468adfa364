/**
 * All detectors of one device, run side by side over its cleaned points in time order. Thresholds
 * come from one DetectorConfig (detectorConfig.ts documents each and its source). Crash events come
 * out on the point that confirms them; the others once their episode ends, or on flush at trip end.
 */
import { crash, type CrashState } from './crash.js';
import type { DetectorConfig } from './detectorConfig.js';
import type { DrivingEvent } from './drivingEvent.js';
import type { EventPoint } from './eventPoint.js';
import { harshAcceleration, type HarshAccelerationState } from './harshAcceleration.js';
import { harshBraking, type HarshBrakingState } from './harshBraking.js';
import { harshCornering, type HarshCorneringState } from './harshCornering.js';
import { phoneHandling, type PhoneHandlingState } from './phoneHandling.js';
import { speeding, type SpeedingState } from './speeding.js';

export { DEFAULT_DETECTOR_CONFIG, NDS_DEVICE_RULE, type DetectorConfig } from './detectorConfig.js';
export type { EventPoint } from './eventPoint.js';

export interface DetectorsState {
  harshBraking: HarshBrakingState;
  harshAcceleration: HarshAccelerationState;
  harshCornering: HarshCorneringState;
  speeding: SpeedingState;
  crash: CrashState;
  phoneHandling: PhoneHandlingState;
}

export function initialDetectorsState(): DetectorsState {
  return {
    harshBraking: harshBraking.initial(),
    harshAcceleration: harshAcceleration.initial(),
    harshCornering: harshCornering.initial(),
    speeding: speeding.initial(),
    crash: crash.initial(),
    phoneHandling: phoneHandling.initial(),
  };
}

export function stepDetectors(
  state: DetectorsState,
  point: EventPoint,
  config: DetectorConfig,
): { state: DetectorsState; events: DrivingEvent[] } {
  const braking = harshBraking.step(state.harshBraking, point, config.harshBraking);
  const acceleration = harshAcceleration.step(state.harshAcceleration, point, config.harshAcceleration);
  const cornering = harshCornering.step(state.harshCornering, point, config.harshCornering);
  const speed = speeding.step(state.speeding, point, config.speeding);
  const impact = crash.step(state.crash, point, config.crash);
  const phone = phoneHandling.step(state.phoneHandling, point, config.phoneHandling);
  return {
    state: {
      harshBraking: braking.state,
      harshAcceleration: acceleration.state,
      harshCornering: cornering.state,
      speeding: speed.state,
      crash: impact.state,
      phoneHandling: phone.state,
    },
    events: byStart([...impact.events, ...braking.events, ...acceleration.events, ...cornering.events, ...speed.events, ...phone.events]),
  };
}

/** Events still open at trip end (or device silence). Continue from initialDetectorsState() afterwards. */
export function flushDetectors(state: DetectorsState): DrivingEvent[] {
  return byStart([
    ...harshBraking.flush(state.harshBraking),
    ...harshAcceleration.flush(state.harshAcceleration),
    ...harshCornering.flush(state.harshCornering),
    ...speeding.flush(state.speeding),
    ...crash.flush(state.crash),
    ...phoneHandling.flush(state.phoneHandling),
  ]);
}

function byStart(events: DrivingEvent[]): DrivingEvent[] {
  return events.length > 1 ? events.sort((a, b) => a.startMs - b.startMs) : events;
}
