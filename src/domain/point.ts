/** One telemetry fix, normalised from any accepted payload format. Units are in the names. */
export interface Vector3 {
  x: number;
  y: number;
  z: number;
}

export interface TelemetryPoint {
  tsMs: number;
  lat: number;
  lon: number;
  speedMps?: number;
  headingDeg?: number;
  accuracyM?: number;
  /** Vehicle frame, m/s²: x forward, y left, z up. */
  accelMps2?: Vector3;
  /** rad/s around the vehicle axes. */
  gyroRadps?: Vector3;
  ignition?: boolean;
  seq?: number;
  /** A posted limit the device read itself (sign recognition, its own map); it wins over map data. */
  speedLimitMps?: number;
  /** The device saw the driver handle the phone at this instant. */
  phoneUse?: boolean;
}

/** Idempotency key of a point: the device sequence number when it sends one, else its timestamp. */
export function pointKey(point: TelemetryPoint): string {
  return point.seq !== undefined ? `s${point.seq}` : `t${point.tsMs}`;
}
