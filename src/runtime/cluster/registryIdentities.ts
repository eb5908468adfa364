import type { Logger } from 'pino';
import type { DeviceIdentity } from '../../functions/ingest/parseTelemetry.js';
import type { DeviceRecord, DeviceRegistry } from '../../ports/deviceRegistry.js';
import { identityOf } from '../deviceAuth.js';
import { changesSince } from '../registryChanges.js';

/** A device's identity (null: revoked) as of a registry revision. */
interface Known {
  identity: DeviceIdentity | null;
  revision: number;
}

/** A registry lookup under way, and the newest change the feed reported for that device meanwhile. */
interface Lookup {
  result: Promise<DeviceIdentity | null>;
  newest: DeviceRecord | null;
}

/**
 * Who publishes on a topic, for ingest behind an external broker: the broker has already
 * authenticated the device and checked its topic, so ingest only needs its tenant, vehicle and
 * driver. Looked up once per device and kept in step with the registry's change feed, so a
 * reassigned vehicle or a revocation is seen within a poll.
 *
 * The feed starts at the registry's revision when the first lookup is made, not at 0: nothing
 * is cached before then, so older changes cannot matter, and 100k devices are not read at start.
 * Every entry keeps its revision and only a newer record replaces it: a lookup that read a
 * device before a revocation but resolves after the feed reported it would otherwise cache the
 * old identity for good (the feed skips devices not cached yet).
 */
export class RegistryIdentities {
  private readonly known = new Map<string, Known>();
  private readonly lookups = new Map<string, Lookup>();
  /** The feed's cursor; null until the first lookup reads where it starts. */
  private revision: number | null = null;
  private starting: Promise<void> | null = null;
  private readonly timer: NodeJS.Timeout;
  private polling: Promise<void> = Promise.resolve();

  constructor(private readonly registry: Pick<DeviceRegistry, 'get' | 'changedSince' | 'currentRevision'>, logger: Logger, pollMs = 1000) {
    this.timer = setInterval(() => {
      this.polling = this.polling.then(() => this.poll()).catch((error: unknown) => logger.warn({ err: error }, 'device registry poll failed'));
    }, pollMs);
    this.timer.unref();
  }

  /** The device's identity, or null when it is unknown or revoked. Throws when the registry is unavailable. */
  async get(deviceId: string): Promise<DeviceIdentity | null> {
    const known = this.known.get(deviceId);
    if (known) return known.identity;
    const running = this.lookups.get(deviceId);
    if (running) return running.result;
    const result = this.lookUp(deviceId).finally(() => this.lookups.delete(deviceId));
    this.lookups.set(deviceId, { result, newest: null });
    return result;
  }

  private async lookUp(deviceId: string): Promise<DeviceIdentity | null> {
    // The feed's start is read before the record: a change after the read is then always seen.
    await this.start();
    const read = await this.registry.get(null, deviceId);
    const record = newer(read, this.lookups.get(deviceId)?.newest ?? null);
    // Unknown ids are not remembered: a device registered a moment ago must get in.
    if (!record) return null;
    this.remember(record);
    return this.known.get(deviceId)!.identity;
  }

  private start(): Promise<void> {
    this.starting ??= this.registry.currentRevision().then(
      (revision) => {
        this.revision ??= revision;
      },
      (error: unknown) => {
        this.starting = null; // tried again by the next lookup
        throw error;
      },
    );
    return this.starting;
  }

  private async poll(): Promise<void> {
    if (this.revision === null) return;
    for await (const page of changesSince(this.registry, this.revision)) {
      for (const record of page) {
        const lookup = this.lookups.get(record.deviceId);
        if (lookup) lookup.newest = newer(lookup.newest, record);
        if (this.known.has(record.deviceId)) this.remember(record);
      }
      this.revision = page.at(-1)!.revision;
    }
  }

  /** Keeps the record unless what is cached is newer (a feed page read before a lookup may arrive after it). */
  private remember(record: DeviceRecord): void {
    const known = this.known.get(record.deviceId);
    if (known && known.revision >= record.revision) return;
    // Revocation is permanent, so a revoked device is remembered as such.
    this.known.set(record.deviceId, { identity: record.revokedAtMs === null ? identityOf(record) : null, revision: record.revision });
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.polling;
  }
}

function newer(a: DeviceRecord | null, b: DeviceRecord | null): DeviceRecord | null {
  if (!a || !b) return a ?? b;
  return b.revision > a.revision ? b : a;
}
