import type { DeviceTripState } from '../domain/tripSegmenter.js';
import { partitionOf } from '../ports/eventBus.js';

/**
 * How a write store finds the device states of some partitions: each state row keeps
 * `deviceHash(deviceId)`, and the store selects rows whose hash modulo the partition count is
 * one of them. The hash, not the partition, because the count is configuration.
 */

/** A state row the store selected, and whether it has no hash (written before the column existed). */
export interface SelectedState {
  state: DeviceTripState;
  unhashed: boolean;
}

/** The selected states in `partitions`: an unhashed row is placed here (its next commit stores its hash). */
export function inPartitions(rows: readonly SelectedState[], partitions: readonly number[], partitionCount: number): DeviceTripState[] {
  const wanted = new Set(partitions);
  return rows.filter(({ state, unhashed }) => !unhashed || wanted.has(partitionOf(state.deviceId, partitionCount))).map(({ state }) => state);
}
