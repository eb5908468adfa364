import { BrokerAccountTakenError } from '../../adapters/mqtt/mosquittoAccounts.js';
import { DeviceExistsError, type DeviceCredentials, type DeviceRecord, type DeviceRegistry, type NewDevice, type VerifyOutcome } from '../../ports/deviceRegistry.js';

/** What keeps an external broker's accounts in step with the registry (Mosquitto's dynamic security, for one). */
export interface BrokerAccounts {
  provision: (credentials: DeviceCredentials) => Promise<void>;
  reconcile: (records: DeviceRecord[]) => Promise<number>;
}

/**
 * The registry, with every change that needs the broker pushed to it in the same call: a new or
 * rotated secret exists in plaintext only then, and a revocation should close the device's
 * session at once. The registry is written first; should the broker refuse, the call fails and
 * rotating the device pushes it again (`reconcile` also runs on every revocation it sees).
 */
export class BrokerSyncedRegistry implements DeviceRegistry {
  /** `reserved`: the broker's own accounts (its admin, tripline's ingest): taken, never devices. */
  constructor(private readonly registry: DeviceRegistry, private readonly accounts: BrokerAccounts, private readonly reserved: ReadonlySet<string> = new Set()) {}

  async add(device: NewDevice): Promise<DeviceCredentials> {
    // Refused before the registry is written: a device the broker would refuse must not half-exist.
    if (this.reserved.has(device.deviceId)) throw new DeviceExistsError(device.deviceId);
    const credentials = await this.registry.add(device);
    try {
      await this.accounts.provision(credentials);
    } catch (error) {
      if (!(error instanceof BrokerAccountTakenError)) throw error;
      // The name belongs to another broker account: this device can never sign in, so it goes for good.
      await this.registry.revoke(null, device.deviceId);
      throw new DeviceExistsError(device.deviceId);
    }
    return credentials;
  }

  async rotate(tenantId: string | null, deviceId: string, overlapS: number): Promise<DeviceCredentials | null> {
    const credentials = await this.registry.rotate(tenantId, deviceId, overlapS);
    if (credentials) await this.accounts.provision(credentials);
    return credentials;
  }

  async revoke(tenantId: string | null, deviceId: string): Promise<DeviceRecord | null> {
    const record = await this.registry.revoke(tenantId, deviceId);
    if (record) await this.accounts.reconcile([record]);
    return record;
  }

  get(tenantId: string | null, deviceId: string): Promise<DeviceRecord | null> {
    return this.registry.get(tenantId, deviceId);
  }

  list(tenantId: string | null, page: { afterDeviceId?: string; limit: number }): Promise<DeviceRecord[]> {
    return this.registry.list(tenantId, page);
  }

  verify(deviceId: string, secret: string): Promise<VerifyOutcome> {
    return this.registry.verify(deviceId, secret);
  }

  changedSince(revision: number, limit: number): Promise<DeviceRecord[]> {
    return this.registry.changedSince(revision, limit);
  }

  currentRevision(): Promise<number> {
    return this.registry.currentRevision();
  }

  close(): Promise<void> {
    return this.registry.close();
  }
}
