/**
 * The search benchmark: query latency of the embedded search store (SqliteSearchIndex) at fleet scale.
 * Seeds a fresh store with 100,000 completed trips of one tenant (500 vehicles, 90 days around Brussels,
 * a track per trip) plus 10,000 of a second tenant, then runs ~200 randomized queries per family and
 * reports p50 / p99 / max, measured around the port call.
 * Run: `npx tsc -p tsconfig.json && node dist/bench/search.js [--trips N] [--queries N] [--keep] [--tracks-via-apply] [--analyze]`
 * (`--keep` leaves the seeded search.db in place, for EXPLAIN QUERY PLAN; `--analyze` runs ANALYZE after seeding,
 * which the store itself never does, to compare the planner's choices with statistics; see TRACKS_VIA_APPLY for the other).
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { SqliteSearchIndex } from '../src/adapters/embedded/sqliteSearchIndex.js';
import { trackPieces } from '../src/adapters/embedded/trackPieces.js';
import type { DrivingEventType } from '../src/domain/events/drivingEvent.js';
import type { TrackPoint, TripQuery } from '../src/ports/searchIndex.js';
import { change } from '../testkit/searchIndexContract.js';
import { machine } from './harness.js';
import { BEGIN_MS, buildTrip, DAY_MS, DAYS, planTrips, townPrefix, type TenantSpec, type TripPlan } from './searchData.js';
import { percentile, progress, rng, round } from './support.js';

const { values: args } = parseArgs({
  options: {
    trips: { type: 'string', default: '100000' },
    queries: { type: 'string', default: '200' },
    keep: { type: 'boolean', default: false },
    'tracks-via-apply': { type: 'boolean', default: false },
    analyze: { type: 'boolean', default: false },
  },
});
const TRIPS = Number(args.trips);
/**
 * apply(changes, tracks) deletes a trip's old pieces with `DELETE FROM track_pieces WHERE trip_id = ?`, a full
 * scan of the R*Tree (trip_id is an auxiliary column): seeding slows quadratically (38 trips/s at 11,000 trips).
 * Unless --tracks-via-apply, documents go through apply(changes) and the pieces are written beside it with the
 * adapter's own trackPieces() and INSERT, so the store holds exactly what apply would have written; the cost of
 * apply() with tracks at full size is measured separately on a few trips.
 */
const TRACKS_VIA_APPLY = args['tracks-via-apply'];
const APPLY_PROBE_TRIPS = 10;
const QUERIES = Number(args.queries);
const BATCH = 1000;
const PAGE = 50;
/** A family stops early once it has spent this long (aggregations may be slow); n says how many ran. */
const FAMILY_BUDGET_MS = 20_000;
const WARMUP = 5;
const DEEP = { walks: 20, pages: 20 } as const;
const MAIN = 'fleet-a';
const SMALL = 'fleet-b';
const TENANTS: TenantSpec[] = [
  { tenantId: MAIN, vehicles: 500, trips: TRIPS, prefix: 'a' },
  { tenantId: SMALL, vehicles: 50, trips: Math.round(TRIPS / 10), prefix: 'b' },
];
const M_PER_DEG = 111_320;

interface FamilyFigures {
  label: string;
  n: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  meanMs: number;
  /** Mean number of results (trips, events, hits, vehicles) per query. */
  meanRows: number;
  /** Share of queries that returned nothing. */
  emptyShare: number;
  stoppedEarly: boolean;
  extra?: Record<string, number>;
}

/** One query to time: parameters are drawn before the clock starts; run() is the port call and returns its result count. */
type Prepared = { run: () => Promise<number>; after?: (rows: number) => void };

async function family(label: string, prepare: (random: () => number) => Prepared, seed: number, n = QUERIES): Promise<FamilyFigures> {
  const random = rng(seed);
  for (let i = 0; i < WARMUP; i++) await prepare(random).run();
  const times: number[] = [];
  const rows: number[] = [];
  const started = performance.now();
  let stoppedEarly = false;
  for (let i = 0; i < n; i++) {
    if (performance.now() - started > FAMILY_BUDGET_MS) {
      stoppedEarly = true;
      break;
    }
    const query = prepare(random);
    const t0 = performance.now();
    const count = await query.run();
    times.push(performance.now() - t0);
    rows.push(count);
    query.after?.(count);
  }
  const figures: FamilyFigures = {
    label, n: times.length,
    p50Ms: round(percentile(times, 50), 2), p99Ms: round(percentile(times, 99), 2), maxMs: round(Math.max(...times), 2),
    meanMs: round(times.reduce((s, t) => s + t, 0) / times.length, 2),
    meanRows: round(rows.reduce((s, r) => s + r, 0) / rows.length, 1),
    emptyShare: round(rows.filter((r) => r === 0).length / rows.length, 3),
    stoppedEarly,
  };
  progress(`${label}: n=${figures.n} p50 ${figures.p50Ms} ms, p99 ${figures.p99Ms} ms, max ${figures.maxMs} ms, ${figures.meanRows} rows`);
  return figures;
}

function fileBytes(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

async function main(): Promise<void> {
  const host = machine('NORMAL');
  console.log(
    `machine: ${host.cpu}, ${host.cores} cores, ${host.memGiB} GiB, node ${host.node}, SQLite ${host.sqlite} ` +
      `synchronous=${host.synchronous} (search store), data in ${host.tmpdir}`,
  );
  const benchStarted = performance.now();
  const dir = mkdtempSync(join(os.tmpdir(), 'tripline-search-bench-'));
  const dbPath = join(dir, 'search.db');
  const index = new SqliteSearchIndex(dbPath, 'NORMAL');

  // 1. Seed: plans first (cheap), then documents and tracks built batch by batch, applied in end-time order as sync would.
  const plans = planTrips(TENANTS, 42);
  const byTenant = (tenantId: string): TripPlan[] => plans.filter((p) => p.tenantId === tenantId);
  const mainPlans = byTenant(MAIN);
  const smallPlans = byTenant(SMALL);
  progress(`seeding ${plans.length.toLocaleString('en-US')} trips (${mainPlans.length} of ${MAIN}, ${smallPlans.length} of ${SMALL}) in batches of ${BATCH}`);
  const side = new Database(dbPath);
  side.pragma('busy_timeout = 5000');
  const pieceStmt = {
    id: side.prepare('SELECT id FROM trips WHERE trip_id = ?').pluck(),
    insert: side.prepare('INSERT INTO track_pieces (west, east, south, north, trip_id, start_ms, end_ms, points) VALUES (?, ?, ?, ?, ?, ?, ?, ?)'),
  };
  const insertPieces = side.transaction((built: ReadonlyArray<{ trip: { tripId: string }; track: TrackPoint[] }>) => {
    for (const b of built) {
      const id = pieceStmt.id.get(b.trip.tripId) as number;
      for (const p of trackPieces(b.track)) pieceStmt.insert.run(p.west, p.east, p.south, p.north, id, p.startMs, p.endMs, p.points);
    }
  });
  if (!TRACKS_VIA_APPLY) progress('tracks: pieces written beside apply(changes) (apply with tracks scans the whole R*Tree per trip; --tracks-via-apply to use it anyway)');
  let buildMs = 0;
  let applyMs = 0;
  let piecesMs = 0;
  let events = 0;
  let trackPoints = 0;
  const seedStarted = performance.now();
  for (let from = 0; from < plans.length; from += BATCH) {
    const t0 = performance.now();
    const built = plans.slice(from, from + BATCH).map(buildTrip);
    const changes = built.map((b, i) => change(from + i + 1, 1, b.trip));
    const tracks = new Map<string, TrackPoint[]>(built.map((b) => [b.trip.tripId, b.track]));
    for (const b of built) (events += b.trip.events.length), (trackPoints += b.track.length);
    const t1 = performance.now();
    await index.apply(changes, TRACKS_VIA_APPLY ? tracks : undefined);
    const t2 = performance.now();
    if (!TRACKS_VIA_APPLY) insertPieces(built);
    buildMs += t1 - t0;
    applyMs += t2 - t1;
    piecesMs += performance.now() - t2;
    const done = Math.min(plans.length, from + BATCH);
    if ((done / BATCH) % 10 === 0 || done === plans.length) {
      progress(`seeded ${done.toLocaleString('en-US')}/${plans.length.toLocaleString('en-US')} trips, ${Math.round(done / (applyMs / 1000))} trips/s in apply${TRACKS_VIA_APPLY ? ' (with tracks)' : `, ${Math.round(done / (piecesMs / 1000))} trips/s of pieces`}, db ${Math.round((fileBytes(dbPath) + fileBytes(`${dbPath}-wal`)) / 2 ** 20)} MiB`);
    }
  }
  const seedS = (performance.now() - seedStarted) / 1000;
  const walBeforeCheckpoint = fileBytes(`${dbPath}-wal`);

  // Sizes: checkpoint the WAL into the file from a second connection, then per-table pages (dbstat).
  side.pragma('wal_checkpoint(TRUNCATE)');
  const dbBytes = fileBytes(dbPath);
  const count = (sql: string): number => (side.prepare(sql).get() as { n: number }).n;
  const stored = {
    storedTrips: count('SELECT COUNT(*) AS n FROM trips'),
    storedEvents: count('SELECT COUNT(*) AS n FROM trip_events'),
    trackPieces: count('SELECT COUNT(*) AS n FROM track_pieces'),
  };
  let tableMiB: Record<string, number> = {};
  try {
    const rows = side.prepare('SELECT name, SUM(pgsize) AS bytes FROM dbstat GROUP BY name ORDER BY bytes DESC').all() as Array<{ name: string; bytes: number }>;
    tableMiB = Object.fromEntries(rows.filter((r) => r.bytes >= 2 ** 20).map((r) => [r.name, round(r.bytes / 2 ** 20, 1)]));
  } catch {
    progress('no dbstat in this SQLite build: per-table sizes skipped');
  }
  // apply() with tracks on the full store: a few trips re-applied as version 2 with their tracks (the update path).
  const probeRandom = rng(99);
  const probeBuilt = Array.from({ length: APPLY_PROBE_TRIPS }, () => buildTrip(mainPlans[Math.floor(probeRandom() * mainPlans.length)]!));
  const probeT0 = performance.now();
  await index.apply(probeBuilt.map((b, i) => change(plans.length + i + 1, 2, b.trip)), new Map(probeBuilt.map((b) => [b.trip.tripId, b.track])));
  const applyWithTracksMsPerTrip = (performance.now() - probeT0) / APPLY_PROBE_TRIPS;
  progress(`apply() with tracks at ${plans.length.toLocaleString('en-US')} trips: ${round(applyWithTracksMsPerTrip, 1)} ms per trip (${APPLY_PROBE_TRIPS} trips re-applied)`);
  const deleteT0 = performance.now();
  side.prepare('DELETE FROM track_pieces WHERE trip_id = -1').run();
  const deletePiecesMs = performance.now() - deleteT0;
  let analyzeMs: number | null = null;
  if (args.analyze) {
    const t0 = performance.now();
    side.exec('ANALYZE');
    analyzeMs = round(performance.now() - t0, 1);
    progress(`ANALYZE in ${analyzeMs} ms`);
  }
  side.pragma('wal_checkpoint(TRUNCATE)');
  side.close();
  const seeding = {
    trips: plans.length, mainTrips: mainPlans.length, smallTenantTrips: smallPlans.length, vehicles: TENANTS.reduce((s, t) => s + t.vehicles, 0), days: DAYS,
    events, trackPoints, meanTrackPoints: round(trackPoints / plans.length, 1), ...stored,
    seconds: round(seedS, 2), tripsPerS: Math.round(plans.length / seedS), applyTripsPerS: Math.round(plans.length / (applyMs / 1000)),
    buildSeconds: round(buildMs / 1000, 2), applySeconds: round(applyMs / 1000, 2), piecesSeconds: round(piecesMs / 1000, 2),
    tracksViaApply: TRACKS_VIA_APPLY, analyzeMs, applyWithTracksMsPerTrip: round(applyWithTracksMsPerTrip, 2), deletePiecesOfOneTripMs: round(deletePiecesMs, 2),
    dbBytes, dbMiB: round(dbBytes / 2 ** 20, 1), walBytesBeforeCheckpoint: walBeforeCheckpoint, bytesPerTrip: Math.round(dbBytes / plans.length), tableMiB,
  };
  progress(`seeded in ${seeding.seconds} s (${seeding.tripsPerS} trips/s overall, ${seeding.applyTripsPerS} in apply); search.db ${seeding.dbMiB} MiB`);

  // 2. Query families, warm, randomized.
  const randomPlan = (random: () => number, from: readonly TripPlan[] = mainPlans): TripPlan => from[Math.floor(random() * from.length)]!;
  const randomWindow = (random: () => number, days: number): { fromMs: number; toMs: number } => {
    const fromMs = BEGIN_MS + Math.floor(random() * (DAYS - days) * DAY_MS);
    return { fromMs, toMs: fromMs + days * DAY_MS };
  };
  const box = (lat: number, lon: number, halfM: number): [number, number, number, number] => {
    const dLat = halfM / M_PER_DEG;
    const dLon = halfM / (M_PER_DEG * Math.cos((lat * Math.PI) / 180));
    return [lon - dLon, lat - dLat, lon + dLon, lat + dLat];
  };
  const trips = (q: TripQuery) => async () => (await index.searchTrips(q)).trips.length;
  const q = (over: Omit<TripQuery, 'tenantId' | 'limit'>, tenantId = MAIN): TripQuery => ({ tenantId, limit: PAGE, ...over });
  const results: Record<string, FamilyFigures> = {};
  const run = async (key: string, label: string, prepare: (random: () => number) => Prepared, seed: number, n?: number): Promise<void> => {
    results[key] = await family(label, prepare, seed, n);
  };

  await run('vehicleWindow', 'vehicle + window (1-30 d), newest first', (r) => ({
    run: trips(q({ vehicleId: randomPlan(r).vehicleId, ...randomWindow(r, 1 + Math.floor(r() * 30)) })),
  }), 1);
  await run('windowScoreAsc', 'window (1-14 d), sort score asc', (r) => ({
    run: trips(q({ ...randomWindow(r, 1 + Math.floor(r() * 14)), sort: 'score', order: 'asc' })),
  }), 2);
  await run('scoreAscAll', 'no window, sort score asc|desc (whole tenant)', (r) => ({
    run: trips(q({ sort: 'score', order: r() < 0.5 ? 'asc' : 'desc' })),
  }), 3);
  await run('scoreDistance', 'score range + distance range', (r) => {
    const min = 30 + r() * 55;
    const dMin = 1000 + r() * 19_000;
    return { run: trips(q({ score: { min, max: min + 5 + r() * 25 }, distanceM: { min: dMin, max: dMin * (1.5 + r() * 2.5) } })) };
  }, 4);
  await run('eventsBraking2', 'events harsh_braking >= 2 (30 d window)', (r) => ({
    run: trips(q({ events: { types: ['harsh_braking'], minEvents: 2 }, ...randomWindow(r, 30) })),
  }), 5);
  await run('eventsBraking2All', 'events harsh_braking >= 2 (no window, fixed)', () => ({
    run: trips(q({ events: { types: ['harsh_braking'], minEvents: 2 } })),
  }), 6, 50);
  await run('eventsHigh7d', 'events severity high, 7 d window', (r) => ({
    run: trips(q({ events: { severity: 'high' }, ...randomWindow(r, 7) })),
  }), 7);
  await run('placePrefix', 'place text prefix (3-5 letters)', (r) => {
    const text = townPrefix(r);
    return { run: trips(q({ placeText: text })) };
  }, 8);
  await run('bbox2km', 'start/end in a 2 km box', (r) => {
    const b = buildTrip(randomPlan(r)).trip;
    const at = r() < 0.5 ? b.start : b.end;
    return { run: trips(q({ bbox: box(at.lat, at.lon, 1000) })) };
  }, 9);
  const nearProbe = (tenantPlans: readonly TripPlan[], tenantId: string) => {
    let found = 0;
    let asked = 0;
    return {
      stats: () => ({ selfFoundShare: round(found / Math.max(1, asked), 3) }),
      prepare: (r: () => number): Prepared => {
        const b = buildTrip(randomPlan(r, tenantPlans));
        const p = b.track[Math.floor(r() * b.track.length)]!;
        const query = { tenantId, lat: p.lat, lon: p.lon, radiusM: 200, fromMs: p.tsMs - 1_800_000, toMs: p.tsMs + 1_800_000, limit: 100 };
        let self = false;
        return {
          run: async () => {
            const hits = await index.nearTracks(query);
            self = hits.some((h) => h.tripId === b.trip.tripId);
            return hits.length;
          },
          after: () => void (asked++, self && found++),
        };
      },
    };
  };
  const nearMain = nearProbe(mainPlans, MAIN);
  await run('nearTracks', 'nearTracks 200 m, 1 h window', nearMain.prepare, 10);
  results.nearTracks!.extra = nearMain.stats();
  const eventAt = (r: () => number, from: readonly TripPlan[]): { lat: number; lon: number } => {
    for (;;) {
      const e = buildTrip(randomPlan(r, from)).trip.events;
      if (e.length > 0) return e[Math.floor(r() * e.length)]!;
    }
  };
  await run('eventsBbox2km', 'searchEvents in a 2 km box (hotspot)', (r) => {
    const at = eventAt(r, mainPlans);
    return { run: async () => (await index.searchEvents({ tenantId: MAIN, bbox: box(at.lat, at.lon, 1000), limit: PAGE })).events.length };
  }, 11);
  const TYPES: DrivingEventType[] = ['harsh_braking', 'harsh_acceleration', 'harsh_cornering', 'speeding', 'phone_handling'];
  await run('eventsType7d', 'searchEvents by type, 7 d window', (r) => {
    const w = randomWindow(r, 7);
    const types = [TYPES[Math.floor(r() * TYPES.length)]!];
    return { run: async () => (await index.searchEvents({ tenantId: MAIN, types, ...w, limit: PAGE })).events.length };
  }, 12);
  await run('vehicleStats30d', "groupStats 'vehicle', 30 d (all vehicles)", (r) => {
    const w = randomWindow(r, 30);
    return { run: async () => (await index.groupStats({ tenantId: MAIN, ...w }, 'vehicle')).length };
  }, 13);
  await run('driverStats30d', "groupStats 'driver', 30 d (all drivers)", (r) => {
    const w = randomWindow(r, 30);
    return { run: async () => (await index.groupStats({ tenantId: MAIN, ...w }, 'driver')).length };
  }, 20);
  await run('fleetStats30d', 'fleetStats, 30 d', (r) => {
    const w = randomWindow(r, 30);
    return { run: async () => (await index.fleetStats({ tenantId: MAIN, ...w })).trips };
  }, 14);

  // The small tenant: the same spatial and text questions, to see what the big tenant's rows cost it.
  const small = SMALL;
  await run('small.placePrefix', `[${small}] place text prefix`, (r) => ({ run: trips(q({ placeText: townPrefix(r) }, small)) }), 15, 100);
  await run('small.bbox2km', `[${small}] start/end in a 2 km box`, (r) => {
    const b = buildTrip(randomPlan(r, smallPlans)).trip;
    return { run: trips(q({ bbox: box(b.start.lat, b.start.lon, 1000) }, small)) };
  }, 16, 100);
  const nearSmall = nearProbe(smallPlans, small);
  await run('small.nearTracks', `[${small}] nearTracks 200 m, 1 h window`, nearSmall.prepare, 17, 100);
  results['small.nearTracks']!.extra = nearSmall.stats();
  await run('small.eventsBbox2km', `[${small}] searchEvents in a 2 km box`, (r) => {
    const at = eventAt(r, smallPlans);
    return { run: async () => (await index.searchEvents({ tenantId: small, bbox: box(at.lat, at.lon, 1000), limit: PAGE })).events.length };
  }, 18, 100);

  // 3. Deep paging: follow nextCursor 20 pages on the time sort (newest first), from random window ends.
  progress(`deep paging: ${DEEP.walks} walks x ${DEEP.pages} pages of ${PAGE}`);
  const pageMs: number[][] = Array.from({ length: DEEP.pages }, () => []);
  const walkRandom = rng(19);
  for (let w = 0; w < DEEP.walks + 2; w++) {
    const toMs = BEGIN_MS + 20 * DAY_MS + Math.floor(walkRandom() * (DAYS - 20) * DAY_MS);
    let cursor: string | undefined;
    for (let p = 0; p < DEEP.pages; p++) {
      const t0 = performance.now();
      const page = await index.searchTrips({ tenantId: MAIN, toMs, limit: PAGE, ...(cursor ? { cursor } : {}) });
      const ms = performance.now() - t0;
      if (w >= 2) pageMs[p]!.push(ms); // the first two walks warm up
      cursor = page.nextCursor ?? undefined;
      if (!cursor) break; // only with a small --trips: the walk ran out of trips
    }
  }
  const allPages = pageMs.flat();
  const deepPaging = {
    walks: DEEP.walks, pages: DEEP.pages, limit: PAGE,
    p50Ms: round(percentile(allPages, 50), 2), p99Ms: round(percentile(allPages, 99), 2), maxMs: round(Math.max(...allPages), 2),
    perPageP50Ms: pageMs.map((t) => round(percentile(t, 50), 2)),
    perPageMaxMs: pageMs.map((t) => (t.length ? round(Math.max(...t), 2) : NaN)),
  };
  progress(`deep paging: p50 ${deepPaging.p50Ms} ms, page 1 ${deepPaging.perPageP50Ms[0]} ms, page 20 ${deepPaging.perPageP50Ms[DEEP.pages - 1]} ms`);

  await index.close();
  if (args.keep) progress(`kept ${dbPath}`);
  else rmSync(dir, { recursive: true, force: true });
  const totalS = round((performance.now() - benchStarted) / 1000);

  // 4. Report.
  const num = (v: number, digits = 0): string => (Number.isNaN(v) ? 'n/a' : round(v, digits).toLocaleString('en-US'));
  console.log(
    `\nseeded ${seeding.trips.toLocaleString('en-US')} trips (${seeding.mainTrips.toLocaleString('en-US')} + ${seeding.smallTenantTrips.toLocaleString('en-US')} of a 2nd tenant), ` +
      `${seeding.vehicles} vehicles, ${DAYS} days; ${seeding.events.toLocaleString('en-US')} events; ${seeding.trackPoints.toLocaleString('en-US')} track points ` +
      `(${seeding.meanTrackPoints}/trip) in ${seeding.trackPieces.toLocaleString('en-US')} pieces`,
  );
  console.log(
    `seeding: ${num(seeding.tripsPerS)} trips/s overall, ${num(seeding.applyTripsPerS)} trips/s in apply(${TRACKS_VIA_APPLY ? 'changes, tracks' : 'changes'}) (${seeding.applySeconds} s of ${seeding.seconds} s` +
      (TRACKS_VIA_APPLY ? '); ' : `; pieces written beside it in ${seeding.piecesSeconds} s); `) +
      `search.db ${seeding.dbMiB} MiB (${num(seeding.bytesPerTrip)} B/trip)` +
      (analyzeMs !== null ? `; ANALYZE run after seeding (${analyzeMs} ms)` : '; no ANALYZE (as the store runs)') +
      (Object.keys(tableMiB).length ? `; MiB by table/index: ${Object.entries(tableMiB).map(([k, v]) => `${k} ${v}`).join(', ')}` : ''),
  );
  console.log(
    `apply(changes, tracks) on the full store: ${num(seeding.applyWithTracksMsPerTrip, 1)} ms per trip (${num(1000 / seeding.applyWithTracksMsPerTrip, 1)} trips/s; ` +
      `${APPLY_PROBE_TRIPS} trips re-applied); DELETE FROM track_pieces WHERE trip_id = ? alone: ${num(seeding.deletePiecesOfOneTripMs, 1)} ms (full R*Tree scan)`,
  );
  const rows: string[][] = [['query family (limit 50)', 'n', 'p50 ms', 'p99 ms', 'max ms', 'mean ms', 'rows', 'empty']];
  for (const f of Object.values(results)) {
    rows.push([f.label + (f.stoppedEarly ? ' (budget)' : ''), String(f.n), num(f.p50Ms, 2), num(f.p99Ms, 2), num(f.maxMs, 2), num(f.meanMs, 2), num(f.meanRows, 1), `${Math.round(f.emptyShare * 100)}%`]);
  }
  rows.push([`deep paging, time sort, ${DEEP.walks} walks x ${DEEP.pages} pages (all pages)`, String(allPages.length), num(deepPaging.p50Ms, 2), num(deepPaging.p99Ms, 2), num(deepPaging.maxMs, 2), '', '50', '']);
  for (const p of [1, 2, 5, 10, 15, 20]) {
    rows.push([`  page ${p}`, String(pageMs[p - 1]!.length), num(deepPaging.perPageP50Ms[p - 1]!, 2), '', num(deepPaging.perPageMaxMs[p - 1]!, 2), '', '', '']);
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  console.log('');
  for (const r of rows) console.log(r.map((cell, c) => (c === 0 ? cell.padEnd(widths[0]!) : cell.padStart(widths[c]!))).join('  '));
  console.log(
    `nearTracks: ${results.nearTracks!.meanRows} trips per query on average (the probed trip itself found in ${Math.round((results.nearTracks!.extra?.selfFoundShare ?? 0) * 100)}%); ` +
      `rows = trips, events, hits, vehicles/drivers (groupStats) or trips counted (fleetStats). p99 of n=50 is its maximum (nearest rank). Total ${totalS} s.`,
  );
  console.log(JSON.stringify({ bench: 'search', machine: host, seeding, queries: results, deepPaging, totalS }));
}

main().then(
  () => progress('done'),
  (error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  },
);
