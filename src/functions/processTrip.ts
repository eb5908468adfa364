import { advance, closeIfSilent, initialState, type DeviceTripState } from '../domain/tripSegmenter.js';
import type { TripSummary } from '../domain/trip.js';
import type { TripConfig } from '../domain/tripConfig.js';
import type { BusRecord } from '../ports/eventBus.js';
import type { BatchEffects, PointChunk } from '../ports/writeStore.js';

export interface ProcessOutcome {
  effects: BatchEffects;
  /** Points not stored because the device had already sent a point at or after their time. */
  dropped: { duplicate: number; out_of_order: number };
  pointsAccepted: number;
}

/**
 * Runs one partition's batch of bus records through the per-device trip state machines.
 * Pure: the caller loads the states of the batch's devices and commits the effects
 * together with the bus offset, so a replay after a crash starts from the same state.
 */
export function processBatch(records: BusRecord[], loaded: ReadonlyMap<string, DeviceTripState>, config: TripConfig): ProcessOutcome {
  const states = new Map(loaded);
  const chunks = new Map<string, PointChunk>();
  const trips = new Map<string, TripSummary>();
  const dropped = { duplicate: 0, out_of_order: 0 };
  let pointsAccepted = 0;

  for (const { message } of records) {
    if (message.kind === 'silence') {
      const state = states.get(message.deviceId);
      if (!state) continue;
      const step = closeIfSilent(state, message.lastPointMs);
      states.set(message.deviceId, step.state);
      for (const trip of step.changes) trips.set(trip.tripId, trip);
      continue;
    }
    let state = states.get(message.deviceId) ?? initialState(message.deviceId, message.vehicleId, message.tenantId);
    for (const point of message.points) {
      if (state.lastPointMs !== null && point.tsMs <= state.lastPointMs) {
        dropped[point.tsMs === state.lastPointMs ? 'duplicate' : 'out_of_order'] += 1;
        continue;
      }
      const step = advance(state, point, config);
      state = step.state;
      for (const trip of step.changes) trips.set(trip.tripId, trip);
      let chunk = chunks.get(message.deviceId);
      if (!chunk) chunks.set(message.deviceId, (chunk = { deviceId: message.deviceId, firstMs: point.tsMs, lastMs: point.tsMs, points: [] }));
      chunk.points.push(point);
      chunk.lastMs = point.tsMs;
      pointsAccepted += 1;
    }
    states.set(message.deviceId, state);
  }

  const last = records[records.length - 1];
  return {
    effects: {
      partition: last?.partition ?? 0,
      offset: last?.offset ?? 0,
      chunks: [...chunks.values()],
      trips: [...trips.values()],
      states: [...states.values()].filter((s) => s !== loaded.get(s.deviceId)),
    },
    dropped,
    pointsAccepted,
  };
}
