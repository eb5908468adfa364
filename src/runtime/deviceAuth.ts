import type { ConnectAttempt, ConnectVerdict } from '../adapters/mqtt/aedesBroker.js';
import type { DeviceIdentity } from '../functions/ingest/parseTelemetry.js';
import type { DeviceRecord, DeviceRegistry, VerifyOutcome } from '../ports/deviceRegistry.js';

export interface DeviceAuthOptions {
  registry: DeviceRegistry;
  /** The registry's secret check, usually behind a cache of recent successes. */
  verify: (deviceId: string, secret: string) => Promise<VerifyOutcome>;
  onRefused: (reason: string) => void;
}

/**
 * Who may connect: a registered, unrevoked device whose client id is its own device id, proven
 * by its secret (username = device id) or by a verified client certificate whose CN names it.
 * The client id must match because it names the session: a device must never take over another's.
 */
export function createDeviceAuthenticator(options: DeviceAuthOptions): (attempt: ConnectAttempt) => Promise<ConnectVerdict> {
  const refuse = (reason: string): ConnectVerdict => {
    options.onRefused(reason);
    return { ok: false, reason };
  };
  return async ({ clientId, username, password, certificateCn }) => {
    if (certificateCn !== undefined) {
      if (certificateCn !== clientId) return refuse('client_id_mismatch');
      const record = await options.registry.get(null, clientId);
      if (!record) return refuse('unknown_device');
      if (record.revokedAtMs !== null) return refuse('revoked');
      return { ok: true, identity: identityOf(record), revision: record.revision };
    }
    if (username === undefined || password === undefined) return refuse('missing_credentials');
    if (username !== clientId) return refuse('client_id_mismatch');
    const outcome = await options.verify(clientId, password.toString('utf8'));
    if (outcome.ok) return { ok: true, identity: outcome.identity, revision: outcome.revision };
    return { ...refuse(outcome.reason), ...(outcome.reason === 'busy' ? { unavailable: true } : {}) };
  };
}

export function identityOf(record: DeviceRecord): DeviceIdentity {
  return {
    deviceId: record.deviceId,
    vehicleId: record.vehicleId,
    tenantId: record.tenantId,
    ...(record.driverId ? { driverId: record.driverId } : {}),
    ...(record.policyId ? { policyId: record.policyId } : {}),
  };
}
