import type { DeviceIdentity } from '../functions/ingest/parseTelemetry.js';

export interface NewDevice {
  deviceId: string;
  tenantId: string;
  vehicleId: string;
  driverId?: string;
  policyId?: string;
}

export interface DeviceRecord extends NewDevice {
  createdAtMs: number;
  revokedAtMs: number | null;
  /** Until then the secret before the last rotation is still accepted. */
  previousSecretValidUntilMs: number | null;
  /** Grows with every change, so caches and live sessions can tell a record changed. */
  revision: number;
}

/** Shown once, when a device is created or its secret rotated; only a slow hash is kept. */
export interface DeviceCredentials {
  deviceId: string;
  username: string;
  password: string;
}

export type VerifyOutcome =
  | { ok: true; identity: DeviceIdentity; revision: number }
  | { ok: false; reason: 'unknown_device' | 'revoked' | 'bad_secret' | 'busy' };

/** Which devices exist, which tenant and vehicle each belongs to, and their secrets. */
export interface DeviceRegistry {
  /** Throws DeviceExistsError when the id is taken (in any tenant). */
  add(device: NewDevice): Promise<DeviceCredentials>;
  /** A new secret; the old one stays valid for `overlapS` seconds. Null when the device is unknown to that tenant. */
  rotate(tenantId: string | null, deviceId: string, overlapS: number): Promise<DeviceCredentials | null>;
  /** Null when the device is unknown to that tenant. `tenantId` null means any tenant (operator tools). */
  revoke(tenantId: string | null, deviceId: string): Promise<DeviceRecord | null>;
  get(tenantId: string | null, deviceId: string): Promise<DeviceRecord | null>;
  list(tenantId: string | null, page: { afterDeviceId?: string; limit: number }): Promise<DeviceRecord[]>;
  /** Checks a secret presented at connect. */
  verify(deviceId: string, secret: string): Promise<VerifyOutcome>;
  /**
   * At most `limit` devices changed after a revision, oldest change first, for revoking live
   * sessions changed by another process; page on from the last record's revision (they are unique).
   */
  changedSince(revision: number, limit: number): Promise<DeviceRecord[]>;
  /** The highest revision committed so far (0 when empty): a watcher starting from it misses no later change. */
  currentRevision(): Promise<number>;
  close(): Promise<void>;
}

/** Revocation is permanent: a revoked device cannot be given a new secret. */
export class DeviceRevokedError extends Error {
  constructor(readonly deviceId: string) {
    super(`device ${deviceId} is revoked; revocation is permanent, add a new device instead`);
    this.name = 'DeviceRevokedError';
  }
}

export class DeviceExistsError extends Error {
  constructor(readonly deviceId: string) {
    super(`device ${deviceId} already exists`);
    this.name = 'DeviceExistsError';
  }
}
