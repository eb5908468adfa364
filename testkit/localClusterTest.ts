import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { natsServerBinary } from '../src/cluster/services/nats.js';
import { mosquittoBinary } from '../src/cluster/services/mosquitto.js';
import { postgisInstalled, postgresBinDir } from '../src/cluster/services/postgres.js';
import { tempServiceRoot } from '../src/cluster/services/localService.js';
import { startLocalCluster, type LocalCluster } from '../src/cluster/localCluster.js';
import type { DeviceCredentials } from '../src/ports/deviceRegistry.js';
import { runCli } from './processes.js';

/** What cluster tests need; null (with a loud warning) when a server package is missing outside CI. */
export function clusterPackagesMissing(): string | null {
  const missing = [
    postgresBinDir() ? null : 'postgresql',
    postgisInstalled() ? null : 'postgresql-15-postgis-3',
    natsServerBinary() ? null : 'nats-server',
    mosquittoBinary() ? null : 'mosquitto',
  ].filter(Boolean);
  if (missing.length === 0) return null;
  const message = `cluster tests need Debian packages: apt-get install ${missing.join(' ')}`;
  if (process.env.CI === 'true') throw new Error(`${message} (CI=true forbids skipping)`);
  console.warn(`\n*** ${message}: skipping ***\n`);
  return message;
}

/** A local cluster in a temporary folder, fast settings for tests; `cleanup` stops it and removes the folder. `stderr: 'pipe'`: the test reads the processes' logs. */
export async function startTestCluster(env: Record<string, string> = {}, options: { stderr?: 'pipe' } = {}): Promise<LocalCluster & { dir: string; cleanup: () => Promise<void> }> {
  const dir = tempServiceRoot('tripline-cluster-');
  const cluster = await startLocalCluster({
    dir,
    fast: true,
    stderr: options.stderr ?? (process.env.TRIPLINE_TEST_LOGS ? 'inherit' : 'ignore'),
    env: { TRIPLINE_LOG_LEVEL: 'warn', TRIPLINE_SECRET_HASH_COST: '10', TRIPLINE_LIVE_TIMEOUT_S: '3', TRIPLINE_LEASE_TTL_S: '3', TRIPLINE_PARTITIONS: '8', ...env },
  });
  return Object.assign(cluster, {
    dir,
    cleanup: async () => {
      await cluster.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  });
}

/** A token from the cluster's development issuer (its key is in the shared data folder). */
export async function clusterToken(cluster: LocalCluster, scope: string, tenant = 'demo'): Promise<string> {
  return (await runCli(['token', '--tenant', tenant, '--scope', scope, '--data-dir', cluster.env.TRIPLINE_DATA_DIR!])).trim();
}

/** Registers devices through the API (`POST /v1/devices`, one by one) and returns their credentials. */
export async function registerThroughApi(apiUrl: string, token: string, deviceIds: string[]): Promise<Map<string, DeviceCredentials>> {
  const credentials = new Map<string, DeviceCredentials>();
  for (const deviceId of deviceIds) {
    const response = await fetch(`${apiUrl}/v1/devices`, {
      method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ deviceId, vehicleId: deviceId }),
    });
    assert.equal(response.status, 201, await response.clone().text());
    credentials.set(deviceId, (await response.json()) as DeviceCredentials);
  }
  return credentials;
}
