import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type ConfigOverrides } from '../src/runtime/config.js';
import { startEmbedded, type EmbeddedPlatform } from '../src/runtime/embedded.js';
import { createLogger } from '../src/runtime/logger.js';

export interface TestPlatform {
  platform: EmbeddedPlatform;
  mqttUrl: string;
  httpUrl: string;
  dataDir: string;
  stop: () => Promise<void>;
}

/** Starts the embedded platform on free ports in a temporary folder. */
export async function startTestPlatform(overrides: ConfigOverrides = {}): Promise<TestPlatform> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tripline-test-'));
  const config = loadConfig({ mqttPort: 0, httpPort: 0, dataDir, logLevel: 'silent', liveTimeoutS: 3, ...overrides }, {});
  const platform = await startEmbedded(config, createLogger(config.logLevel));
  return {
    platform,
    dataDir,
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

export async function getJson<T = unknown>(url: string): Promise<{ status: number; body: T }> {
  const response = await fetch(url);
  return { status: response.status, body: (await response.json()) as T };
}
