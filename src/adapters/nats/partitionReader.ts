import { nanos } from '@nats-io/transport-node';
import { AckPolicy, DeliverPolicy, type Consumer, type JetStreamClient, type JetStreamManager, type JsMsg } from '@nats-io/jetstream';
import type { BusRecord } from '../../ports/eventBus.js';

/** How long the server keeps a reader's consumer once reads stop (its partition's lease moved, its process died). */
const INACTIVE_THRESHOLD_MS = 5 * 60_000;
/** The client's shortest pull expiry. Reads ask only for messages known to be there, so it is not waited out. */
const FETCH_EXPIRES_MS = 1000;

/**
 * Reads one partition in order for its owner, through an ephemeral pull consumer (filtered to
 * the partition's subject, in memory, no acks: the write store's cursor is what records
 * progress). The consumer is reused while reads continue where the last one ended, and made
 * anew at the asked position otherwise: after a failed commit, a lease move, a server restart.
 *
 * A read never waits for messages: it asks for at most as many as the consumer reports
 * pending (from the last message's metadata, or one consumer-info request when that said
 * none), so an idle partition answers in one round trip.
 */
export class PartitionReader {
  private consumer: Consumer | null = null;
  /**
   * Reads after any offset in [from, position] find the consumer where they need it: `from`
   * is the last offset returned, and anything after it up to `position` was not a message.
   */
  private from = -1;
  private position = -1;
  /** Messages the consumer holds past `position`, as of its last delivery or info. */
  private pending = 0;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly jsm: JetStreamManager,
    private readonly js: JetStreamClient,
    private readonly stream: string,
    private readonly subject: string,
    /** The record a message carries, or null to skip it. */
    private readonly decode: (message: JsMsg) => BusRecord | null,
  ) {}

  /** Reads of one partition run one after another: a consumer serves one position at a time. */
  read(afterOffset: number, limit: number): Promise<BusRecord[]> {
    const result = this.queue.then(() => this.readNow(afterOffset, limit));
    this.queue = result.catch(() => undefined);
    return result;
  }

  async close(): Promise<void> {
    await this.queue;
    await this.drop();
  }

  private async readNow(afterOffset: number, limit: number): Promise<BusRecord[]> {
    if (limit <= 0) return [];
    const consumer = this.consumer;
    if (consumer && this.from <= afterOffset && afterOffset <= this.position) {
      try {
        if (this.pending === 0) this.pending = (await consumer.info()).num_pending;
        return await this.take(consumer, limit);
      } catch {
        // Gone (server restart, inactivity) or in an unknown position: start afresh below.
      }
    }
    return this.take(await this.reposition(afterOffset), limit);
  }

  private async take(consumer: Consumer, limit: number): Promise<BusRecord[]> {
    if (this.pending === 0) return [];
    const records: BusRecord[] = [];
    const asked = Math.min(limit, this.pending);
    let delivered = 0;
    try {
      for await (const message of await consumer.fetch({ max_messages: asked, expires: FETCH_EXPIRES_MS })) {
        delivered++;
        this.position = message.seq;
        this.pending = message.info.pending;
        const record = this.decode(message);
        if (!record) continue;
        records.push(record);
        this.from = record.offset;
      }
    } catch (error) {
      void this.drop();
      throw error;
    }
    // Fewer than were pending: the count was stale, so the next read asks the server again.
    if (delivered < asked) this.pending = 0;
    return records;
  }

  private async reposition(afterOffset: number): Promise<Consumer> {
    void this.drop();
    const info = await this.jsm.consumers.add(this.stream, {
      filter_subject: this.subject,
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: afterOffset + 1,
      ack_policy: AckPolicy.None,
      mem_storage: true,
      num_replicas: 1,
      inactive_threshold: nanos(INACTIVE_THRESHOLD_MS),
    });
    this.consumer = this.js.consumers.getConsumerFromInfo(info);
    this.from = this.position = afterOffset;
    this.pending = info.num_pending;
    return this.consumer;
  }

  /** The server would remove an abandoned consumer after the inactivity threshold; this frees it sooner. */
  private async drop(): Promise<void> {
    const consumer = this.consumer;
    this.consumer = null;
    this.pending = 0;
    await consumer?.delete().catch(() => undefined);
  }
}
