import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Scope } from '../src/api/auth.js';
import type { DeviceCredentials, NewDevice } from '../src/ports/deviceRegistry.js';
import { loadConfig, type ConfigOverrides } from '../src/runtime/config.js';
import { startEmbedded, type EmbeddedPlatform } from '../src/runtime/embedded.js';
import { createLogger } from '../src/runtime/logger.js';

export interface TestPlatform {
  platform: EmbeddedPlatform;
  mqttUrl: string;
  httpUrl: string;
  dataDir: string;
  /** Registers a device (in the platform's default tenant unless given) and returns its credentials; once per id. */
  device: (deviceId: string, details?: Partial<Omit<NewDevice, 'deviceId'>>) => Promise<DeviceCredentials>;
  /** A token from the development issuer; by default the default tenant with trips:read. */
  token: (options?: { tenantId?: string; scopes?: Scope[] }) => Promise<string>;
  /** GET with a trips:read token of the default tenant. */
  getJson: <T = unknown>(url: string) => Promise<{ status: number; body: T }>;
  stop: () => Promise<void>;
}

/** Starts the embedded platform on free ports in a temporary folder. */
export async function startTestPlatform(overrides: ConfigOverrides = {}): Promise<TestPlatform> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tripline-test-'));
  // Fast hashes and no rate limit unless a test asks: tests exercise the checks, not their cost.
  const config = loadConfig({ mqttPort: 0, httpPort: 0, dataDir, logLevel: 'silent', liveTimeoutS: 3, secretHashCost: 10, deviceRatePerS: 0, ...overrides }, {});
  const platform = await startEmbedded(config, createLogger(config.logLevel));
  const devices = new Map<string, Promise<DeviceCredentials>>();
  const token = (options: { tenantId?: string; scopes?: Scope[] } = {}): Promise<string> =>
    platform.auth.issueToken({ tenantId: options.tenantId ?? config.defaultTenant, scopes: options.scopes ?? ['trips:read'] });
  let readToken: Promise<string> | undefined;
  return {
    platform,
    dataDir,
    device: (deviceId, details = {}) => {
      let credentials = devices.get(deviceId);
      if (!credentials) {
        credentials = platform.registry.add({ deviceId, tenantId: config.defaultTenant, vehicleId: deviceId, ...details });
        devices.set(deviceId, credentials);
      }
      return credentials;
    },
    token,
    getJson: async (url) => getJson(url, await (readToken ??= token())),
    mqttUrl: `mqtt://127.0.0.1:${platform.mqttPort}`,
    httpUrl: `http://127.0.0.1:${platform.httpPort}`,
    stop: async () => {
      await platform.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Polls until the check returns a value, or fails after the timeout. */
export async function eventually<T>(check: () => Promise<T | undefined | null | false>, timeoutMs = 20_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export async function getJson<T = unknown>(url: string, token?: string): Promise<{ status: number; body: T }> {
  const response = await fetch(url, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  return { status: response.status, body: (await response.json()) as T };
}
