import { ID_PATTERN } from '../../domain/ids.js';
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
import { inTransaction, openWithPool, type Pool, type PoolClient } from './pool.js';
import { applySchema } from './schema.js';

export interface PgDeviceRegistryOptions {
  /** scrypt cost of new hashes as log2 N; existing hashes keep the cost they were written with. */
  scryptLog2N?: number;
  /** Connections this registry keeps open. */
  maxConnections?: number;
}

/** The registry's tables live in their own schema, so the other stores can share the database without name clashes. */
export const REGISTRY_SCHEMA = 'tripline_registry';
const DEVICES = `${REGISTRY_SCHEMA}.devices`;
const REVISION = `${REGISTRY_SCHEMA}.device_revision`;

// Ids are compared byte-wise (COLLATE "C") so paging by device id is the same whatever the database's locale.
const DDL = `
  CREATE SCHEMA IF NOT EXISTS ${REGISTRY_SCHEMA};
  CREATE TABLE IF NOT EXISTS ${DEVICES} (
    device_id text COLLATE "C" PRIMARY KEY, tenant_id text COLLATE "C" NOT NULL, vehicle_id text NOT NULL, driver_id text, policy_id text,
    secret_hash text NOT NULL, previous_secret_hash text, previous_secret_valid_until_ms bigint,
    created_at_ms bigint NOT NULL, revoked_at_ms bigint, revision bigint NOT NULL UNIQUE
  );
  CREATE INDEX IF NOT EXISTS devices_tenant ON ${DEVICES} (tenant_id, device_id);
  CREATE TABLE IF NOT EXISTS ${REVISION} (singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton), revision bigint NOT NULL);
  INSERT INTO ${REVISION} (revision) VALUES (0) ON CONFLICT DO NOTHING;
`;

/** Takes the next revision (in a writing statement's WITH): it row-locks the counter until commit. */
const NEXT_REVISION = `rev AS (UPDATE ${REVISION} SET revision = revision + 1 RETURNING revision)`;

/** Opens the registry every process of a cluster shares, creating its tables when missing. */
export async function openPgDeviceRegistry(url: string, options: PgDeviceRegistryOptions = {}): Promise<DeviceRegistry> {
  const scryptLog2N = options.scryptLog2N ?? DEFAULT_SCRYPT_LOG2_N;
  checkScryptLog2N(scryptLog2N);
  return openWithPool(url, options.maxConnections ?? 4, async (pool) => {
    await applySchema(pool, DDL);
    return new PgDeviceRegistry(pool, scryptLog2N);
  });
}

/**
 * The cluster's device registry, one table in PostgreSQL. Every write takes the next revision from
 * a one-row counter in its own transaction; the counter's row lock is held until commit, so
 * revisions commit in the order they were handed out and a watcher that has read revision n can
 * never see a smaller one appear later. Writes are rare (API, operator tools), so serialising
 * them costs nothing; scrypt runs before the transaction, never while it holds the lock.
 */
class PgDeviceRegistry implements DeviceRegistry {
  constructor(private readonly pool: Pool, private readonly scryptLog2N: number) {}

  async add(device: NewDevice): Promise<DeviceCredentials> {
    checkNewDevice(device);
    const password = generateSecret();
    const hash = await hashSecret(password, this.scryptLog2N);
    await inTransaction(this.pool, async (client) => {
      const inserted = await client.query(
        `WITH ${NEXT_REVISION}
         INSERT INTO ${DEVICES} (device_id, tenant_id, vehicle_id, driver_id, policy_id, secret_hash, created_at_ms, revision)
         SELECT $1, $2, $3, $4, $5, $6, $7, revision FROM rev
         ON CONFLICT (device_id) DO NOTHING`,
        [device.deviceId, device.tenantId, device.vehicleId, device.driverId ?? null, device.policyId ?? null, hash, Date.now()],
      );
      // Thrown inside the transaction, so the revision taken is given back.
      if (inserted.rowCount === 0) throw new DeviceExistsError(device.deviceId);
    });
    return { deviceId: device.deviceId, username: device.deviceId, password };
  }

  async rotate(tenantId: string | null, deviceId: string, overlapS: number): Promise<DeviceCredentials | null> {
    checkOverlapS(overlapS);
    if (!isId(deviceId, tenantId)) return null;
    const password = generateSecret();
    const hash = await hashSecret(password, this.scryptLog2N);
    const rotated = await inTransaction(this.pool, async (client) => {
      const row = await lockedRow(client, tenantId, deviceId);
      if (!row) return false;
      if (row.revoked_at_ms !== null) throw new DeviceRevokedError(deviceId);
      const keepPrevious = overlapS > 0;
      await client.query(
        `WITH ${NEXT_REVISION}
         UPDATE ${DEVICES} SET secret_hash = $1, previous_secret_hash = $2, previous_secret_valid_until_ms = $3, revision = rev.revision
         FROM rev WHERE device_id = $4`,
        [hash, keepPrevious ? row.secret_hash : null, keepPrevious ? Date.now() + overlapS * 1000 : null, deviceId],
      );
      return true;
    });
    return rotated ? { deviceId, username: deviceId, password } : null;
  }

  /** Revoking a revoked device changes nothing (its revision included). */
  async revoke(tenantId: string | null, deviceId: string): Promise<DeviceRecord | null> {
    if (!isId(deviceId, tenantId)) return null;
    const row = await inTransaction(this.pool, async (client) => {
      const found = await lockedRow(client, tenantId, deviceId);
      if (!found || found.revoked_at_ms !== null) return found;
      const updated = await client.query<DeviceRow>(
        `WITH ${NEXT_REVISION}
         UPDATE ${DEVICES} SET revoked_at_ms = $1, revision = rev.revision FROM rev WHERE device_id = $2 RETURNING ${DEVICES}.*`,
        [Date.now(), deviceId],
      );
      return updated.rows[0];
    });
    return row ? toRecord(row) : null;
  }

  async get(tenantId: string | null, deviceId: string): Promise<DeviceRecord | null> {
    if (!isId(deviceId, tenantId)) return null;
    const { rows } = await this.pool.query<DeviceRow>(`SELECT * FROM ${DEVICES} WHERE device_id = $1 AND ($2::text IS NULL OR tenant_id = $2)`, [deviceId, tenantId]);
    return rows[0] ? toRecord(rows[0]) : null;
  }

  async list(tenantId: string | null, page: { afterDeviceId?: string; limit: number }): Promise<DeviceRecord[]> {
    checkPageLimit(page.limit);
    if (tenantId !== null && !ID_PATTERN.test(tenantId)) return [];
    const after = page.afterDeviceId ?? '';
    const { rows } =
      tenantId === null
        ? await this.pool.query<DeviceRow>(`SELECT * FROM ${DEVICES} WHERE device_id > $1 ORDER BY device_id LIMIT $2`, [after, page.limit])
        : await this.pool.query<DeviceRow>(`SELECT * FROM ${DEVICES} WHERE tenant_id = $1 AND device_id > $2 ORDER BY device_id LIMIT $3`, [tenantId, after, page.limit]);
    return rows.map(toRecord);
  }

  async verify(deviceId: string, secret: string): Promise<VerifyOutcome> {
    if (!isId(deviceId, null)) return { ok: false, reason: 'unknown_device' };
    const { rows } = await this.pool.query<DeviceRow>(`SELECT * FROM ${DEVICES} WHERE device_id = $1`, [deviceId]);
    return verifyRow(rows[0], secret);
  }

  async changedSince(revision: number, limit: number): Promise<DeviceRecord[]> {
    checkPageLimit(limit);
    const { rows } = await this.pool.query<DeviceRow>(`SELECT * FROM ${DEVICES} WHERE revision > $1 ORDER BY revision LIMIT $2`, [revision, limit]);
    return rows.map(toRecord);
  }

  /** The counter moves in the same transaction as the row it numbers, so it never runs ahead of a commit. */
  async currentRevision(): Promise<number> {
    const { rows } = await this.pool.query<{ revision: number }>(`SELECT revision FROM ${REVISION}`);
    return rows[0]?.revision ?? 0;
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

/**
 * Takes the revision counter's lock first, so that the row read is the latest and no other
 * writer (in any process) changes it before this transaction commits.
 */
async function lockedRow(client: PoolClient, tenantId: string | null, deviceId: string): Promise<DeviceRow | undefined> {
  await client.query(`SELECT revision FROM ${REVISION} FOR UPDATE`);
  const { rows } = await client.query<DeviceRow>(`SELECT * FROM ${DEVICES} WHERE device_id = $1 AND ($2::text IS NULL OR tenant_id = $2)`, [deviceId, tenantId]);
  return rows[0];
}

/**
 * add() stores only ids that follow the id rule, so other strings (a device's MQTT username among
 * them) find nothing without a query; PostgreSQL would refuse some of them (NUL) with an error.
 */
function isId(deviceId: string, tenantId: string | null): boolean {
  return ID_PATTERN.test(deviceId) && (tenantId === null || ID_PATTERN.test(tenantId));
}
