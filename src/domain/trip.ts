/** What is known of a trip while it runs and once it has ended. Units are in the names. */
export interface TripSummary {
  tripId: string;
  deviceId: string;
  vehicleId: string;
  tenantId: string;
  status: 'active' | 'completed';
  startMs: number;
  endMs: number;
  start: { lat: number; lon: number };
  end: { lat: number; lon: number };
  /** Distance driven while tracked: speed integrated over time (haversine where speed is missing). */
  distanceM: number;
  /** Straight-line distance across data gaps (no points for more than integrationGapS): a lower bound of what was driven unseen. */
  gapDistanceM: number;
  durationS: number;
  maxSpeedMps: number;
  meanSpeedMps: number;
  pointCount: number;
  /** Bounding box of the track, [west, south, east, north] as in GeoJSON. */
  bbox: [number, number, number, number];
  endReason: 'ignition_off' | 'gap' | 'idle' | 'live_timeout' | null;
}

/** A trip id is derived from the device and the first point's time, so replays produce the same ids. */
export function tripIdOf(deviceId: string, startMs: number): string {
  return `${deviceId}.${startMs}`;
}
