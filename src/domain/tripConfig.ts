/**
 * Thresholds of trip segmentation. Defaults fit 1 Hz devices and the real drives in
 * test/fixtures/nds: gaps inside a drive reach 76 s, gaps between drives start at 149 s, and
 * drivers stand still with the engine on for up to 349 s inside one drive.
 */
export interface TripConfig {
  /** A point at or above this speed counts as movement (≈ 3.6 km/h, above GPS drift while parked). */
  movingSpeedMps: number;
  /** No point for longer than this ends the trip at its last point (device or ignition off). */
  tripGapS: number;
  /** Points that keep arriving without movement for longer than this end the trip at its last moving point. */
  idleTimeoutS: number;
  /**
   * A trip opened by ignition on or power on, but not moving yet, keeps its start this long (the
   * nds logger idles up to 609 s before a drive); after that its start moves forward, so a tracker
   * that wakes up and sits does not date the next drive hours early.
   */
  maxPendingS: number;
  /** Consecutive points further apart than this are a data gap: their straight-line distance counts as gapDistanceM. */
  integrationGapS: number;
}

export const DEFAULT_TRIP_CONFIG: TripConfig = {
  movingSpeedMps: 1,
  tripGapS: 120,
  idleTimeoutS: 600,
  maxPendingS: 1800,
  integrationGapS: 10,
};
