import type { Logger } from 'pino';
import type { DeviceIdentity } from '../../functions/ingest/parseTelemetry.js';
import type { DeviceRegistry } from '../../ports/deviceRegistry.js';
import { identityOf } from '../deviceAuth.js';

/**
 * Who publishes on a topic, for ingest behind an external broker: the broker has already
 * authenticated the device and checked its topic, so ingest only needs its tenant, vehicle and
 * driver. Looked up once per device and kept in step with the registry's change feed, so a
 * reassigned vehicle or a revocation is seen within a poll.
 */
export class RegistryIdentities {
  private readonly known = new Map<string, DeviceIdentity | null>();
  private revision = 0;
  private readonly timer: NodeJS.Timeout;
  private polling: Promise<void> = Promise.resolve();

  constructor(private readonly registry: DeviceRegistry, private readonly logger: Logger, pollMs = 1000) {
    this.timer = setInterval(() => {
      this.polling = this.polling.then(() => this.poll()).catch((error: unknown) => logger.warn({ err: error }, 'device registry poll failed'));
    }, pollMs);
    this.timer.unref();
  }

  /** The device's identity, or null when it is unknown or revoked. */
  async get(deviceId: string): Promise<DeviceIdentity | null> {
    if (this.known.has(deviceId)) return this.known.get(deviceId)!;
    const record = await this.registry.get(null, deviceId);
    const identity = record && record.revokedAtMs === null ? identityOf(record) : null;
    // Unknown ids are not remembered: a device registered a moment ago must get in.
    if (identity) this.known.set(deviceId, identity);
    return identity;
  }

  private async poll(): Promise<void> {
    for (const record of await this.registry.changedSince(this.revision)) {
      this.revision = Math.max(this.revision, record.revision);
      if (!this.known.has(record.deviceId)) continue;
      this.known.set(record.deviceId, record.revokedAtMs === null ? identityOf(record) : null);
    }
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.polling;
  }
}
