import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IClientOptions } from 'mqtt';
import pino from 'pino';
import { SqliteDeviceRegistry } from '../src/adapters/embedded/sqliteDeviceRegistry.js';
import { connectDynsec, type DynsecClient } from '../src/adapters/mqtt/dynsecClient.js';
import { createMosquittoAccounts, type MosquittoAccounts } from '../src/adapters/mqtt/mosquittoAccounts.js';
import type { DeviceIdentity } from '../src/functions/ingest/parseTelemetry.js';
import type { DeviceCredentials } from '../src/ports/deviceRegistry.js';
import { identityOf } from '../src/runtime/deviceAuth.js';
import { dynsecPlugin, mosquittoBinary, startMosquitto, type MosquittoOptions } from '../src/cluster/services/mosquitto.js';
import { tempServiceRoot, type LocalService } from '../src/cluster/services/localService.js';
import { freePort } from './processes.js';
import { attempt as attemptMqtt, type Attempt } from './mqttDevice.js';
import { FAST_HASHING } from './deviceRegistryContract.js';

/**
 * `skip` option for tests that need Mosquitto: skipped loudly when it is not installed, except
 * under CI, where the missing broker must fail the run.
 */
export function mosquittoSkip(): string | false {
  if (mosquittoBinary() && dynsecPlugin()) return false;
  if (process.env.CI === 'true') return false;
  console.warn('\n!!! SKIPPING the Mosquitto tests: mosquitto or its dynamic-security plugin is missing (apt-get install mosquitto) !!!\n');
  return 'mosquitto is not installed';
}

export const ADMIN = { username: 'tripline:admin', password: 'admin-secret' };
export const INGEST = { username: 'tripline:ingest', password: 'ingest-secret' };

export interface TestMosquitto {
  url: string;
  service: () => LocalService;
  dynsec: DynsecClient;
  /** Stops (SIGTERM) or kills (SIGKILL) the broker and starts it again on the same folder and port. */
  restart: (how: 'stop' | 'kill') => Promise<void>;
  close: () => Promise<void>;
}

export async function startTestMosquitto(options: Partial<MosquittoOptions> = {}): Promise<TestMosquitto> {
  const root = tempServiceRoot('tripline-mosquitto-');
  const settings: MosquittoOptions = { dir: join(root, 'broker'), port: await freePort(), adminUser: ADMIN.username, adminPassword: ADMIN.password, ...options };
  let service = await startMosquitto(settings);
  const url = service.url;
  const dynsec = await connectDynsec({ url, ...ADMIN, timeoutMs: 5000 });
  return {
    url,
    service: () => service,
    dynsec,
    restart: async (how) => {
      await (how === 'stop' ? service.stop() : service.kill());
      service = await startMosquitto(settings);
    },
    close: async () => {
      await dynsec.close().catch(() => {});
      await service.stop();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** One MQTT 5 connection attempt without retries: connected, or the CONNACK reason code. */
export const attempt = (url: string, options: IClientOptions): Promise<Attempt> => attemptMqtt(url, { protocolVersion: 5, ...options });

export const silentLogger = pino({ level: 'silent' });

export interface TestAccounts {
  registry: SqliteDeviceRegistry;
  accounts: MosquittoAccounts;
  /** Registers a device (tenant t1, vehicle `veh-{id}`) and gives it its broker account. */
  device: (deviceId: string) => Promise<DeviceCredentials>;
  /** What the lead's lookup will do: the registry's record, unless revoked. */
  lookup: (deviceId: string) => Promise<DeviceIdentity | null>;
  close: () => Promise<void>;
}

/** A real device registry (SQLite, cheap hashes) kept in step with the broker's accounts, bootstrapped. */
export async function startTestAccounts(broker: TestMosquitto): Promise<TestAccounts> {
  const dir = mkdtempSync(join(tmpdir(), 'tripline-mosquitto-registry-'));
  const registry = new SqliteDeviceRegistry(join(dir, 'devices.db'), FAST_HASHING);
  const accounts = createMosquittoAccounts({ dynsec: broker.dynsec, ingest: INGEST, reservedUsernames: [ADMIN.username], registry });
  await accounts.bootstrap();
  return {
    registry,
    accounts,
    device: async (deviceId) => {
      const credentials = await registry.add({ deviceId, tenantId: 't1', vehicleId: `veh-${deviceId}` });
      await accounts.provision(credentials);
      return credentials;
    },
    lookup: async (deviceId) => {
      const record = await registry.get(null, deviceId);
      return record && record.revokedAtMs === null ? identityOf(record) : null;
    },
    close: async () => {
      await registry.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
