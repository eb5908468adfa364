import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager, type JsMsg } from '@nats-io/jetstream';
import { nanos, type Subscription } from '@nats-io/transport-node';
import type { BusHeaders, BusMessage, BusRecord, EventBus } from '../../ports/eventBus.js';
import { partitionOf } from '../../ports/eventBus.js';
import { decodeHeaders, decodeMessage, encodeHeaders, messageId } from './busCodec.js';
import { busSubjects, ensureBusStream } from './busStream.js';
import { openConnection, type NatsEndpoint, type OpenedConnection } from './natsConnection.js';
import { PartitionReader } from './partitionReader.js';

/** How long an operation waits for a lost connection to come back before it fails (the client's own request timeout). */
const RECONNECT_WAIT_MS = 5000;

export type NatsBusOptions = NatsEndpoint & {
  partitionCount: number;
  /** The JetStream stream; its subjects are `<stream lower-cased>.bus.<partition>`. */
  stream?: string;
  /** Consumed messages are kept this long (for inspection and replays), then pruned. */
  retentionMs: number;
  /** A message appended again within this window (same content) is stored once. */
  duplicateWindowMs: number;
  /** Stream replicas: 1 on a single server, 3 on a cluster. */
  replicas?: number;
  /** A record that is not a bus message (published by something else) is skipped; this hears of it. */
  onInvalidRecord?: (partition: number, offset: number) => void;
};

/**
 * The cluster event bus: one JetStream stream, one subject per partition, the stream sequence
 * as the offset (so offsets grow across partitions, as the port asks).
 *
 * Durability: `append` resolves once the server acknowledged every message (PubAck). A
 * single nats-server writes a message to its block file (to the OS, not to the disk) before
 * acknowledging it, so it survives a crash of the server process (the SIGKILL test checks
 * it); but 2.9 fsyncs its files only every 2 minutes, a fixed interval (`sync_interval` and
 * `sync_interval: always` are 2.10+ settings), so power loss or an OS crash may lose up to
 * the last 2 minutes of acknowledged appends. With `replicas: 3` on a cluster, the
 * acknowledgement waits until a quorum of servers holds the message: it is lost only if a
 * quorum of machines goes down at once (a shared power cut).
 */
export class NatsBus implements EventBus {
  readonly partitionCount: number;
  private readonly js: JetStreamClient;
  private readonly stream: string;
  private readonly subjects: ReturnType<typeof busSubjects>;
  private readonly readers: PartitionReader[];
  private readonly listeners: Array<() => void> = [];
  private appendedSubscription: Subscription | null = null;
  private announceScheduled = false;

  /** Made by `openNatsBus`, once the stream is there. */
  constructor(
    private readonly connection: OpenedConnection,
    private readonly jsm: JetStreamManager,
    private readonly options: NatsBusOptions & { stream: string },
  ) {
    this.partitionCount = options.partitionCount;
    this.stream = options.stream;
    this.subjects = busSubjects(options.stream);
    this.js = jetstream(connection.nc);
    this.readers = Array.from({ length: this.partitionCount }, (_, partition) =>
      new PartitionReader(jsm, this.js, this.stream, this.subjects.partition(partition), (message) => this.decode(partition, message)));
  }

  /**
   * Publishes every message at once and waits for all the acknowledgements; a retry after a
   * failure is de-duplicated. The client picks the partition with `partitionOf`, the one
   * function the write store's cursors are keyed by. (A server-side `partition(n, token)`
   * subject mapping would also work, but lives in the server's configuration and hashes the
   * subject token's UTF-8 bytes, matching `partitionOf` only for ASCII device ids.)
   */
  async append(messages: BusMessage[], headers?: BusHeaders): Promise<void> {
    await this.connection.connected(RECONNECT_WAIT_MS);
    await Promise.all(messages.map((message) => this.js.publish(
      this.subjects.partition(partitionOf(message.deviceId, this.partitionCount)),
      JSON.stringify(message),
      { msgID: messageId(message), headers: encodeHeaders(headers) },
    )));
    this.announceAppend();
  }

  async read(partition: number, afterOffset: number, limit: number): Promise<BusRecord[]> {
    await this.connection.connected(RECONNECT_WAIT_MS);
    return (await this.readers[partition]?.read(afterOffset, limit)) ?? [];
  }

  async head(): Promise<number> {
    await this.connection.connected(RECONNECT_WAIT_MS);
    return (await this.jsm.streams.info(this.stream)).state.last_seq;
  }

  async oldestUnconsumedAtMs(positions: ReadonlyMap<number, number>): Promise<number | null> {
    let oldest: number | null = null;
    for (const first of await this.firstsAfter(positions)) {
      if (first && (oldest === null || first.time.getTime() < oldest)) oldest = first.time.getTime();
    }
    return oldest;
  }

  /**
   * Messages waiting, over all partitions: from the earliest one past its partition's cursor to
   * the head (an upper bound, like the embedded bus's). A partition with nothing past its cursor
   * (no devices, or parked ones) is not behind, however old its cursor.
   */
  async backlog(cursors: ReadonlyMap<number, number>): Promise<number> {
    let earliest: number | null = null;
    const every = new Map(Array.from({ length: this.partitionCount }, (_, partition) => [partition, cursors.get(partition) ?? 0]));
    for (const first of await this.firstsAfter(every)) {
      if (first && (earliest === null || first.seq < earliest)) earliest = first.seq;
    }
    return earliest === null ? 0 : (await this.head()) - earliest + 1;
  }

  /** Per partition in `positions`, the first message past its position, or null: one direct get each. */
  private async firstsAfter(positions: ReadonlyMap<number, number>) {
    await this.connection.connected(RECONNECT_WAIT_MS);
    return Promise.all([...positions].map(([partition, position]) =>
      this.jsm.direct.getMessage(this.stream, { seq: position + 1, next_by_subj: this.subjects.partition(partition) })));
  }

  /**
   * Purges, per partition, the messages up to its cursor that are older than the retention.
   * Cursors only grow, so a caller's stale view (a worker knows other partitions' cursors only
   * from when it started) purges less, never too much; the partitions' owners purge the rest.
   */
  async prune(cursors: ReadonlyMap<number, number>): Promise<number> {
    await this.connection.connected(RECONNECT_WAIT_MS);
    const olderUpTo = await this.lastOffsetBefore(Date.now() - this.options.retentionMs);
    const purges = [...cursors]
      .map(([partition, cursor]) => ({ partition, upTo: Math.min(cursor, olderUpTo) }))
      .filter(({ partition, upTo }) => partition >= 0 && partition < this.partitionCount && upTo > 0)
      .map(({ partition, upTo }) => this.jsm.streams.purge(this.stream, { filter: this.subjects.partition(partition), seq: upTo + 1 }));
    return (await Promise.all(purges)).reduce((sum, response) => sum + response.purged, 0);
  }

  /** Appends happen in other processes: a core-NATS message on one subject (not stored) wakes every listening worker. */
  onAppend(listener: () => void): void {
    this.listeners.push(listener);
    this.appendedSubscription ??= this.connection.nc.subscribe(this.subjects.appended, {
      callback: () => {
        for (const each of this.listeners) each();
      },
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.readers.map((reader) => reader.close()));
    this.appendedSubscription?.unsubscribe();
    await this.connection.release();
  }

  /**
   * The offset of the newest message older than `cutoffMs`: a consumer created to start at
   * that time is positioned by the server (a search of its index) and reports the message
   * before its start as already delivered.
   */
  private async lastOffsetBefore(cutoffMs: number): Promise<number> {
    const probe = await this.jsm.consumers.add(this.stream, {
      deliver_policy: DeliverPolicy.StartTime,
      opt_start_time: new Date(cutoffMs).toISOString(),
      ack_policy: AckPolicy.None,
      mem_storage: true,
      num_replicas: 1,
      inactive_threshold: nanos(10_000),
    });
    void this.jsm.consumers.delete(this.stream, probe.name).catch(() => undefined);
    return probe.delivered.stream_seq;
  }

  /** At most one wake-up per turn of the event loop, however many appends completed in it. */
  private announceAppend(): void {
    if (this.announceScheduled) return;
    this.announceScheduled = true;
    setImmediate(() => {
      this.announceScheduled = false;
      try {
        this.connection.nc.publish(this.subjects.appended);
      } catch {
        // A wake-up is a hint (workers also poll): one lost to a closing connection costs nothing.
      }
    });
  }

  private decode(partition: number, message: JsMsg): BusRecord | null {
    const decoded = decodeMessage(message.data);
    if (!decoded) {
      this.options.onInvalidRecord?.(partition, message.seq);
      return null;
    }
    return { partition, offset: message.seq, message: decoded, headers: decodeHeaders(message.headers) };
  }
}

/** Connects, and creates or checks the stream (see `ensureBusStream` for its settings). */
export async function openNatsBus(options: NatsBusOptions): Promise<NatsBus> {
  const stream = options.stream ?? 'TRIPLINE';
  const connection = await openConnection(options, `tripline-bus-${process.pid}`);
  try {
    const jsm = await jetstreamManager(connection.nc);
    await ensureBusStream(jsm, { stream, partitionCount: options.partitionCount, duplicateWindowMs: options.duplicateWindowMs, replicas: options.replicas ?? 1 });
    return new NatsBus(connection, jsm, { ...options, stream });
  } catch (error) {
    await connection.release();
    throw error;
  }
}
