const MEMBER_PREFIX = 'member.';
const PARTITION_PREFIX = 'partition.';

export const memberKey = (workerId: string): string => `${MEMBER_PREFIX}${workerId}`;
export const partitionKey = (partition: number): string => `${PARTITION_PREFIX}${partition}`;

/** A change to a key of the lease bucket, as a watch reports it. */
export interface BucketChange {
  key: string;
  operation: 'PUT' | 'DEL' | 'PURGE';
  value: string;
}

/**
 * What a watch of the lease bucket has seen: who last wrote each key, and when. The server
 * removes an expired key without a word, so a key counts as live only until the TTL after it
 * was last seen written; every live one is rewritten every TTL/3. Times are this process's
 * (when the change arrived), never the server's, so clock skew plays no part.
 */
export class LeaseView {
  private readonly seen = new Map<string, { value: string; seenAtMs: number }>();

  constructor(private readonly ttlMs: number, private readonly workerId: string) {}

  /** Records a change; true when it calls for a rebalance now: a key was released, or another worker joined. */
  saw(change: BucketChange, nowMs = performance.now()): boolean {
    const joined = change.key.startsWith(MEMBER_PREFIX) && !this.seen.has(change.key) && change.key !== memberKey(this.workerId);
    if (change.operation !== 'PUT') {
      this.seen.delete(change.key);
      return true;
    }
    this.seen.set(change.key, { value: change.value, seenAtMs: nowMs });
    return joined;
  }

  /** Live workers, this one included, and the partitions others hold; stale keys are forgotten. */
  live(nowMs = performance.now()): { liveWorkers: number; heldByOthers: Set<number> } {
    const members = new Set([memberKey(this.workerId)]);
    const heldByOthers = new Set<number>();
    for (const [key, { value, seenAtMs }] of this.seen) {
      if (seenAtMs + this.ttlMs <= nowMs) {
        this.seen.delete(key);
        continue;
      }
      if (key.startsWith(MEMBER_PREFIX)) members.add(key);
      else if (key.startsWith(PARTITION_PREFIX) && value !== this.workerId) heldByOthers.add(Number(key.slice(PARTITION_PREFIX.length)));
    }
    return { liveWorkers: members.size, heldByOthers };
  }

  /** How long until the next key goes stale (its writer may have died), or Infinity. */
  nextStaleInMs(nowMs = performance.now()): number {
    let nextMs = Infinity;
    for (const { seenAtMs } of this.seen.values()) nextMs = Math.min(nextMs, seenAtMs + this.ttlMs - nowMs);
    return nextMs;
  }
}
