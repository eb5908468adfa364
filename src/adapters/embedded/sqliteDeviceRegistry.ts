import {
  DeviceExistsError,
  DeviceRevokedError,
  type DeviceCredentials,
  type DeviceRecord,
  type DeviceRegistry,
  type NewDevice,
  type VerifyOutcome,
} from '../../ports/deviceRegistry.js';
import { checkScryptLog2N, DEFAULT_SCRYPT_LOG2_N, generateSecret, hashSecret } from '../../security/secretHash.js';
import { checkNewDevice, checkOverlapS, checkPageLimit, toRecord, verifyRow, type DeviceRow } from '../deviceRows.js';
import { openSqlite } from './sqlite.js';

export interface SqliteDeviceRegistryOptions {
  /** scrypt cost of new hashes as log2 N; existing hashes keep the cost they were written with. */
  scryptLog2N?: number;
}

/**
 * The embedded device registry, one SQLite file. The platform and the CLI may open it at the
 * same time (WAL, busy timeout): writes take the write lock first (BEGIN IMMEDIATE) so the
 * revision they read is still the highest when they commit. Rows are never deleted, so the
 * highest revision only grows. Commits are fsynced (FULL): a revocation must survive power loss.
 */
export class SqliteDeviceRegistry implements DeviceRegistry {
  private readonly db;
  private readonly stmt;
  private readonly scryptLog2N: number;

  constructor(path: string, options: SqliteDeviceRegistryOptions = {}) {
    this.scryptLog2N = options.scryptLog2N ?? DEFAULT_SCRYPT_LOG2_N;
    checkScryptLog2N(this.scryptLog2N);
    this.db = openSqlite(path, 'FULL');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS devices (
        device_id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, vehicle_id TEXT NOT NULL, driver_id TEXT, policy_id TEXT,
        secret_hash TEXT NOT NULL, previous_secret_hash TEXT, previous_secret_valid_until_ms INTEGER,
        created_at_ms INTEGER NOT NULL, revoked_at_ms INTEGER, revision INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE INDEX IF NOT EXISTS devices_tenant ON devices (tenant_id, device_id);
      CREATE UNIQUE INDEX IF NOT EXISTS devices_revision ON devices (revision);
    `);
    this.stmt = {
      nextRevision: this.db.prepare('SELECT COALESCE(MAX(revision), 0) + 1 AS next FROM devices'),
      insert: this.db.prepare(
        `INSERT INTO devices (device_id, tenant_id, vehicle_id, driver_id, policy_id, secret_hash, created_at_ms, revision)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      rotate: this.db.prepare(
        'UPDATE devices SET secret_hash = ?, previous_secret_hash = ?, previous_secret_valid_until_ms = ?, revision = ? WHERE device_id = ?',
      ),
      revoke: this.db.prepare('UPDATE devices SET revoked_at_ms = ?, revision = ? WHERE device_id = ?'),
      selectAny: this.db.prepare('SELECT * FROM devices WHERE device_id = ?'),
      selectInTenant: this.db.prepare('SELECT * FROM devices WHERE device_id = ? AND tenant_id = ?'),
      listAny: this.db.prepare('SELECT * FROM devices WHERE device_id > ? ORDER BY device_id LIMIT ?'),
      listInTenant: this.db.prepare('SELECT * FROM devices WHERE tenant_id = ? AND device_id > ? ORDER BY device_id LIMIT ?'),
      changedSince: this.db.prepare('SELECT * FROM devices WHERE revision > ? ORDER BY revision LIMIT ?'),
      currentRevision: this.db.prepare('SELECT COALESCE(MAX(revision), 0) AS revision FROM devices'),
    };
  }

  async add(device: NewDevice): Promise<DeviceCredentials> {
    checkNewDevice(device);
    const password = generateSecret();
    const hash = await hashSecret(password, this.scryptLog2N);
    this.db.transaction(() => {
      if (this.stmt.selectAny.get(device.deviceId)) throw new DeviceExistsError(device.deviceId);
      this.stmt.insert.run(
        device.deviceId, device.tenantId, device.vehicleId, device.driverId ?? null, device.policyId ?? null,
        hash, Date.now(), this.nextRevision(),
      );
    }).immediate();
    return { deviceId: device.deviceId, username: device.deviceId, password };
  }

  async rotate(tenantId: string | null, deviceId: string, overlapS: number): Promise<DeviceCredentials | null> {
    checkOverlapS(overlapS);
    // Hashed before taking the write lock, which is then held only for a read and an update.
    const password = generateSecret();
    const hash = await hashSecret(password, this.scryptLog2N);
    const rotated = this.db.transaction(() => {
      const row = this.row(tenantId, deviceId);
      if (!row) return false;
      if (row.revoked_at_ms !== null) throw new DeviceRevokedError(deviceId);
      const keepPrevious = overlapS > 0;
      this.stmt.rotate.run(
        hash, keepPrevious ? row.secret_hash : null, keepPrevious ? Date.now() + overlapS * 1000 : null, this.nextRevision(), deviceId,
      );
      return true;
    }).immediate();
    return rotated ? { deviceId, username: deviceId, password } : null;
  }

  /** Revoking a revoked device changes nothing (its revision included). */
  async revoke(tenantId: string | null, deviceId: string): Promise<DeviceRecord | null> {
    const row = this.db.transaction(() => {
      const found = this.row(tenantId, deviceId);
      if (!found || found.revoked_at_ms !== null) return found;
      this.stmt.revoke.run(Date.now(), this.nextRevision(), deviceId);
      return this.row(tenantId, deviceId);
    }).immediate();
    return row ? toRecord(row) : null;
  }

  async get(tenantId: string | null, deviceId: string): Promise<DeviceRecord | null> {
    const row = this.row(tenantId, deviceId);
    return row ? toRecord(row) : null;
  }

  async list(tenantId: string | null, page: { afterDeviceId?: string; limit: number }): Promise<DeviceRecord[]> {
    checkPageLimit(page.limit);
    const after = page.afterDeviceId ?? '';
    const rows = tenantId === null ? this.stmt.listAny.all(after, page.limit) : this.stmt.listInTenant.all(tenantId, after, page.limit);
    return (rows as DeviceRow[]).map(toRecord);
  }

  async verify(deviceId: string, secret: string): Promise<VerifyOutcome> {
    return verifyRow(this.stmt.selectAny.get(deviceId) as DeviceRow | undefined, secret);
  }

  async changedSince(revision: number, limit: number): Promise<DeviceRecord[]> {
    checkPageLimit(limit);
    return (this.stmt.changedSince.all(revision, limit) as DeviceRow[]).map(toRecord);
  }

  async currentRevision(): Promise<number> {
    return (this.stmt.currentRevision.get() as { revision: number }).revision;
  }

  async close(): Promise<void> {
    this.db.close();
  }

  private row(tenantId: string | null, deviceId: string): DeviceRow | undefined {
    const row = tenantId === null ? this.stmt.selectAny.get(deviceId) : this.stmt.selectInTenant.get(deviceId, tenantId);
    return row as DeviceRow | undefined;
  }

  /** Only inside a write transaction, where no other writer can take the same number. */
  private nextRevision(): number {
    return (this.stmt.nextRevision.get() as { next: number }).next;
  }
}
