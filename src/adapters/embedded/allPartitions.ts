import type { PartitionLeases } from '../../ports/partitionLeases.js';

/** The embedded deployment has one worker, the only consumer: it owns every partition, always. */
export class AllPartitions implements PartitionLeases {
  private readonly all: ReadonlySet<number>;

  constructor(partitionCount: number) {
    this.all = new Set(Array.from({ length: partitionCount }, (_, partition) => partition));
  }

  owned(): ReadonlySet<number> {
    return this.all;
  }

  /** Ownership never changes, so listeners are never called. */
  onChange(): void {}

  async start(): Promise<void> {}

  async stop(): Promise<void> {}
}
