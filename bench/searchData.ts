/**
 * Synthetic, deterministic trip documents and tracks for the search benchmark (bench/search.ts):
 * a fleet around Brussels over 90 days. Trips are planned cheaply first (a "plan" per trip: vehicle,
 * start time, distance, speed, a seed); each document and its track are then built on demand from
 * the plan's seed, so 110,000 tracks never sit in memory at once and any trip can be rebuilt later
 * (to pick a point on its track for a query).
 */
import type { DrivingEvent, DrivingEventType, Severity } from '../src/domain/events/drivingEvent.js';
import { scoreTrip } from '../src/domain/scoring/tripScore.js';
import { tripIdOf, type TripSummary } from '../src/domain/trip.js';
import type { TrackPoint } from '../src/ports/searchIndex.js';
import { tripDoc } from '../testkit/searchIndexContract.js';
import { rng } from './support.js';

export const CENTER = { lat: 50.85, lon: 4.35 } as const;
/** Starts fall within CENTER ± this many degrees (long trips may drive out of it). */
export const SPREAD_DEG = 0.3;
export const DAY_MS = 86_400_000;
/** The 90 days end here (exclusive): 2026-11-24T00:00Z. */
const END_MS = Date.UTC(2026, 10, 24);
export const DAYS = 90;
export const BEGIN_MS = END_MS - DAYS * DAY_MS;
/** Tracks keep at most this many points (one every 10 s, sparser for long trips) to bound the seeding time. */
export const MAX_TRACK_POINTS = 120;
const M_PER_DEG = 111_320;

/** Belgian towns in and around the area: the place names of starts and ends (nearest within 12 km). */
export const TOWNS: ReadonlyArray<{ name: string; lat: number; lon: number }> = [
  { name: 'Brussels', lat: 50.8467, lon: 4.3525 },
  { name: 'Ixelles', lat: 50.8333, lon: 4.3667 },
  { name: 'Schaerbeek', lat: 50.867, lon: 4.373 },
  { name: 'Anderlecht', lat: 50.836, lon: 4.308 },
  { name: 'Uccle', lat: 50.8, lon: 4.337 },
  { name: 'Vilvoorde', lat: 50.928, lon: 4.425 },
  { name: 'Zaventem', lat: 50.883, lon: 4.473 },
  { name: 'Machelen', lat: 50.9108, lon: 4.4378 },
  { name: 'Mechelen', lat: 51.0259, lon: 4.4776 },
  { name: 'Leuven', lat: 50.8798, lon: 4.7005 },
  { name: 'Aalst', lat: 50.9378, lon: 4.0403 },
  { name: 'Halle', lat: 50.7339, lon: 4.2345 },
  { name: 'Waterloo', lat: 50.7147, lon: 4.3997 },
  { name: 'Wavre', lat: 50.717, lon: 4.6011 },
  { name: 'Ottignies-Louvain-la-Neuve', lat: 50.668, lon: 4.612 },
  { name: 'Nivelles', lat: 50.5981, lon: 4.3287 },
  { name: "Braine-l'Alleud", lat: 50.6833, lon: 4.3667 },
  { name: 'Tubize', lat: 50.6933, lon: 4.2034 },
  { name: 'Ninove', lat: 50.8281, lon: 4.0253 },
  { name: 'Dilbeek', lat: 50.8483, lon: 4.2597 },
  { name: 'Asse', lat: 50.9105, lon: 4.1983 },
  { name: 'Grimbergen', lat: 50.9344, lon: 4.3722 },
  { name: 'Tervuren', lat: 50.8239, lon: 4.5144 },
  { name: 'Overijse', lat: 50.7742, lon: 4.5361 },
  { name: 'Kortenberg', lat: 50.8833, lon: 4.5333 },
  { name: 'Willebroek', lat: 51.0603, lon: 4.3603 },
  { name: 'Londerzeel', lat: 51.0086, lon: 4.3014 },
  { name: 'Rixensart', lat: 50.7114, lon: 4.5297 },
  { name: 'Genappe', lat: 50.6117, lon: 4.4514 },
  { name: 'Gembloux', lat: 50.5614, lon: 4.6983 },
  { name: 'Sint-Pieters-Leeuw', lat: 50.7819, lon: 4.2436 },
  { name: 'Antwerpen', lat: 51.2194, lon: 4.4025 },
  { name: 'Gent', lat: 51.0543, lon: 3.7174 },
  { name: 'Namur', lat: 50.4674, lon: 4.8718 },
  { name: 'Charleroi', lat: 50.4108, lon: 4.4446 },
];

export interface TenantSpec {
  tenantId: string;
  vehicles: number;
  trips: number;
  /** Prefix of vehicle and device ids, distinct per tenant. */
  prefix: string;
}

/** What is decided up front for a trip; everything else is built from `seed`. */
export interface TripPlan {
  tenantId: string;
  vehicleId: string;
  deviceId: string;
  /** Who drove (null when unknown) and the vehicle's policy. */
  driverId: string | null;
  policyId: string;
  /** Where this vehicle usually starts from. */
  homeLat: number;
  homeLon: number;
  startMs: number;
  endMs: number;
  distanceM: number;
  /** Seconds between track points (10, more for long trips), and how many points. */
  stepS: number;
  points: number;
  seed: number;
}

export interface BuiltTrip {
  trip: TripSummary;
  track: TrackPoint[];
}

const clamp = (x: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, x));
const r6 = (x: number): number => Math.round(x * 1e6) / 1e6;

/** Standard normal from two uniforms (Box–Muller). */
function normal(random: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

function pick<T>(random: () => number, weighted: ReadonlyArray<readonly [T, number]>): T {
  const total = weighted.reduce((s, [, w]) => s + w, 0);
  let x = random() * total;
  for (const [value, w] of weighted) if ((x -= w) < 0) return value;
  return weighted[weighted.length - 1]![0];
}

/** Brussels' UTC offset in minutes (CEST until the last Sunday of October 2026). */
export const utcOffsetMin = (tsMs: number): number => (tsMs < Date.UTC(2026, 9, 25, 1) ? 120 : 60);

/** Local hour of day (fractional) in Brussels. */
const localHour = (tsMs: number): number => ((((tsMs + utcOffsetMin(tsMs) * 60_000) % DAY_MS) + DAY_MS) % DAY_MS) / 3_600_000;

/** A local start hour: commuting peaks, daytime, evening, a little night driving. */
function startHour(random: () => number): number {
  const part = pick(random, [['am', 0.22], ['pm', 0.24], ['day', 0.3], ['evening', 0.16], ['night', 0.08]] as const);
  switch (part) {
    case 'am': return clamp(8 + normal(random) * 0.7, 6, 10);
    case 'pm': return clamp(17.3 + normal(random) * 0.9, 15, 20);
    case 'day': return 9.5 + random() * 6.5;
    case 'evening': return 19 + random() * 3;
    case 'night': return (22 + random() * 8) % 24;
  }
}

/** A position around the centre, denser near it (normal, clipped to the spread). */
function aroundCenter(random: () => number): { lat: number; lon: number } {
  return {
    lat: CENTER.lat + clamp(normal(random) * 0.12, -SPREAD_DEG, SPREAD_DEG),
    lon: CENTER.lon + clamp(normal(random) * 0.14, -SPREAD_DEG, SPREAD_DEG),
  };
}

/**
 * Plans every trip of the tenants: each vehicle gets trips/vehicles trips spread over the 90 days,
 * never overlapping, at realistic hours. Distances are log-normal (median ~9 km, 1–80 km), mean
 * speeds ~40 km/h (faster on longer trips). Sorted by end time: the order sync applies them in.
 */
export function planTrips(tenants: readonly TenantSpec[], seed: number): TripPlan[] {
  const random = rng(seed);
  const plans: TripPlan[] = [];
  for (const tenant of tenants) {
    for (let v = 0; v < tenant.vehicles; v++) {
      const vehicleId = `${tenant.prefix}-veh-${String(v).padStart(4, '0')}`;
      const deviceId = `${tenant.prefix}-dev-${String(v).padStart(4, '0')}`;
      const home = aroundCenter(random);
      const policyId = `POL-${tenant.prefix}-${String(v).padStart(5, '0')}`;
      // One driver per vehicle, a second one on a quarter of them (30% of those trips); 5% of trips without a known driver.
      const drivers = [`${tenant.prefix}-drv-${String(v).padStart(4, '0')}`, ...(random() < 0.25 ? [`${tenant.prefix}-drv-${String(v).padStart(4, '0')}b`] : [])];
      const n = Math.floor(tenant.trips / tenant.vehicles) + (v < tenant.trips % tenant.vehicles ? 1 : 0);
      const starts = Array.from({ length: n }, () => {
        const day = Math.floor(random() * DAYS);
        const local = BEGIN_MS + day * DAY_MS + startHour(random) * 3_600_000;
        return Math.round(local - utcOffsetMin(local) * 60_000);
      }).sort((a, b) => a - b);
      let freeFrom = 0;
      for (const wanted of starts) {
        const distanceM = Math.round(clamp(Math.exp(Math.log(9000) + normal(random) * 0.85), 1000, 80_000));
        const speedKmh = clamp(32 + 8 * Math.log10(distanceM / 1000) + normal(random) * 5, 18, 90);
        const durationS = distanceM / (speedKmh / 3.6);
        const stepS = Math.max(10, Math.ceil(durationS / (MAX_TRACK_POINTS - 1)));
        const points = Math.max(2, Math.round(durationS / stepS) + 1);
        const startMs = Math.max(wanted, freeFrom + 300_000 + Math.round(random() * 1_500_000));
        const endMs = startMs + (points - 1) * stepS * 1000;
        freeFrom = endMs;
        plans.push({
          tenantId: tenant.tenantId, vehicleId, deviceId, policyId,
          driverId: random() < 0.05 ? null : drivers.length > 1 && random() < 0.3 ? drivers[1]! : drivers[0]!,
          homeLat: home.lat, homeLon: home.lon,
          startMs, endMs, distanceM, stepS, points, seed: Math.floor(random() * 2 ** 32),
        });
      }
    }
  }
  return plans.sort((a, b) => a.endMs - b.endMs || a.deviceId.localeCompare(b.deviceId));
}

function nearestTown(lat: number, lon: number): string | null {
  let best: string | null = null;
  let bestM = 12_000;
  for (const town of TOWNS) {
    const m = Math.hypot((town.lat - lat) * M_PER_DEG, (town.lon - lon) * M_PER_DEG * Math.cos((lat * Math.PI) / 180));
    if (m < bestM) (best = town.name), (bestM = m);
  }
  return best;
}

/** The track: a straight or gently turning line from the start, one point every `stepS`, speeds varying around the mean. */
function buildTrack(plan: TripPlan, random: () => number): TrackPoint[] {
  const start = random() < 0.5 ? { lat: plan.homeLat + normal(random) * 0.003, lon: plan.homeLon + normal(random) * 0.003 } : aroundCenter(random);
  // Half the trips head roughly towards the centre (commutes), the rest anywhere.
  const towardCenter = (Math.atan2((CENTER.lon - start.lon) * Math.cos((start.lat * Math.PI) / 180), CENTER.lat - start.lat) * 180) / Math.PI;
  let heading = random() < 0.5 ? towardCenter + normal(random) * 50 : random() * 360;
  const turnSd = random() < 0.3 ? 0 : 1 + random() * 4; // degrees per step
  const steps = plan.points - 1;
  const weights = Array.from({ length: steps }, () => clamp(1 + normal(random) * 0.25, 0.3, 1.8));
  const totalW = weights.reduce((s, w) => s + w, 0);
  const track: TrackPoint[] = [{ tsMs: plan.startMs, lat: start.lat, lon: start.lon }];
  let { lat, lon } = start;
  for (let i = 0; i < steps; i++) {
    const stepM = (plan.distanceM * weights[i]!) / totalW;
    heading += normal(random) * turnSd;
    const h = (heading * Math.PI) / 180;
    lat += (stepM * Math.cos(h)) / M_PER_DEG;
    lon += (stepM * Math.sin(h)) / (M_PER_DEG * Math.cos((lat * Math.PI) / 180));
    track.push({ tsMs: plan.startMs + (i + 1) * plan.stepS * 1000, lat: r6(lat), lon: r6(lon) });
  }
  return track;
}

const EVENT_TYPES: ReadonlyArray<readonly [DrivingEventType, number]> = [
  ['harsh_braking', 0.3], ['harsh_acceleration', 0.22], ['harsh_cornering', 0.17], ['speeding', 0.23], ['phone_handling', 0.075], ['crash', 0.005],
];
const SEVERITIES: ReadonlyArray<readonly [Severity, number]> = [['low', 0.6], ['medium', 0.3], ['high', 0.1]];
const SEVERITY_WEIGHT: Record<Severity, number> = { low: 1, medium: 2, high: 3 };

/** 0–6 events, more on longer trips, of mixed types and severities, at points of the track. */
function buildEvents(track: TrackPoint[], distanceM: number, random: () => number): DrivingEvent[] {
  const mean = 0.5 + distanceM / 25_000;
  let k = 0; // Poisson by inversion, capped at 6
  for (let p = Math.exp(-mean), s = p, u = random(); u > s && k < 6; ) (k++, (p *= mean / k), (s += p));
  const events: DrivingEvent[] = [];
  for (let i = 0; i < k; i++) {
    const at = track[Math.floor(random() * track.length)]!;
    const type = pick(random, EVENT_TYPES);
    const severity: Severity = type === 'crash' ? 'high' : pick(random, SEVERITIES);
    const base = { type, severity, startMs: at.tsMs, lat: at.lat, lon: at.lon };
    if (type === 'speeding') {
      const limitMps = pick(random, [[8.33, 0.3], [13.89, 0.35], [19.44, 0.15], [33.33, 0.2]] as const);
      const overMps = r6(1.5 + random() * (severity === 'low' ? 3 : severity === 'medium' ? 6 : 12));
      const durationS = Math.round(8 + random() * 50);
      events.push({ ...base, endMs: at.tsMs + durationS * 1000, peak: overMps, peakUnit: 'mps', source: 'speed',
        details: { limitMps, speedMps: r6(limitMps + overMps), overMps, durationS } });
    } else if (type === 'phone_handling') {
      const durationS = Math.round(5 + random() * 60);
      events.push({ ...base, endMs: at.tsMs + durationS * 1000, peak: durationS, peakUnit: 's', source: 'device', details: { durationS } });
    } else {
      const peak = r6((type === 'crash' ? 25 : 3) + random() * (severity === 'low' ? 1.5 : severity === 'medium' ? 3 : 6));
      const durationS = Math.round((0.5 + random() * 2.5) * 10) / 10;
      events.push({ ...base, endMs: at.tsMs + Math.round(durationS * 1000), peak, peakUnit: 'mps2', source: 'accelerometer',
        details: type === 'harsh_cornering' ? { durationS, turnDeg: Math.round(40 + random() * 80) } : { durationS } });
    }
  }
  return events.sort((a, b) => a.startMs - b.startMs);
}

/** The completed trip document and its track, built from the plan (the same every time). */
export function buildTrip(plan: TripPlan): BuiltTrip {
  const random = rng(plan.seed);
  const track = buildTrack(plan, random);
  const first = track[0]!;
  const last = track[track.length - 1]!;
  const events = buildEvents(track, plan.distanceM, random);
  const eventCounts: Partial<Record<DrivingEventType, number>> = {};
  for (const e of events) eventCounts[e.type] = (eventCounts[e.type] ?? 0) + 1;
  const durationS = (plan.endMs - plan.startMs) / 1000;
  const movingS = Math.round(durationS * (0.85 + random() * 0.12));
  const startHourLocal = localHour(plan.startMs);
  const night = startHourLocal >= 22 || startHourLocal < 6;
  const rush = (startHourLocal >= 7 && startHourLocal < 9.5) || (startHourLocal >= 16 && startHourLocal < 19);
  const speedingShare = random() < 0.5 ? 0 : clamp(-Math.log(1 - random()) * 0.05, 0, 0.6);
  const nightS = night ? Math.round(movingS * (0.6 + random() * 0.4)) : 0;
  const rushHourS = rush ? Math.round(movingS * (0.5 + random() * 0.5)) : 0;
  const speedingS = Math.round(movingS * speedingShare);
  const motorway = plan.distanceM > 15_000 ? 0.3 + random() * 0.5 : random() * 0.2;
  const residential = (1 - motorway) * (0.3 + random() * 0.4);
  const roadM = {
    motorway: Math.round(plan.distanceM * motorway),
    primary: Math.round(plan.distanceM * (1 - motorway - residential) * 0.6),
    secondary: Math.round(plan.distanceM * (1 - motorway - residential) * 0.4),
    residential: Math.round(plan.distanceM * residential),
  };
  // The breakdown comes from the real scorer (realistic document size); the score itself is drawn so the
  // fleet spans 30–100 as insurers see it, falling with weighted events, speeding and night driving.
  const { breakdown } = scoreTrip({
    distanceM: plan.distanceM, durationS, nightS, rushHourS, speedingS, movingS, events,
    roadShare: Object.fromEntries(Object.entries(roadM).map(([k, m]) => [k, m / plan.distanceM])),
  });
  const weighted = events.reduce((s, e) => s + SEVERITY_WEIGHT[e.severity], 0);
  const score = Math.round(clamp(99 - weighted * 4.5 - speedingShare * 60 - (nightS / Math.max(1, movingS)) * 6 - Math.abs(normal(random)) * 6, 30, 100) * 10) / 10;
  const lats = track.map((p) => p.lat);
  const lons = track.map((p) => p.lon);
  const meanSpeedMps = plan.distanceM / Math.max(1, movingS);
  const trip = tripDoc(tripIdOf(plan.deviceId, plan.startMs), plan.startMs, {
    tenantId: plan.tenantId, vehicleId: plan.vehicleId, deviceId: plan.deviceId, driverId: plan.driverId, policyId: plan.policyId, status: 'completed',
    endMs: plan.endMs, start: { lat: first.lat, lon: first.lon }, end: { lat: last.lat, lon: last.lon },
    distanceM: plan.distanceM, gapDistanceM: 0, durationS, maxSpeedMps: r6(meanSpeedMps * (1.4 + random() * 0.8)), meanSpeedMps: r6(meanSpeedMps),
    pointCount: Math.round(durationS) + 1, bbox: [Math.min(...lons), Math.min(...lats), Math.max(...lons), Math.max(...lats)],
    endReason: pick(random, [['ignition_off', 0.85], ['gap', 0.1], ['idle', 0.05]] as const),
    events, eventCounts, exposure: { movingS, nightS, rushHourS, speedingS, roadM },
    startPlace: nearestTown(first.lat, first.lon), endPlace: nearestTown(last.lat, last.lon), timeZone: 'Europe/Brussels',
    score: { score, breakdown }, enrichmentFailures: [],
  });
  return { trip, track };
}

/** Lower-case ASCII prefixes (3–5 letters) of the towns' first words, as a user would type them. */
export function townPrefix(random: () => number): string {
  const town = TOWNS[Math.floor(random() * TOWNS.length)]!;
  const word = town.name.normalize('NFD').replace(/[^A-Za-z]+.*$/, '').toLowerCase();
  return word.slice(0, Math.min(word.length, 3 + Math.floor(random() * 3)));
}
