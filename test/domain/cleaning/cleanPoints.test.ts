import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  DEFAULT_CLEANING_CONFIG as CONFIG,
  cleanPoints,
  flushCleaning,
  initialCleanState,
  nextWaitEndMs,
  type CleanState,
  type CleaningConfig,
  type Rejection,
} from '../../../src/domain/cleaning/cleanPoints.js';
import { destination } from '../../../src/domain/geo.js';
import type { TelemetryPoint } from '../../../src/domain/point.js';
import { readNdsCsv } from '../../../src/sim/ndsCsv.js';

const T0 = Date.UTC(2026, 10, 24, 8, 0, 0);
const START = { lat: 50.85, lon: 4.35 };

/** 1 Hz points driving north at 15 m/s, seq = second. */
function track(seconds: number, fromS = 0): TelemetryPoint[] {
  return Array.from({ length: seconds }, (_, i) => {
    const s = fromS + i;
    const { lat, lon } = destination(START.lat, START.lon, 0, 15 * s);
    return { tsMs: T0 + s * 1000, lat, lon, speedMps: 15, seq: s };
  });
}

/** Feeds batches (each received at its newest point's time) and flushes at the end. */
function run(batches: TelemetryPoint[][], config: CleaningConfig = CONFIG, state: CleanState = initialCleanState()) {
  const accepted: TelemetryPoint[] = [];
  const rejected: Rejection[] = [];
  for (const batch of batches) {
    const receivedAtMs = Math.max(T0, ...batch.map((p) => (Number.isFinite(p.tsMs) ? p.tsMs : 0)));
    const result = cleanPoints(state, batch, receivedAtMs, config);
    state = result.state;
    accepted.push(...result.accepted);
    rejected.push(...result.rejected);
  }
  const end = flushCleaning(state, config);
  return { accepted: [...accepted, ...end.accepted], rejected: [...rejected, ...end.rejected], state: end.state };
}

const secondsOf = (points: TelemetryPoint[]) => points.map((p) => (p.tsMs - T0) / 1000);
const reasons = (rejected: Rejection[]) => rejected.map((r) => r.reason);

test('in-order points wait for the reorder window, then leave; flush releases the rest', () => {
  const first = cleanPoints(initialCleanState(), track(5), T0 + 4000, CONFIG);
  assert.deepEqual(secondsOf(first.accepted), [0, 1, 2]); // 3 and 4 are within 2 s of the newest
  assert.deepEqual(secondsOf(first.state.held), [3, 4]);
  assert.deepEqual(secondsOf(flushCleaning(first.state).accepted), [3, 4]);
});

test('a late batch within the window is merged in timestamp order', () => {
  const points = track(8);
  const { accepted, rejected } = run([[points[0]!, points[1]!, points[3]!], [points[2]!], points.slice(4)]);
  assert.deepEqual(secondsOf(accepted), [0, 1, 2, 3, 4, 5, 6, 7]);
  assert.deepEqual(rejected, []);
});

test('a point older than what already left is out_of_order; a resent one is a duplicate', () => {
  const points = track(10);
  const late = { ...points[1]!, seq: 101, tsMs: T0 + 1500 };
  const { accepted, rejected } = run([points, [late, points[2]!, { ...points[9]!, tsMs: T0 + 9999 }]]);
  assert.equal(accepted.length, 10);
  assert.deepEqual(reasons(rejected), ['out_of_order', 'duplicate', 'duplicate']); // same ts; then same seq
});

test('each bad fix is rejected under its own reason', () => {
  const [a, b, c] = track(3);
  const bad: TelemetryPoint[] = [
    { ...a!, lat: Number.NaN, seq: 50 },
    { ...a!, lat: 0, lon: 0.0000001, seq: 51 },
    { ...a!, tsMs: T0 + 301_000 + 2000, seq: 52 },
    { ...a!, tsMs: T0 + 500, accuracyM: 150, seq: 53 },
  ];
  const result = cleanPoints(initialCleanState(), [a!, b!, c!, ...bad], T0 + 2000, CONFIG);
  assert.deepEqual(reasons(result.rejected), ['invalid', 'null_island', 'future', 'poor_accuracy']);
  assert.equal(result.accepted.length + flushCleaning(result.state).accepted.length, 3);
});

test('past fixes are kept by default (replays are legitimate) and rejected when maxPastS is set', () => {
  const old = track(3).map((p) => ({ ...p, tsMs: p.tsMs - 86_400_000 }));
  assert.equal(run([old]).accepted.length, 3);
  const strict = { ...CONFIG, maxPastS: 3600 };
  const result = cleanPoints(initialCleanState(), old, T0, strict);
  assert.deepEqual(reasons(result.rejected), ['past', 'past', 'past']);
});

test('a single jump is a teleport; the track resumes after it', () => {
  const points = track(6);
  points[3] = { ...points[3]!, lat: points[3]!.lat + 0.1 }; // 11 km in one second
  const { accepted, rejected } = run([points]);
  assert.deepEqual(secondsOf(accepted), [0, 1, 2, 4, 5]);
  assert.deepEqual(reasons(rejected), ['teleport']);
});

test('when the anchor was the bad fix, a run of more than 5 jumps re-anchors', () => {
  const points = track(10);
  points[0] = { ...points[0]!, lon: points[0]!.lon + 0.2 }; // the first fix is the wild one
  const { accepted, rejected } = run([points]);
  assert.deepEqual(reasons(rejected), Array(5).fill('teleport'));
  assert.deepEqual(secondsOf(accepted), [0, 6, 7, 8, 9]);
});

test('a jump after a long gap is not judged: the car may have been moved', () => {
  const points = [...track(2), { ...track(1, 400)[0]!, lat: 51.5 }];
  assert.equal(run([points]).accepted.length, 3);
});

test('the buffer stays bounded: beyond maxHeldPoints the oldest leave early', () => {
  const config = { ...CONFIG, reorderWindowS: 10_000 };
  const result = cleanPoints(initialCleanState(), track(1000), T0 + 1_000_000, config);
  assert.equal(result.state.held.length, config.maxHeldPoints);
  assert.deepEqual(secondsOf(result.accepted), Array.from({ length: 400 }, (_, i) => i));
});

test('every point is accounted for once; state survives JSON; batching does not change the outcome', () => {
  const clean = track(120);
  const messy: TelemetryPoint[] = [];
  clean.forEach((p, i) => {
    messy.push(p);
    if (i % 7 === 0) messy.push({ ...p }); // resend
    if (i % 11 === 0) messy.push({ ...p, lat: 0, lon: 0, tsMs: p.tsMs + 1, seq: 10_000 + i });
    if (i % 13 === 0) messy.push({ ...p, tsMs: p.tsMs + 400, seq: 20_000 + i, lat: p.lat + 1 }); // jump
  });
  // Swap neighbours so some arrive late within the window.
  for (let i = 5; i + 1 < messy.length; i += 9) [messy[i], messy[i + 1]] = [messy[i + 1]!, messy[i]!];

  const whole = run([messy]);
  assert.equal(whole.accepted.length + whole.rejected.length, messy.length);
  assert.deepEqual(secondsOf(whole.accepted), secondsOf(clean));

  // The same stream in batches of 5, with the state checkpointed as JSON between batches.
  let state = initialCleanState();
  const accepted: TelemetryPoint[] = [];
  const rejected: Rejection[] = [];
  for (let i = 0; i < messy.length; i += 5) {
    const batch = messy.slice(i, i + 5);
    const result = cleanPoints(state, batch, Math.max(...batch.map((p) => p.tsMs)), CONFIG);
    state = JSON.parse(JSON.stringify(result.state)) as CleanState;
    accepted.push(...result.accepted);
    rejected.push(...result.rejected);
  }
  const end = flushCleaning(state, CONFIG);
  assert.deepEqual(secondsOf([...accepted, ...end.accepted]), secondsOf(whole.accepted));
  assert.deepEqual(reasons([...rejected, ...end.rejected]).sort(), reasons(whole.rejected).sort());
});

test('cleaning does not touch its input state (pure)', () => {
  const state = initialCleanState();
  const before = JSON.stringify(state);
  cleanPoints(state, track(5), T0 + 5000, CONFIG);
  assert.equal(JSON.stringify(state), before);
});

test('the 28 real nds drives lose no point', async () => {
  const rows = await readNdsCsv(new URL('../../../../test/fixtures/nds/nds_data.csv.gz', import.meta.url));
  const { accepted, rejected } = run(rows.map((r) => [r.point]));
  assert.deepEqual(rejected, []);
  assert.equal(accepted.length, rows.length);
});

/** Messages of 10 points, each received 2 s after the previous one, cleaned in the given order. */
function messagesInOrder(order: number[], config: CleaningConfig, points = track(60), from: CleanState = initialCleanState()) {
  let state = from;
  const accepted: TelemetryPoint[] = [];
  const rejected: Rejection[] = [];
  order.forEach((m, i) => {
    const result = cleanPoints(state, points.slice(m * 10, m * 10 + 10), T0 + i * 2000, config);
    state = JSON.parse(JSON.stringify(result.state)) as CleanState; // checkpointed between messages
    accepted.push(...result.accepted);
    rejected.push(...result.rejected);
  });
  return { accepted, rejected, state };
}

const WAITING = { ...CONFIG, seqGapWaitS: 30 };
/** A device whose seqs up to 9 were released already. */
const known = (): CleanState => flushCleaning(cleanPoints(initialCleanState(), track(10), T0, WAITING).state, WAITING).state;

test('seqGapWaitS: a message overtaken by the next one (cluster ingest) is merged, not judged out of order', () => {
  const order = [1, 3, 2, 4, 6, 5];
  assert.deepEqual(reasons(messagesInOrder(order, CONFIG, track(70), known()).rejected), Array(20).fill('out_of_order'), 'without the wait: lost');
  const { accepted, rejected, state } = messagesInOrder(order, WAITING, track(70), known());
  assert.deepEqual(rejected, []);
  assert.deepEqual(secondsOf(accepted).slice(0, 40), Array.from({ length: 40 }, (_, i) => i + 10), 'in order, without waiting for the wait to end');
  assert.deepEqual(secondsOf([...accepted, ...flushCleaning(state, WAITING).accepted]), Array.from({ length: 60 }, (_, i) => i + 10));
});

test('a device\'s first points wait arrivalHoldS, not seqGapWaitS: its first message may come second', () => {
  // Messages come every 2 s: the first one arrives 2 s after the second, within a 3 s hold.
  const order = [1, 0, ...Array.from({ length: 18 }, (_, i) => i + 2)];
  const newDevice = { ...WAITING, arrivalHoldS: 3 };
  const { accepted, rejected } = messagesInOrder(order, newDevice, track(200));
  assert.deepEqual(rejected, []);
  assert.deepEqual(secondsOf(accepted), Array.from({ length: accepted.length }, (_, i) => i), 'in order, none lost');
  assert.ok(accepted.length > 170, `released as they came once the first waited 3 s, not 30 (${accepted.length})`);
  assert.deepEqual(reasons(messagesInOrder(order, WAITING, track(200)).rejected), Array(10).fill('out_of_order'), 'no hold: the first message is too late');
});

test('seqGapWaitS: a gap that never fills holds points back for that long in receipt time, then they go on', () => {
  // Message 2 is lost for good; messages come every 2 s, so the wait of 30 s ends 15 messages later.
  const order = [1, ...Array.from({ length: 20 }, (_, i) => i + 3)];
  const { accepted, rejected, state } = messagesInOrder(order, WAITING, track(240), known());
  assert.deepEqual(rejected, []);
  const released = secondsOf(accepted);
  assert.ok(released.includes(30) && !released.some((s) => s >= 20 && s < 30), 'the gap is skipped, in order');
  assert.ok(state.held.length < 40, `points stopped waiting (${state.held.length} held)`);
});

const withoutSeq = (points: TelemetryPoint[]) => points.map(({ seq: _seq, ...point }) => point);

test('seqGapWaitS: a seq rejected on arrival fills its gap; points without seq never wait', () => {
  const points = track(40);
  points[22] = { ...points[22]!, accuracyM: 500 };
  const { accepted, rejected } = messagesInOrder([1, 2, 3], WAITING, points, known());
  assert.deepEqual(reasons(rejected), ['poor_accuracy']);
  assert.ok(secondsOf(accepted).includes(35), 'the points after it were not held back');
  assert.ok(secondsOf(messagesInOrder([0, 1, 2, 3], WAITING, withoutSeq(track(40))).accepted).includes(35), 'no seq: the reorder window alone, as before');
});

const HOLDING = { ...CONFIG, arrivalHoldS: 1 };

/** Messages of 10 points received `gapMs` apart in message order (m), cleaned in the given order, then a tick `tickAfterMs` after the last receipt. */
function burst(order: number[], config: CleaningConfig, gapMs: number, tickAfterMs: number) {
  const points = withoutSeq(track(order.length * 10));
  let state = initialCleanState();
  const accepted: TelemetryPoint[] = [];
  const rejected: Rejection[] = [];
  const clean = (batch: TelemetryPoint[], atMs: number) => {
    const result = cleanPoints(state, batch, atMs, config);
    state = JSON.parse(JSON.stringify(result.state)) as CleanState;
    accepted.push(...result.accepted);
    rejected.push(...result.rejected);
  };
  for (const m of order) clean(points.slice(m * 10, m * 10 + 10), T0 + m * gapMs);
  const beforeTick = accepted.length;
  clean([], T0 + Math.max(...order) * gapMs + tickAfterMs);
  return { accepted, rejected, state, beforeTick };
}

test('arrivalHoldS: a device without seq unloading a backlog, its messages passing each other on the way, loses nothing', () => {
  // 60 s of driving sent in 300 ms: device time runs 200 times faster than receipt time.
  const order = [0, 2, 1, 3, 5, 4];
  assert.ok(burst(order, CONFIG, 50, 0).rejected.length >= 10, 'without the hold: a whole message judged out of order');
  const { accepted, rejected, beforeTick, state } = burst(order, HOLDING, 50, 1000);
  assert.deepEqual(rejected, []);
  assert.equal(beforeTick, 0, 'nothing leaves before it has waited a second');
  assert.deepEqual(secondsOf(accepted), Array.from({ length: 58 }, (_, i) => i), 'the tick released all but the reorder window, in order');
  assert.deepEqual(secondsOf(flushCleaning(state, HOLDING).accepted), [58, 59]);
});

test('arrivalHoldS: the wait is bounded: a message later than the hold is judged out of order, not waited for', () => {
  const points = withoutSeq(track(30));
  const first = cleanPoints(initialCleanState(), points.slice(0, 10), T0, HOLDING);
  const third = cleanPoints(first.state, points.slice(20, 30), T0 + 100, HOLDING);
  const tick = cleanPoints(third.state, [], T0 + 1100, HOLDING);
  assert.equal(tick.accepted.length, 18);
  assert.deepEqual(reasons(cleanPoints(tick.state, points.slice(10, 20), T0 + 50, HOLDING).rejected), Array(10).fill('out_of_order'));
});

test('arrivalHoldS: a device sending in real time waits no longer than the reorder window made it', () => {
  const points = withoutSeq(track(30));
  const releasedAt = (config: CleaningConfig) => {
    let state = initialCleanState();
    return points.map((point) => {
      const result = cleanPoints(state, [point], point.tsMs + 80, config);
      state = result.state;
      return result.accepted.length;
    }).join('');
  };
  assert.equal(releasedAt(HOLDING), releasedAt(CONFIG));
});

test('nextWaitEndMs: when the first held point stops waiting; none once a tick passed it, or without waits', () => {
  const points = withoutSeq(track(10));
  const held = cleanPoints(initialCleanState(), points, T0 + 40, HOLDING).state;
  assert.equal(nextWaitEndMs(held, HOLDING), T0 + 1040);
  const ticked = cleanPoints(held, [], T0 + 1040, HOLDING);
  assert.equal(ticked.accepted.length, 8);
  assert.equal(nextWaitEndMs(ticked.state, HOLDING), null, 'the last two wait for later points, not for the clock');
  assert.equal(nextWaitEndMs(cleanPoints(initialCleanState(), points, T0, CONFIG).state, CONFIG), null);
  const gap = cleanPoints(known(), track(40).slice(20, 30), T0 + 500, WAITING).state;
  assert.equal(nextWaitEndMs(gap, WAITING), T0 + 500 + 30_000, 'a seq gap waits seqGapWaitS');
});

test('nextWaitEndMs: a device without seq sending every second asks for no tick that would release nothing', () => {
  const points = withoutSeq(track(20));
  let state = initialCleanState();
  let ticks = 0;
  points.forEach((point, i) => {
    state = cleanPoints(state, [point], T0 + i * 990, HOLDING).state;
    const endMs = nextWaitEndMs(state, HOLDING);
    if (endMs === null || endMs >= T0 + (i + 1) * 990) return;
    ticks++;
    assert.ok(cleanPoints(state, [], endMs, HOLDING).accepted.length > 0, `a tick at point ${i} releases something`);
  });
  assert.equal(ticks, 0, 'the reorder window, not the hold, keeps its last points');
});

test('arrivalHoldS: a message that reaches the bus after a tick, received before it, is judged by the device clock', () => {
  const points = withoutSeq(track(20));
  const first = cleanPoints(initialCleanState(), points.slice(0, 10), T0, HOLDING);
  const tick = cleanPoints(first.state, [], T0 + 2000, HOLDING);
  assert.deepEqual(secondsOf(tick.accepted), [0, 1, 2, 3, 4, 5, 6, 7]);
  // Received 100 ms after the first, on the bus only after the tick: its points have waited since.
  const late = cleanPoints(tick.state, points.slice(10, 20), T0 + 100, HOLDING);
  assert.deepEqual(secondsOf(late.accepted), [8, 9, 10, 11, 12, 13, 14, 15, 16, 17], 'released at once, not left waiting with no tick coming');
  assert.equal(nextWaitEndMs(late.state, HOLDING), null);
});
