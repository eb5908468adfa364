/** A risky-driving event found in a trip, with what made it one. Units are in the names. */
export const DRIVING_EVENT_TYPES = ['harsh_braking', 'harsh_acceleration', 'harsh_cornering', 'speeding', 'crash', 'phone_handling'] as const;
export type DrivingEventType = (typeof DRIVING_EVENT_TYPES)[number];
export type Severity = 'low' | 'medium' | 'high';

export interface DrivingEvent {
  type: DrivingEventType;
  startMs: number;
  endMs: number;
  lat: number;
  lon: number;
  /** The peak value, in `peakUnit`: |acceleration| for harsh events and crashes, speed over the limit for speeding. */
  peak: number;
  peakUnit: 'mps2' | 'mps' | 's';
  severity: Severity;
  /** How the event was measured: 'accelerometer', 'speed', 'heading', 'device'. */
  source: string;
  /** Extra figures, e.g. { limitMps, overMps, durationS } for speeding. */
  details?: Record<string, number>;
  /** The trace of the device message whose point completed the event's detection (when traced). */
  traceId?: string;
}
