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
  return { held: [], newestSeenMs: null, lastReleasedMs: null, teleport: initialTeleportState(), recentTsMs: [], recentSeqs: [] };
}

export function cleanPoints(prev: CleanState, points: TelemetryPoint[], receivedAtMs: number, config: CleaningConfig): CleanResult {
  const state = copy(prev);
  const result: CleanResult = { state, accepted: [], rejected: [] };
  for (const point of points) {
    const reason = checkPoint(point, receivedAtMs, config) ?? checkAgainstSeen(state, point);
    if (reason) {
      result.rejected.push({ point, reason });
      continue;
    }
    hold(state, point);
    const cutoffMs = state.newestSeenMs! - config.reorderWindowS * 1000;
    while (state.held.length > 0 && (state.held[0]!.tsMs <= cutoffMs || state.held.length > config.maxHeldPoints)) {
      release(result, state.held.shift()!, config);
    }
  }
  return result;
}

/**
 * Releases every held point (device silence, ignition off). Jumps are still judged, so some may be
 * rejected: callers count `rejected` as for cleanPoints.
 */
export function flushCleaning(prev: CleanState, config: CleaningConfig = DEFAULT_CLEANING_CONFIG): CleanResult {
  const state = copy(prev);
  const result: CleanResult = { state, accepted: [], rejected: [] };
  while (state.held.length > 0) release(result, state.held.shift()!, config);
  return result;
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
function hold(state: CleanState, point: TelemetryPoint): void {
  let i = state.held.length;
  while (i > 0 && state.held[i - 1]!.tsMs > point.tsMs) i--;
  state.held.splice(i, 0, point);
  state.newestSeenMs = Math.max(state.newestSeenMs ?? point.tsMs, point.tsMs);
}

function release(result: CleanResult, point: TelemetryPoint, config: CleaningConfig): void {
  const state = result.state;
  state.lastReleasedMs = point.tsMs;
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
  };
}
