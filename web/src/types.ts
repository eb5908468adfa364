/** The API's shapes the dashboard reads (see /openapi.json). */
export type EventType = 'harsh_braking' | 'harsh_acceleration' | 'harsh_cornering' | 'speeding' | 'crash' | 'phone_handling';
export const EVENT_TYPES: EventType[] = ['harsh_braking', 'harsh_acceleration', 'harsh_cornering', 'speeding', 'crash', 'phone_handling'];

export interface DrivingEvent {
  type: EventType;
  startMs: number;
  endMs: number;
  lat: number;
  lon: number;
  peak: number;
  peakUnit: 'mps2' | 'mps' | 's';
  severity: 'low' | 'medium' | 'high';
  source: string;
  details?: Record<string, number>;
  traceId?: string;
}

export interface ScoreFactor {
  factor: string;
  group: 'behaviour' | 'exposure';
  value: number;
  unit: string;
  points: number;
  explanation: string;
}

export interface Trip {
  tripId: string;
  deviceId: string;
  vehicleId: string;
  driverId: string | null;
  policyId: string | null;
  status: 'active' | 'completed';
  startMs: number;
  endMs: number;
  start: { lat: number; lon: number };
  end: { lat: number; lon: number };
  distanceM: number;
  durationS: number;
  maxSpeedMps: number;
  meanSpeedMps: number;
  pointCount: number;
  bbox: [number, number, number, number];
  endReason: string | null;
  events: DrivingEvent[];
  eventCounts: Record<string, number>;
  exposure: { movingS: number; nightS: number; rushHourS: number; speedingS: number; roadM: Record<string, number> };
  startPlace: string | null;
  endPlace: string | null;
  timeZone: string | null;
  score: { score: number; breakdown: ScoreFactor[] } | null;
  traceIds?: string[];
  approach?: { closestMs: number; distanceM: number; lat: number; lon: number };
}

export interface TripPage {
  trips: Trip[];
  nextCursor: string | null;
}

export interface Track {
  geometry: { coordinates: Array<[number, number]> };
  properties: { timesMs: number[]; speedsMps: Array<number | null> };
}

export interface Position {
  tripId: string;
  deviceId: string;
  vehicleId: string;
  driverId: string | null;
  lat: number;
  lon: number;
  speedMps: number | null;
  atMs: number;
  tripStartMs: number;
}

export interface Alert {
  alertId: string;
  type: string;
  deviceId: string;
  vehicleId: string;
  driverId?: string | null;
  tripId?: string | null;
  startMs: number;
  receivedAtMs?: number;
  lat: number;
  lon: number;
  severity: string;
  peak: number;
  peakUnit: string;
}

export interface GroupStats {
  id: string;
  trips: number;
  distanceM: number;
  meanScore: number | null;
  events: number;
  eventsPer100Km: number | null;
}

export interface VehicleScore {
  vehicleId: string;
  score: number | null;
  trips: number;
  distanceM: number;
  windowDays: number;
  breakdown: ScoreFactor[];
}

export interface Span {
  name: string;
  traceId: string;
  spanId: string;
  parentSpanId: string | null;
  startMs: number;
  endMs: number;
  durationMs: number;
  attributes: Record<string, unknown>;
  status: { code: 'unset' | 'ok' | 'error'; message?: string };
}
