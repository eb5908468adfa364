import { join } from 'node:path';
import { SqliteDeviceRegistry } from '../adapters/embedded/sqliteDeviceRegistry.js';
import type { DeviceRegistry } from '../ports/deviceRegistry.js';
import { loadConfig, type PlatformConfig } from './config.js';
import { ensurePrivateDataDir } from './dataDir.js';

/** The embedded device registry of a data folder: the platform and the CLI open the same file. */
export function openLocalDeviceRegistry(config: Pick<PlatformConfig, 'dataDir' | 'secretHashCost'>): SqliteDeviceRegistry {
  return new SqliteDeviceRegistry(join(config.dataDir, 'devices.db'), { scryptLog2N: config.secretHashCost });
}

/** Opens the registry of `dataDir` (or TRIPLINE_DATA_DIR) for one command, creating the folder on first use. */
export async function withLocalRegistry<T>(dataDir: string | undefined, work: (registry: DeviceRegistry, config: PlatformConfig) => Promise<T>): Promise<T> {
  const config = loadConfig(dataDir ? { dataDir } : {});
  ensurePrivateDataDir(config.dataDir);
  const registry = openLocalDeviceRegistry(config);
  try {
    return await work(registry, config);
  } finally {
    await registry.close();
  }
}
