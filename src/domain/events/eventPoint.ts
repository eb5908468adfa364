import type { TelemetryPoint } from '../point.js';
import type { DrivingEvent } from './drivingEvent.js';

/**
 * A cleaned point as the detectors see it: the telemetry plus what enrichment or the device adds.
 * Absent fields are unknown, never zero: no limit means no speeding verdict.
 */
export type EventPoint = TelemetryPoint & {
  /** Posted limit at the point, from enrichment or the device. */
  speedLimitMps?: number;
  /** The device's own verdict that the driver is handling the phone. */
  phoneUse?: boolean;
};

/**
 * A detector is a pure state machine over one device's points in time order. State is plain
 * JSON (it is checkpointed with the trip). After flush, start again from initial().
 */
export interface Detector<S, C> {
  initial(): S;
  step(state: S, point: EventPoint, config: C): { state: S; events: DrivingEvent[] };
  flush(state: S): DrivingEvent[];
}
