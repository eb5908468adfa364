import type { Logger } from 'pino';
import type { RunningBroker } from '../adapters/mqtt/aedesBroker.js';
import type { DeviceRecord, DeviceRegistry } from '../ports/deviceRegistry.js';
import { identityOf } from './deviceAuth.js';
import { changesSince } from './registryChanges.js';

/**
 * Keeps live MQTT sessions in step with the registry, whichever process changed it (the API,
 * or `tripline devices` on the same data folder): a revoked device is disconnected for good; a
 * session that signed in before a rotation whose overlap is over (or was 0) is closed, as it may
 * hold the old secret; a device moved to another vehicle or driver publishes under its new
 * identity from then on.
 */
export function startDeviceWatcher(registry: DeviceRegistry, broker: RunningBroker, logger: Logger, intervalMs = 500): () => Promise<void> {
  let revision = 0;
  let running: Promise<void> = Promise.resolve();
  const apply = (record: DeviceRecord): void => {
    const sessionRevision = broker.sessionRevision(record.deviceId);
    // Null: the last rotation kept no previous secret (overlap 0), or there never was one.
    const oldSecretExpired = record.previousSecretValidUntilMs === null || record.previousSecretValidUntilMs <= Date.now();
    if (record.revokedAtMs !== null) {
      broker.revoke(record.deviceId);
      if (sessionRevision !== null) logger.info({ deviceId: record.deviceId }, 'revoked device disconnected');
    } else if (sessionRevision !== null && sessionRevision < record.revision && oldSecretExpired) {
      broker.disconnect(record.deviceId);
      logger.info({ deviceId: record.deviceId }, 'session from before a secret rotation closed');
    } else {
      broker.updateIdentity(identityOf(record));
    }
  };
  const poll = async (): Promise<void> => {
    for await (const page of changesSince(registry, revision)) {
      for (const record of page) apply(record);
      revision = page.at(-1)!.revision;
    }
  };
  const timer = setInterval(() => {
    running = running.then(poll).catch((error: unknown) => logger.error({ err: error }, 'device registry poll failed'));
  }, intervalMs);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}
