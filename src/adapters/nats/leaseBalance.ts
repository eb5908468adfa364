import { createHash } from 'node:crypto';

/**
 * How much a worker wants a partition (rendezvous hashing): every worker ranks the partitions
 * differently, and always the same way, so who takes what does not change from one heartbeat
 * to the next, and workers racing for free partitions mostly reach for different ones.
 */
export function preference(workerId: string, partition: number): number {
  return createHash('sha256').update(`${workerId}/${partition}`).digest().readUInt32BE(0);
}

export interface LeasePlanInput {
  workerId: string;
  partitionCount: number;
  owned: ReadonlySet<number>;
  /** Partitions a live other worker holds. */
  heldByOthers: ReadonlySet<number>;
  /** Live workers, this one included. */
  liveWorkers: number;
}

export interface LeasePlan {
  /** Owned partitions beyond this worker's share, least wanted first. */
  release: number[];
  /** Free partitions, most wanted first: take them in turn until `wanted` more are held. */
  candidates: number[];
  wanted: number;
}

/** Each live worker aims at ceil(partitions / workers): all partitions are covered, and nobody holds more than that. */
export function planLeases(input: LeasePlanInput): LeasePlan {
  const share = Math.ceil(input.partitionCount / Math.max(1, input.liveWorkers));
  const mostWantedFirst = (a: number, b: number): number => preference(input.workerId, b) - preference(input.workerId, a);
  const owned = [...input.owned].sort(mostWantedFirst);
  const candidates = Array.from({ length: input.partitionCount }, (_, partition) => partition)
    .filter((partition) => !input.owned.has(partition) && !input.heldByOthers.has(partition))
    .sort(mostWantedFirst);
  return { release: owned.slice(share).reverse(), candidates, wanted: Math.max(0, share - owned.length) };
}
