import { createHash } from 'node:crypto';
import type { IPublishPacket } from 'mqtt';

/**
 * Failures of one message, each with another message appended in between, after which it is
 * acknowledged and dropped as poison (so 6 attempts at least; the reconnect backoff spaces them).
 */
export const POISON_STRIKES = 5;
/** Failing messages remembered at most: each share-group member has at most one at the head of its session. */
const MAX_TRACKED = 256;

interface Failing {
  /** Packet ids are reused once a message is acknowledged: the content tells two messages apart. */
  fingerprint: string;
  failures: number;
  strikes: number;
  /** The clock when it last failed. */
  lastFailedAt: number;
}

/**
 * Tells a message that cannot be handled (poison) from a bus that cannot take anything. An
 * unacknowledged message comes back first on its member's next connection (Mosquitto resends
 * it with its packet id), so one that always fails would stall that member's share for good.
 *
 * The rule: a failure is a strike only if another message was appended by an attempt that
 * started after this message's previous failure, i.e. the bus took something meanwhile. With
 * the bus down, unreachable or refusing everything (storage full) nothing is appended, so no
 * message ever collects a strike and none is dropped: they wait, unacknowledged, as before.
 * `POISON_STRIKES` such failures in a row make the message poison. A flapping bus can add a
 * strike per flap, hence several; and only the handling after the registry lookup counts (a
 * registry outage fails new devices' lookups while cached ones pass, which is not poison).
 * Members do not see each other's messages, so with one member and no other traffic a poison
 * message is never proven so and keeps coming back, as it did before.
 *
 * Remembered in memory only: after a restart the count starts again, which only delays.
 */
export class PoisonMessages {
  /** Orders attempt starts and failures. */
  private clock = 0;
  /** When the latest successful append started. */
  private lastAppendStartedAt = 0;
  private readonly failing = new Map<string, Failing>();

  /** Before a message is handed to the bus; pass the result to `appended`. */
  attempt(): number {
    return ++this.clock;
  }

  /** A message is on the bus: proof that the bus takes messages. */
  appended(startedAt: number): void {
    this.lastAppendStartedAt = Math.max(this.lastAppendStartedAt, startedAt);
  }

  /** The message was acknowledged: its packet id may now name another one. */
  settled(member: string, packet: IPublishPacket): void {
    if (this.failing.size > 0 && packet.messageId !== undefined) this.failing.delete(keyOf(member, packet.messageId));
  }

  /**
   * The bus failed for this message: whether it is now poison, and how often it failed. A
   * transient failure (isTransient: a timeout, no responders, a lost connection) is never a
   * strike: a degraded bus can fail any message a few times in a row while others get through.
   */
  failed(member: string, packet: IPublishPacket, error?: unknown): { poison: boolean; failures: number } {
    // QoS 0 is acknowledged whatever happens: there is nothing to hold.
    if (packet.messageId === undefined) return { poison: false, failures: 1 };
    const key = keyOf(member, packet.messageId);
    const fingerprint = fingerprintOf(packet);
    const now = ++this.clock;
    let entry = this.failing.get(key);
    if (!entry || entry.fingerprint !== fingerprint) {
      entry = { fingerprint, failures: 0, strikes: 0, lastFailedAt: now };
    } else if (this.lastAppendStartedAt > entry.lastFailedAt && !isTransient(error)) {
      entry.strikes++;
    }
    entry.failures++;
    entry.lastFailedAt = now;
    // Re-inserted, so the map's order is least recently failed first.
    this.failing.delete(key);
    this.failing.set(key, entry);
    if (this.failing.size > MAX_TRACKED) this.failing.delete(this.failing.keys().next().value!);
    return { poison: entry.strikes >= POISON_STRIKES, failures: entry.failures };
  }
}

const keyOf = (member: string, messageId: number): string => `${member}\u0000${messageId}`;

function fingerprintOf(packet: IPublishPacket): string {
  return createHash('sha256').update(packet.topic).update('\u0000').update(packet.payload).digest('base64');
}

const TRANSIENT_ERRORS = new Set(['TimeoutError', 'NoRespondersError', 'ConnectionError', 'ClosedConnectionError', 'DrainingConnectionError']);

/** A failure that says nothing about the message: the bus was slow or away (the NATS client's errors, or their causes). */
export function isTransient(error: unknown): boolean {
  for (let cause = error, depth = 0; cause instanceof Error && depth < 5; cause = cause.cause, depth++) {
    if (TRANSIENT_ERRORS.has(cause.name) || /timeout|timed out|no responders|unreachable/i.test(cause.message)) return true;
  }
  return false;
}
