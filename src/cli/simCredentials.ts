import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { DeviceCredentials } from '../ports/deviceRegistry.js';
import { SETTINGS } from '../runtime/config.js';
import { ensureDevices } from '../runtime/ensureDevices.js';
import { withDeviceRegistry } from '../runtime/localRegistry.js';

export interface SimCredentialOptions {
  credentials?: string;
  register?: boolean;
  tenant?: string;
  dataDir?: string;
}

/** The flags by which simulated devices get their MQTT credentials, shared by simulate and replay. */
export function addCredentialOptions(command: Command): Command {
  return command
    .option('--credentials <file>', 'the devices\' credentials: lines printed by `tripline devices add --json`')
    .option('--register', 'register the devices (or give them new secrets) in the local registry of --data-dir, as `tripline devices add` would')
    .option('--tenant <id>', `tenant for --register (${SETTINGS.defaultTenant.env})`)
    .option('--data-dir <dir>', `data folder of the platform for --register (${SETTINGS.dataDir.env})`);
}

export async function simCredentials(deviceIds: readonly string[], opts: SimCredentialOptions): Promise<Map<string, DeviceCredentials>> {
  if (opts.credentials) {
    const lines = readFileSync(opts.credentials, 'utf8').split('\n').filter((line) => line.trim());
    const known = new Map(lines.map((line) => JSON.parse(line) as DeviceCredentials).map((c) => [c.deviceId, c]));
    const missing = deviceIds.filter((id) => !known.has(id));
    if (missing.length) throw new Error(`${opts.credentials} has no credentials for ${missing.slice(0, 3).join(', ')}${missing.length > 3 ? '...' : ''}`);
    return known;
  }
  if (!opts.register) {
    process.stderr.write('tripline: no --credentials or --register: connecting without credentials, which tripline\'s broker refuses\n');
    return new Map();
  }
  return withDeviceRegistry(opts.dataDir, (registry, config) => ensureDevices(registry, deviceIds, opts.tenant ?? config.defaultTenant));
}
