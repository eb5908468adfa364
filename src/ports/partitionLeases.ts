/**
 * Which bus partitions this process may consume. Each partition has at most one owner at a
 * time, so one device's messages are processed in order by one worker; when an owner dies or
 * stops, others take its partitions over.
 *
 * Ownership is advisory for speed, not the last line of defence: the write store refuses a
 * commit whose `fromOffset` is not the stored cursor, so a worker that lost a partition
 * without noticing can never overwrite the new owner's progress.
 */
export interface PartitionLeases {
  /** The partitions this process may consume now. */
  owned(): ReadonlySet<number>;
  /** Called after ownership changes; a gained partition must be read from the write store's cursor again. */
  onChange(listener: (gained: number[], lost: number[]) => void): void;
  start(): Promise<void>;
  /** Releases this process's leases at once, so others take over without waiting for the TTL. */
  stop(): Promise<void>;
}
