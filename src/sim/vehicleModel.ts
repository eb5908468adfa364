/**
 * A pure vehicle model: seed + start position + start time in, one 1 Hz trip and its ground
 * truth out. No I/O and no clock, so a test or the fleet simulator gets the same trip every time.
 *
 * Kinematics are integrated, never faked: speed is the integral of the longitudinal acceleration
 * the points report, position follows the trapezoid of speed along the mean heading of each second,
 * and lateral acceleration is speed × yaw rate. Only the reported IMU values carry noise.
 */
import { destination } from '../domain/geo.js';
import type { TelemetryPoint } from '../domain/point.js';
import { canStart, planHarshEvents, type HarshEventCounts, type HarshEventTruth, type PlannedHarshEvent } from './harshEvents.js';
import { createRng, type Rng } from './random.js';

export const BRUSSELS = { lat: 50.85, lon: 4.35 } as const;
export const URBAN_SPEED_MPS = 13.9;
export const MAX_SPEED_MPS = 33.4;
const GRAVITY_MPS2 = 9.81;
/** Normal driving never exceeds these, so only injected events look harsh. */
const COMFORT_LATERAL_MPS2 = 2.5;
const MAX_YAW_RATE_RADPS = 0.35;
/** How fast the yaw rate may change: turns ease in and out instead of jumping. */
const YAW_ACCEL_RADPS2 = 0.15;
const FINAL_IDLE_S = 3;

export interface TripTruth {
  deviceId: string;
  startMs: number;
  endMs: number;
  /** Trapezoid integral of the reported speeds: how the platform measures distance. */
  distanceM: number;
  pointCount: number;
}

export interface SimulatedTrip {
  points: TelemetryPoint[];
  truth: { trip: TripTruth; events: HarshEventTruth[] };
  /** The seq the device's next trip starts from. */
  nextSeq: number;
}

export interface TripOptions {
  deviceId: string;
  seed: number;
  startMs: number;
  /** Default: a random place within 15 km of Brussels, random heading. */
  start?: { lat: number; lon: number; headingDeg?: number };
  /** Driving time before the final stop, which adds under 30 s. Default: 5–20 min from the seed. */
  durationS?: number;
  firstSeq?: number;
  /** Events to inject per type; default about half the trips get one of each type. */
  harshEvents?: HarshEventCounts;
}

/** A uniformly random position within radiusM of a centre (uniform over the disc, not the radius). */
export function spawnPosition(rng: Rng, centre: { lat: number; lon: number } = BRUSSELS, radiusM = 15_000): { lat: number; lon: number } {
  return destination(centre.lat, centre.lon, rng.range(0, 360), radiusM * Math.sqrt(rng.next()));
}

const round = (value: number, digits: number): number => Math.round(value * 10 ** digits) / 10 ** digits;

export function simulateTrip(opts: TripOptions): SimulatedTrip {
  const rng = createRng(opts.seed);
  const spawn = opts.start ?? spawnPosition(rng);
  const durationS = opts.durationS ?? rng.int(300, 1200);
  const pending = planHarshEvents(rng, durationS, opts.harshEvents);
  const points: TelemetryPoint[] = [];
  const events: HarshEventTruth[] = [];
  let seq = opts.firstSeq ?? 0;

  let lat = spawn.lat;
  let lon = spawn.lon;
  let headingDeg = opts.start?.headingDeg ?? rng.range(0, 360); // unwrapped; reported mod 360
  let speedMps = 0;
  let yawRadps = 0; // counter-clockwise positive (z up), so a right turn is negative
  let mode: 'waiting' | 'drive' | 'stopping' | 'ending' | 'parked' = 'waiting';
  let waitS = rng.int(2, 5); // engine on, not yet moving
  let brakeMps2 = 2;
  let targetMps = URBAN_SPEED_MPS;
  let comfortAccelMps2 = rng.range(1.2, 2.0);
  let segmentEndS = rng.range(60, 300);
  let nextLightM = rng.range(300, 1200);
  let sinceStopM = 0;
  let turnRemainingRad = 0;
  let nextTurnS = rng.range(15, 60);
  let active: { plan: PlannedHarshEvent; leftS: number; truth: HarshEventTruth; sign: number } | undefined;

  const emit = (tsMs: number, accelXMps2: number, ignition: boolean): TelemetryPoint => {
    const point: TelemetryPoint = {
      tsMs,
      lat: round(lat, 7),
      lon: round(lon, 7),
      speedMps: round(speedMps, 2),
      headingDeg: round(((headingDeg % 360) + 360) % 360, 1),
      accuracyM: round(Math.max(2, rng.normal(5, 1)), 1),
      accelMps2: {
        x: round(accelXMps2 + rng.normal(0, 0.08), 3),
        y: round(speedMps * yawRadps + rng.normal(0, 0.08), 3),
        z: round(GRAVITY_MPS2 + rng.normal(0, 0.05), 3),
      },
      gyroRadps: { x: round(rng.normal(0, 0.005), 4), y: round(rng.normal(0, 0.005), 4), z: round(yawRadps + rng.normal(0, 0.005), 4) },
      ignition,
      seq: seq++,
    };
    points.push(point);
    return point;
  };

  emit(opts.startMs, 0, true);
  for (let t = 1; ; t++) {
    const tsMs = opts.startMs + t * 1000;
    if (t >= durationS && mode !== 'ending' && mode !== 'parked') mode = 'ending';

    // Start a due injected event once the vehicle is cruising and able to perform it.
    if (!active && mode === 'drive' && turnRemainingRad === 0) {
      const index = pending.findIndex((p) => p.atS <= t && canStart(p, speedMps, MAX_SPEED_MPS));
      const plan = pending[index];
      if (plan) {
        pending.splice(index, 1);
        const truth = { type: plan.type, deviceId: opts.deviceId, startMs: tsMs, endMs: tsMs, lat: 0, lon: 0, peakMps2: 0 };
        active = { plan, leftS: plan.durationS, truth, sign: rng.chance(0.5) ? 1 : -1 };
      }
    }
    const cornering = active?.plan.type === 'harsh_cornering';

    // Longitudinal acceleration for this second; speed is its exact integral.
    let accelMps2: number;
    // A harsh corner holds its speed: braking through it would need an ever larger yaw rate.
    if (active) accelMps2 = cornering ? 0 : active.plan.accelMps2;
    else if (mode === 'drive') {
      accelMps2 = Math.max(-1.5, Math.min(comfortAccelMps2, 0.5 * (targetMps - speedMps)));
      if (Math.abs(targetMps - speedMps) < 1) accelMps2 += rng.normal(0, 0.1); // cruise wobble
    } else if (mode === 'stopping' || mode === 'ending') accelMps2 = -Math.min(brakeMps2, speedMps);
    else accelMps2 = 0;
    const prevSpeedMps = speedMps;
    speedMps = Math.max(0, Math.min(MAX_SPEED_MPS, speedMps + accelMps2));
    accelMps2 = speedMps - prevSpeedMps;

    // Yaw rate: the injected corner, else ease toward the planned turn within a lateral limit.
    const yawLimitRadps = Math.min(MAX_YAW_RATE_RADPS, COMFORT_LATERAL_MPS2 / Math.max(speedMps, 1));
    if (active && cornering) yawRadps = (active.sign * active.plan.accelMps2) / speedMps;
    else {
      const remaining = Math.abs(turnRemainingRad);
      const wantedRadps = Math.sign(turnRemainingRad) * Math.min(yawLimitRadps, Math.sqrt(2 * YAW_ACCEL_RADPS2 * remaining));
      const step = Math.max(-YAW_ACCEL_RADPS2, Math.min(YAW_ACCEL_RADPS2, wantedRadps - yawRadps));
      yawRadps = Math.max(-yawLimitRadps, Math.min(yawLimitRadps, yawRadps + step));
      if (speedMps === 0) yawRadps = 0; // a stopped car does not turn
      if (turnRemainingRad !== 0) {
        const left = turnRemainingRad - yawRadps;
        turnRemainingRad = Math.abs(left) < 0.02 || Math.sign(left) !== Math.sign(turnRemainingRad) ? 0 : left;
      }
    }
    const prevHeadingDeg = headingDeg;
    headingDeg -= (yawRadps * 180) / Math.PI;
    const stepM = (prevSpeedMps + speedMps) / 2;
    ({ lat, lon } = destination(lat, lon, (prevHeadingDeg + headingDeg) / 2, stepM));
    sinceStopM += stepM;

    const point = emit(tsMs, accelMps2, true);
    if (active) {
      const reported = cornering ? point.accelMps2!.y : point.accelMps2!.x;
      if (active.leftS === active.plan.durationS) Object.assign(active.truth, { lat: point.lat, lon: point.lon });
      active.truth.endMs = tsMs;
      active.truth.peakMps2 = Math.max(active.truth.peakMps2, round(Math.abs(reported), 3));
      if (--active.leftS === 0) {
        events.push(active.truth);
        active = undefined;
      }
    }

    // Plan the next seconds: segments, traffic lights, turns, the final stop.
    if (mode === 'waiting' && --waitS <= 0) mode = 'drive';
    else if (mode === 'stopping' && speedMps === 0) {
      mode = 'waiting';
      waitS = rng.int(10, 40);
      sinceStopM = 0;
      comfortAccelMps2 = rng.range(1.2, 2.0);
    } else if (mode === 'ending' && speedMps === 0 && !active) {
      mode = 'parked';
      waitS = FINAL_IDLE_S;
    } else if (mode === 'parked' && --waitS <= 0) break;
    else if (mode === 'drive' && !active) {
      if (t >= segmentEndS) {
        targetMps = rng.chance(0.7) ? URBAN_SPEED_MPS : rng.range(25, 33);
        segmentEndS = t + rng.range(60, 300);
      }
      if (targetMps === URBAN_SPEED_MPS && sinceStopM >= nextLightM) {
        mode = 'stopping';
        brakeMps2 = rng.range(1.5, 2.5);
        nextLightM = rng.range(300, 1200);
      }
      if (t >= nextTurnS && turnRemainingRad === 0 && speedMps > 3) {
        turnRemainingRad = (rng.chance(0.5) ? 1 : -1) * rng.range(15, 90) * (Math.PI / 180);
        nextTurnS = t + rng.range(20, 90);
      }
    }
  }

  // The device reports ignition off once parked: one last point, still at rest.
  yawRadps = 0;
  emit(opts.startMs + points.length * 1000, 0, false);
  const last = points[points.length - 1]!;
  let distanceM = 0;
  for (let i = 1; i < points.length; i++) distanceM += ((points[i - 1]!.speedMps ?? 0) + (points[i]!.speedMps ?? 0)) / 2;
  return {
    points,
    truth: {
      trip: { deviceId: opts.deviceId, startMs: opts.startMs, endMs: last.tsMs, distanceM: round(distanceM, 2), pointCount: points.length },
      events,
    },
    nextSeq: seq,
  };
}
