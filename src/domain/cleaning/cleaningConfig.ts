/**
 * Thresholds of point cleaning, one object, each with why. Modelled on Traccar's position filters
 * (filter.invalid, filter.zero, filter.future, filter.past, filter.accuracy, filter.duplicate,
 * filter.maxSpeed), plus a reorder window so late points are merged rather than dropped.
 */
export const CLEANING_REASONS = ['invalid', 'null_island', 'future', 'past', 'poor_accuracy', 'duplicate', 'out_of_order', 'teleport'] as const;
export type CleaningReason = (typeof CLEANING_REASONS)[number];

export interface CleaningConfig {
  /** |lat| and |lon| both below this is (0,0), "null island": a receiver's placeholder, not a fix. */
  nullIslandEpsDeg: number;
  /** Fixes this far ahead of their arrival are a wrong device clock. GPS time is exact; 5 min allows for RTC drift and server skew. */
  maxFutureS: number;
  /**
   * Fixes this far behind their arrival are rejected; 0 disables the check. Disabled by default:
   * replays of old recordings and devices unloading a day's backlog after a dead zone are legitimate.
   */
  maxPastS: number;
  /** Reported horizontal accuracy worse than this is a cell or Wi-Fi position, too coarse for driving. */
  maxAccuracyM: number;
  /** Implied speed from the last accepted fix above this is a jump: 90 m/s = 324 km/h, beyond any insured road car. */
  maxImpliedSpeedMps: number;
  /** Implied speed is judged only over gaps up to this; after longer gaps the car may truly be elsewhere (towed, ferried). */
  teleportMaxGapS: number;
  /** After this many consecutive jumps the anchor, not the new fixes, was wrong: the next one is accepted as the new anchor. */
  teleportRunToReanchor: number;
  /** Points wait this long (in device time) for late ones, then leave in timestamp order. */
  reorderWindowS: number;
  /** At most this many points wait; beyond it the oldest leave early (memory stays bounded). */
  maxHeldPoints: number;
  /** How many released timestamps and seqs are remembered to recognise a resent point as a duplicate. */
  duplicateMemory: number;
  /**
   * How long a point whose device `seq` does not follow the last one released waits for the
   * missing ones, in receipt time (the ingest clock of the device's later messages), beyond the
   * reorder window; 0: never. In cluster mode the broker spreads a device's messages over the
   * ingest processes of its shared subscription, and redelivers a message to one of them after a
   * refusal or a restart while later ones go through others: messages reach the bus out of order,
   * by seconds, and without this wait their points would be judged out_of_order. Points without a
   * seq wait by arrivalHoldS instead. 0 by default (one ordered ingest); the cluster's default is
   * CLUSTER_SEQ_GAP_WAIT_S.
   */
  seqGapWaitS: number;
  /**
   * How long a point without a `seq` waits, in receipt time, before it may leave; 0: no wait. A
   * device's first points with seqs wait as long (their seqs cannot tell yet whether an earlier
   * message is still on its way; a seqGapWaitS there would hold every new device back). With
   * no seq, a message that passed an earlier one of the same device (two ingest processes racing
   * to the bus) cannot be told from a gap, and the reorder window does not help a device that
   * unloads a backlog: its device time runs far ahead of receipt time. The wait covers that race;
   * a device that sends nothing more gets its points released by a tick (see nextWaitEndMs).
   * 0 by default (one ordered ingest); the cluster's default is CLUSTER_ARRIVAL_HOLD_S.
   */
  arrivalHoldS: number;
}

/** The cluster's seqGapWaitS: longer than a broker or bus restart and the redelivery after it. */
export const CLUSTER_SEQ_GAP_WAIT_S = 30;

/**
 * The cluster's arrivalHoldS: the ingest processes of a share group reach the bus within
 * milliseconds of each other unless one is stalled. No longer than the reorder window, so a
 * device that sends in real time waits no longer than before.
 */
export const CLUSTER_ARRIVAL_HOLD_S = 1;

export const DEFAULT_CLEANING_CONFIG: CleaningConfig = {
  nullIslandEpsDeg: 1e-6,
  maxFutureS: 300,
  maxPastS: 0,
  maxAccuracyM: 100,
  maxImpliedSpeedMps: 90,
  teleportMaxGapS: 300,
  teleportRunToReanchor: 5,
  reorderWindowS: 2,
  maxHeldPoints: 600,
  // Two minutes at 1 Hz: an MQTT QoS 1 resend arrives within seconds.
  duplicateMemory: 120,
  seqGapWaitS: 0,
  arrivalHoldS: 0,
};
