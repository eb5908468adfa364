import type { Logger } from 'pino';
import type { RunningBroker } from '../adapters/mqtt/aedesBroker.js';
import type { DeviceRegistry } from '../ports/deviceRegistry.js';
import { identityOf } from './deviceAuth.js';

/**
 * Keeps live MQTT sessions in step with the registry, whichever process changed it (the API,
 * or `tripline devices` on the same data folder): a revoked device is disconnected, a device
 * moved to another vehicle or driver publishes under its new identity from then on.
 */
export function startDeviceWatcher(registry: DeviceRegistry, broker: RunningBroker, logger: Logger, intervalMs = 500): () => Promise<void> {
  let revision = 0;
  let running: Promise<void> = Promise.resolve();
  const poll = async (): Promise<void> => {
    for (const record of await registry.changedSince(revision)) {
      revision = Math.max(revision, record.revision);
      if (record.revokedAtMs === null) broker.updateIdentity(identityOf(record));
      else if (broker.disconnect(record.deviceId)) logger.info({ deviceId: record.deviceId }, 'revoked device disconnected');
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
