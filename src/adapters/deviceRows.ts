import { ID_PATTERN, ID_RULE } from '../domain/ids.js';
import type { DeviceIdentity } from '../functions/ingest/parseTelemetry.js';
import type { DeviceRecord, NewDevice, VerifyOutcome } from '../ports/deviceRegistry.js';
import { verifySecret } from '../security/secretHash.js';

/** A device as every registry stores it (SQLite and PostgreSQL share the column names). */
export interface DeviceRow {
  device_id: string;
  tenant_id: string;
  vehicle_id: string;
  driver_id: string | null;
  policy_id: string | null;
  secret_hash: string;
  previous_secret_hash: string | null;
  previous_secret_valid_until_ms: number | null;
  created_at_ms: number;
  revoked_at_ms: number | null;
  revision: number;
}

export function checkNewDevice(device: NewDevice): void {
  const ids: Array<[string, string | undefined]> = [
    ['device id', device.deviceId], ['tenant id', device.tenantId], ['vehicle id', device.vehicleId],
    ['driver id', device.driverId], ['policy id', device.policyId],
  ];
  for (const [name, value] of ids) {
    if (value !== undefined && !ID_PATTERN.test(value)) throw new Error(`invalid ${name} ${JSON.stringify(value)}: expected ${ID_RULE}`);
  }
}

export function checkOverlapS(overlapS: number): void {
  if (!Number.isFinite(overlapS) || overlapS < 0) throw new RangeError(`overlapS must be a number of seconds >= 0, got ${overlapS}`);
}

export function checkPageLimit(limit: number): void {
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`limit must be a positive integer, got ${limit}`);
}

/** The secret check on a stored row: the current hash, or the previous one while its overlap lasts. */
export async function verifyRow(row: DeviceRow | undefined, secret: string): Promise<VerifyOutcome> {
  if (!row) return { ok: false, reason: 'unknown_device' };
  if (row.revoked_at_ms !== null) return { ok: false, reason: 'revoked' };
  const matches =
    (await verifySecret(secret, row.secret_hash)) ||
    (row.previous_secret_hash !== null &&
      Date.now() < (row.previous_secret_valid_until_ms ?? 0) &&
      (await verifySecret(secret, row.previous_secret_hash)));
  return matches ? { ok: true, identity: toIdentity(row), revision: row.revision } : { ok: false, reason: 'bad_secret' };
}

function toIdentity(row: DeviceRow): DeviceIdentity {
  return {
    deviceId: row.device_id,
    vehicleId: row.vehicle_id,
    tenantId: row.tenant_id,
    ...(row.driver_id !== null ? { driverId: row.driver_id } : {}),
    ...(row.policy_id !== null ? { policyId: row.policy_id } : {}),
  };
}

/** The public view of a row: everything but the hashes. */
export function toRecord(row: DeviceRow): DeviceRecord {
  return {
    ...toIdentity(row),
    createdAtMs: row.created_at_ms,
    revokedAtMs: row.revoked_at_ms,
    previousSecretValidUntilMs: row.previous_secret_valid_until_ms,
    revision: row.revision,
  };
}
