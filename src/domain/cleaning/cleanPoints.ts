/**
 * Cleans one device's points before anything counts them. Points are judged on their own
 * (pointChecks), then against what came before: duplicates, points too late to reorder, and — once
 * they leave the reorder buffer in timestamp order — implied-speed jumps. Every rejected point gets
 * exactly one reason. Pure, and the state is plain JSON (it is checkpointed with the trip).
 * The outcome depends on the order points arrive in, not on how they were batched.
 */
import type { TelemetryPoint } from '../point.js';
import { DEFAULT_CLEANING_CONFIG, type CleaningConfig, type CleaningReason } from './cleaningConfig.js';
import { checkPoint } from './pointChecks.js';
import { initialTeleportState, judgeTeleport, type TeleportState } from './teleport.js';

export { DEFAULT_CLEANING_CONFIG, CLEANING_REASONS, type CleaningConfig, type CleaningReason } from './cleaningConfig.js';

export interface CleanState {
  /** Points waiting for late ones, in timestamp order. */
  held: TelemetryPoint[];
  /** Newest timestamp that entered the buffer. */
  newestSeenMs: number | null;
  /** Timestamp of the last point that left the buffer: anything older is too late. */
  lastReleasedMs: number | null;
  teleport: TeleportState;
  /** Timestamps and seqs of recently released points, oldest first (bounded by duplicateMemory). */
  recentTsMs: number[];
  recentSeqs: number[];
  /**
   * For seqGapWaitS: when each held point arrived (receipt time, parallel to `held`), the seq of
   * the last point released, and seqs rejected on arrival after it (they fill no gap later).
   * Absent in states saved before them: a held point then counts as having waited long enough.
   */
  heldAtMs?: number[];
  lastReleasedSeq?: number | null;
  skippedSeqs?: number[];
  /** The latest receipt time cleaning was run at (a message's or a tick's): waits are judged against it. */
  clockMs?: number;
}

export interface Rejection {
  point: TelemetryPoint;
  reason: CleaningReason;
}

export interface CleanResult {
  state: CleanState;
  /** In timestamp order. */
  accepted: TelemetryPoint[];
  rejected: Rejection[];
}

export function initialCleanState(): CleanState {
  return {
    held: [], newestSeenMs: null, lastReleasedMs: null, teleport: initialTeleportState(), recentTsMs: [], recentSeqs: [],
    heldAtMs: [], lastReleasedSeq: null, skippedSeqs: [],
  };
}

export function cleanPoints(prev: CleanState, points: TelemetryPoint[], receivedAtMs: number, config: CleaningConfig): CleanResult {
  const state = copy(prev);
  const result: CleanResult = { state, accepted: [], rejected: [] };
  // Waits are judged by the device's clock: a message that reaches the bus after a later one (or
  // a tick) has a receipt time behind it, and its points have waited since their own receipt.
  const nowMs = Math.max(prev.clockMs ?? receivedAtMs, receivedAtMs);
  for (const point of points) {
    const reason = checkPoint(point, receivedAtMs, config) ?? checkAgainstSeen(state, point);
    if (reason) {
      result.rejected.push({ point, reason });
      // A seq rejected on its own merits will never be released: no later point waits for it.
      if (point.seq !== undefined && reason !== 'duplicate' && reason !== 'out_of_order') skip(state, point.seq, config);
      continue;
    }
    hold(state, point, receivedAtMs);
    releaseDue(result, nowMs, config);
  }
  // Without points (a tick), the clock alone may end a wait.
  releaseDue(result, nowMs, config);
  state.clockMs = nowMs;
  return result;
}

/** Releases held points from the oldest on while they are past the reorder window and wait for nothing else, or too many are held. */
function releaseDue(result: CleanResult, nowMs: number, config: CleaningConfig): void {
  const state = result.state;
  if (state.held.length === 0) return;
  const cutoffMs = state.newestSeenMs! - config.reorderWindowS * 1000;
  while (state.held.length > 0 && ((state.held[0]!.tsMs <= cutoffMs && !waits(state, 0, nowMs, config)) || state.held.length > config.maxHeldPoints)) {
    release(result, unhold(state), config);
  }
}

/**
 * Releases every held point (device silence, ignition off). Jumps are still judged, so some may be
 * rejected: callers count `rejected` as for cleanPoints.
 */
export function flushCleaning(prev: CleanState, config: CleaningConfig = DEFAULT_CLEANING_CONFIG): CleanResult {
  const state = copy(prev);
  const result: CleanResult = { state, accepted: [], rejected: [] };
  while (state.held.length > 0) release(result, unhold(state), config);
  return result;
}

/** Whether a held point still waits at receipt time `nowMs` (see waitEndMs). */
function waits(state: CleanState, index: number, nowMs: number, config: CleaningConfig, knownStartOnly = false): boolean {
  return nowMs < waitEndMs(state, index, config, knownStartOnly);
}

/** When a held point arrived; 0 for states saved before receipt times were kept (it counts as having waited). */
function heldAt(state: CleanState, index: number): number {
  return state.heldAtMs?.[index] ?? 0;
}

/**
 * Until when, in receipt time, a held point waits for points sent before it; -Infinity when for
 * none. A point with a seq that does not follow the point before it (released or held; seqs
 * rejected on arrival count as passed) waits seqGapWaitS for the missing ones. A point without a
 * seq, or one whose device's seqs are unknown so far (its first points, which may be overtaken by
 * its second message), waits arrivalHoldS: a whole gap wait there would hold every new device
 * back that long. `knownStartOnly`: only a gap after a known seq counts.
 */
function waitEndMs(state: CleanState, index: number, config: CleaningConfig, knownStartOnly: boolean): number {
  const none = Number.NEGATIVE_INFINITY;
  const point = state.held[index];
  if (point === undefined) return none;
  const after = (waitS: number): number => (waitS > 0 ? heldAt(state, index) + waitS * 1000 : none);
  if (point.seq === undefined) return after(config.arrivalHoldS);
  const before = index > 0 ? state.held[index - 1]!.seq : nextSeq(state) - 1;
  if (before === undefined || Number.isNaN(before)) return knownStartOnly ? none : after(config.arrivalHoldS);
  let expected = before + 1;
  if (index > 0) while (state.skippedSeqs?.includes(expected)) expected++;
  return point.seq === expected ? none : after(config.seqGapWaitS);
}

/**
 * Whether any held point still waits at `nowMs` (for missing seqs or its arrival hold): ignition
 * off must not release them yet. A seq gap after a device's very first points does not count.
 */
export function heldStillWait(state: CleanState, nowMs: number, config: CleaningConfig): boolean {
  return state.held.some((_, index) => waits(state, index, nowMs, config, true));
}

/**
 * The receipt time at which a tick would release something, or null when none would: a device
 * that sends nothing more would keep such points until its silence, so the worker appends a tick
 * then (deviceStream onTick). Only the oldest held point can leave on the clock alone, once it is
 * past the reorder window; with an ignition off held, everything leaves once no point waits.
 */
export function nextWaitEndMs(state: CleanState, config: CleaningConfig): number | null {
  if (state.held.length === 0) return null;
  const nowMs = state.clockMs ?? 0;
  const pending = (endMs: number): number | null => (endMs > nowMs ? endMs : null);
  if (state.held.some((point) => point.ignition === false)) {
    const ends = state.held.map((_, index) => waitEndMs(state, index, config, true)).filter((endMs) => endMs > nowMs);
    return ends.length > 0 ? Math.min(...ends) : null;
  }
  const cutoffMs = state.newestSeenMs! - config.reorderWindowS * 1000;
  return state.held[0]!.tsMs <= cutoffMs ? pending(waitEndMs(state, 0, config, false)) : null;
}

/** The seq expected next after the last released one (and those rejected after it); NaN when none was released. */
function nextSeq(state: CleanState): number {
  const last = state.lastReleasedSeq;
  if (last === null || last === undefined) return Number.NaN;
  let expected = last + 1;
  while (state.skippedSeqs?.includes(expected)) expected++;
  return expected;
}

function skip(state: CleanState, seq: number, config: CleaningConfig): void {
  if (!(config.seqGapWaitS > 0)) return;
  const last = state.lastReleasedSeq;
  if (last !== null && last !== undefined && seq <= last) return;
  state.skippedSeqs = [...(state.skippedSeqs ?? []), seq].slice(-config.duplicateMemory);
}

function checkAgainstSeen(state: CleanState, point: TelemetryPoint): CleaningReason | null {
  const seq = point.seq;
  const sameTs = (p: TelemetryPoint) => p.tsMs === point.tsMs;
  const sameSeq = (p: TelemetryPoint) => seq !== undefined && p.seq === seq;
  if (state.held.some((p) => sameTs(p) || sameSeq(p))) return 'duplicate';
  if (state.recentTsMs.includes(point.tsMs) || (seq !== undefined && state.recentSeqs.includes(seq))) return 'duplicate';
  if (state.lastReleasedMs !== null && point.tsMs <= state.lastReleasedMs) return 'out_of_order';
  return null;
}

/** Inserts in timestamp order; points nearly always arrive in order, so search from the end. */
function hold(state: CleanState, point: TelemetryPoint, receivedAtMs: number): void {
  let i = state.held.length;
  while (i > 0 && state.held[i - 1]!.tsMs > point.tsMs) i--;
  // Saved before receipt times were kept: those held then count as having waited.
  const heldAtMs = state.heldAtMs ?? [];
  while (heldAtMs.length < state.held.length) heldAtMs.unshift(0);
  state.held.splice(i, 0, point);
  heldAtMs.splice(i, 0, receivedAtMs);
  state.heldAtMs = heldAtMs;
  state.newestSeenMs = Math.max(state.newestSeenMs ?? point.tsMs, point.tsMs);
}

/** Takes the oldest held point out of the buffer. */
function unhold(state: CleanState): TelemetryPoint {
  state.heldAtMs?.shift();
  return state.held.shift()!;
}

function release(result: CleanResult, point: TelemetryPoint, config: CleaningConfig): void {
  const state = result.state;
  state.lastReleasedMs = point.tsMs;
  if (point.seq !== undefined) {
    state.lastReleasedSeq = point.seq;
    if (state.skippedSeqs?.length) state.skippedSeqs = state.skippedSeqs.filter((seq) => seq > point.seq!);
  }
  // Remembered whatever the verdict, so a resend of a rejected jump is a duplicate, not a second jump.
  remember(state.recentTsMs, point.tsMs, config.duplicateMemory);
  if (point.seq !== undefined) remember(state.recentSeqs, point.seq, config.duplicateMemory);
  const judged = judgeTeleport(state.teleport, point, config);
  state.teleport = judged.state;
  if (judged.teleport) result.rejected.push({ point, reason: 'teleport' });
  else result.accepted.push(point);
}

function remember(list: number[], value: number, limit: number): void {
  list.push(value);
  if (list.length > limit) list.splice(0, list.length - limit);
}

function copy(state: CleanState): CleanState {
  return {
    ...state,
    held: [...state.held],
    teleport: { ...state.teleport },
    recentTsMs: [...state.recentTsMs],
    recentSeqs: [...state.recentSeqs],
    ...(state.heldAtMs ? { heldAtMs: [...state.heldAtMs] } : {}),
    ...(state.skippedSeqs ? { skippedSeqs: [...state.skippedSeqs] } : {}),
  };
}
