import type { QueuedIterator } from '@nats-io/transport-node';
import { JetStreamApiCodes, JetStreamApiError } from '@nats-io/jetstream';
import { Kvm, type KV, type KvWatchEntry } from '@nats-io/kv';
import type { PartitionLeases } from '../../ports/partitionLeases.js';
import { planLeases } from './leaseBalance.js';
import { LeaseView, memberKey, partitionKey } from './leaseView.js';
import { openConnection, type NatsEndpoint, type OpenedConnection } from './natsConnection.js';

export type NatsPartitionLeasesOptions = NatsEndpoint & {
  /** The key-value bucket shared by every worker of the deployment. */
  bucket?: string;
  /** Unique per process (letters, digits, `_`, `-`). */
  workerId: string;
  partitionCount: number;
  /** A lease not renewed for this long expires, and its partition goes to another worker. */
  ttlMs: number;
  /** Bucket replicas: 1 on a single server, 3 on a cluster. */
  replicas?: number;
};

interface Lease {
  revision: number;
  /** `performance.now()` past which this process no longer counts the partition as its own. */
  validUntilMs: number;
}

/**
 * Partition leases in a JetStream key-value bucket whose TTL (the stream's `max_age`) is the
 * lease's: `partition.<n>` holds its owner, written with `create` (only when absent: never
 * written, deleted, or expired) and renewed every TTL/3 with `update` on the revision last
 * written, so a renewal fails once someone else took the key. Each worker also renews
 * `member.<workerId>`, and aims at its fair share of the partitions among the live members:
 * it releases extras (a delete on its revision) and takes free ones.
 *
 * Never two owners: a renewal sent at t makes the key live on the server until at least
 * t + TTL, and this process counts the partition as its own only until t + TTL/2, so a worker
 * cut off from the server stops consuming well before another can take over. (And the write
 * store's cursor fencing refuses a stale owner's commit in any case.)
 *
 * A watch on the bucket keeps a view of who holds what (`LeaseView`).
 */
export class NatsPartitionLeases implements PartitionLeases {
  private readonly bucket: string;
  private readonly memberKey: string;
  private readonly leases = new Map<number, Lease>();
  private readonly view: LeaseView;
  private readonly listeners: Array<(gained: number[], lost: number[]) => void> = [];
  private connection: OpenedConnection | null = null;
  private kv: KV | null = null;
  private watcher: QueuedIterator<KvWatchEntry> | null = null;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private expiryTimer: NodeJS.Timeout | undefined;
  private beating: Promise<void> | null = null;
  private beatAgain = false;
  /** A free-looking partition could not be created (its key not expired on the server yet): look again soon. */
  private takeFailed = false;
  private stopped = false;

  constructor(private readonly options: NatsPartitionLeasesOptions) {
    if (!/^[A-Za-z0-9_-]+$/.test(options.workerId)) throw new Error(`worker id "${options.workerId}" must be letters, digits, _ or -`);
    if (!(options.ttlMs >= 300)) throw new Error('lease TTL must be at least 300 ms');
    this.bucket = options.bucket ?? 'tripline-leases';
    this.memberKey = memberKey(options.workerId);
    this.view = new LeaseView(options.ttlMs, options.workerId);
  }

  owned(): ReadonlySet<number> {
    const nowMs = performance.now();
    return new Set([...this.leases].filter(([, lease]) => lease.validUntilMs > nowMs).map(([partition]) => partition));
  }

  onChange(listener: (gained: number[], lost: number[]) => void): void {
    this.listeners.push(listener);
  }

  async start(): Promise<void> {
    const connection = await openConnection(this.options, `tripline-leases-${this.options.workerId}`);
    try {
      const kv = await new Kvm(connection.nc).create(this.bucket, { ttl: this.options.ttlMs, history: 1, replicas: this.options.replicas ?? 1 });
      const ttlMs = (await kv.status()).ttl;
      if (ttlMs !== this.options.ttlMs) throw new Error(`lease bucket ${this.bucket} has a TTL of ${ttlMs} ms, not ${this.options.ttlMs}: every worker must use the same`);
      this.kv = kv;
    } catch (error) {
      await connection.release();
      throw error;
    }
    this.connection = connection;
    await this.watch();
    this.expiryTimer = setInterval(() => this.emit([], this.dropExpired()), this.options.ttlMs / 10);
    this.expiryTimer.unref();
    await this.beat();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.heartbeatTimer);
    clearInterval(this.expiryTimer);
    await this.beating;
    // Stop counting them as ours before others can take them.
    const released = [...this.leases];
    this.leases.clear();
    this.emit([], released.map(([partition]) => partition));
    const kv = this.kv;
    if (kv) {
      await Promise.all([
        ...released.map(([partition, lease]) => kv.delete(partitionKey(partition), { previousSeq: lease.revision }).catch(() => undefined)),
        kv.delete(this.memberKey).catch(() => undefined),
      ]);
    }
    this.watcher?.stop();
    await this.connection?.release();
  }

  /**
   * One heartbeat, then the next one TTL/3 after it began, or sooner: at once when something
   * changed meanwhile, and when a key goes stale (its writer died: take its partition as soon
   * as it expires rather than up to a heartbeat later).
   */
  private async beat(): Promise<void> {
    const startedMs = performance.now();
    this.takeFailed = false;
    this.beating = this.heartbeat().catch(() => undefined);
    await this.beating;
    this.beating = null;
    if (this.stopped) return;
    const { ttlMs } = this.options;
    let delayMs = this.beatAgain ? 0 : ttlMs / 3 - (performance.now() - startedMs);
    if (this.takeFailed) delayMs = Math.min(delayMs, ttlMs / 10);
    delayMs = Math.min(delayMs, this.view.nextStaleInMs() + 5);
    this.beatAgain = false;
    this.heartbeatTimer = setTimeout(() => void this.beat(), Math.max(0, delayMs));
    this.heartbeatTimer.unref();
  }

  /** A worker joined or a key was released: rebalance now rather than at the next heartbeat. */
  private beatSoon(): void {
    if (this.stopped) return;
    if (this.beating) {
      this.beatAgain = true;
      return;
    }
    if (!this.heartbeatTimer) return; // not started yet: the first heartbeat is on its way
    clearTimeout(this.heartbeatTimer);
    this.heartbeatTimer = setTimeout(() => void this.beat(), 0);
    this.heartbeatTimer.unref();
  }

  private async heartbeat(): Promise<void> {
    const { kv, connection } = this;
    if (!kv || !connection) return;
    // Cut off, a request would only time out: renew once the connection is back (if before the leases run out).
    await connection.connected(this.options.ttlMs / 3);
    const { workerId, ttlMs, partitionCount } = this.options;
    const gained: number[] = [];
    const lost: number[] = [];
    const sentAtMs = performance.now();
    await Promise.all([
      // A missed announcement only makes the others count one worker fewer for a while.
      kv.put(this.memberKey, workerId).catch(() => undefined),
      ...[...this.leases].map(async ([partition, lease]) => {
        try {
          lease.revision = await kv.update(partitionKey(partition), workerId, lease.revision);
          lease.validUntilMs = sentAtMs + ttlMs / 2;
        } catch (error) {
          // Someone else wrote the key: the lease is gone. Other failures leave it to run out.
          if (isWrongRevision(error) && this.leases.delete(partition)) lost.push(partition);
        }
      }),
    ]);
    lost.push(...this.dropExpired());

    const plan = planLeases({ workerId, partitionCount, owned: new Set(this.leases.keys()), ...this.view.live() });
    await Promise.all(plan.release.map((partition) => {
      const lease = this.leases.get(partition);
      this.leases.delete(partition);
      lost.push(partition);
      return lease && kv.delete(partitionKey(partition), { previousSeq: lease.revision }).catch(() => undefined);
    }));
    let wanted = plan.wanted;
    for (const partition of plan.candidates) {
      if (wanted === 0 || this.stopped) break;
      const attemptedAtMs = performance.now();
      try {
        const revision = await kv.create(partitionKey(partition), workerId);
        this.leases.set(partition, { revision, validUntilMs: attemptedAtMs + ttlMs / 2 });
        gained.push(partition);
        wanted--;
      } catch {
        // Taken meanwhile, or not expired yet on the server: the next candidate.
        this.takeFailed = true;
      }
    }
    this.emit(gained, lost);
  }

  private async watch(): Promise<void> {
    if (!this.kv || this.stopped) return;
    const watcher = await this.kv.watch();
    this.watcher = watcher;
    void (async () => {
      try {
        for await (const entry of watcher) {
          if (this.view.saw({ key: entry.key, operation: entry.operation, value: entry.string() })) this.beatSoon();
        }
      } catch {
        // Ended by an error rather than by stop: handled below like any other end.
      }
      this.watchAgainLater();
    })();
  }

  /** The watch ended without being stopped (the client gave up on its consumer), or could not start: try again. */
  private watchAgainLater(): void {
    if (this.stopped) return;
    setTimeout(() => void this.watch().catch(() => this.watchAgainLater()), 1000).unref();
  }

  private dropExpired(): number[] {
    const nowMs = performance.now();
    const lost: number[] = [];
    for (const [partition, lease] of this.leases) {
      if (lease.validUntilMs > nowMs) continue;
      this.leases.delete(partition);
      lost.push(partition);
    }
    return lost;
  }

  private emit(gained: number[], lost: number[]): void {
    if (gained.length === 0 && lost.length === 0) return;
    for (const listener of this.listeners) listener(gained, lost);
  }
}

function isWrongRevision(error: unknown): boolean {
  return error instanceof JetStreamApiError
    && (error.code === JetStreamApiCodes.StreamWrongLastSequence || error.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown);
}
