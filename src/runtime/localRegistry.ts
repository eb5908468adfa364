import { join } from 'node:path';
import { SqliteDeviceRegistry } from '../adapters/embedded/sqliteDeviceRegistry.js';
import type { DeviceRegistry } from '../ports/deviceRegistry.js';
import { loadConfig, type PlatformConfig } from './config.js';
import { ensurePrivateDataDir } from './dataDir.js';

/** The embedded device registry of a data folder: the platform and the CLI open the same file. */
export function openLocalDeviceRegistry(config: Pick<PlatformConfig, 'dataDir' | 'secretHashCost'>): SqliteDeviceRegistry {
  return new SqliteDeviceRegistry(join(config.dataDir, 'devices.db'), { scryptLog2N: config.secretHashCost });
}

/**
 * Opens the device registry for one command: the cluster's (PostgreSQL, with the broker's
 * accounts kept in step) when TRIPLINE_DATABASE_URL is set, otherwise the one of `dataDir` (or
 * TRIPLINE_DATA_DIR), creating the folder on first use.
 */
export async function withDeviceRegistry<T>(dataDir: string | undefined, work: (registry: DeviceRegistry, config: PlatformConfig) => Promise<T>): Promise<T> {
  const config = loadConfig(dataDir ? { dataDir } : {});
  if (config.databaseUrl) {
    const [{ ClusterContext }, { createLogger }] = await Promise.all([import('./cluster/clusterContext.js'), import('./logger.js')]);
    const cluster = new ClusterContext(config, createLogger('warn'));
    try {
      return await work(await cluster.registry(), config);
    } finally {
      await cluster.close();
    }
  }
  ensurePrivateDataDir(config.dataDir);
  const registry = openLocalDeviceRegistry(config);
  try {
    return await work(registry, config);
  } finally {
    await registry.close();
  }
}
