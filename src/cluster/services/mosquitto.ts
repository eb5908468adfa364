import { pbkdf2Sync, randomBytes } from 'node:crypto';
import { chownSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitForTcp } from './waitForTcp.js';
import { findBinary, serviceDir, serviceUser, signalAndWait, spawnService, stderrTail, type LocalService } from './localService.js';

export function mosquittoBinary(): string | null {
  return findBinary(['/usr/sbin/mosquitto', '/usr/bin/mosquitto', '/usr/local/sbin/mosquitto']);
}

export function dynsecPlugin(): string | null {
  return findBinary([
    '/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so',
    '/usr/lib/aarch64-linux-gnu/mosquitto_dynamic_security.so',
    '/usr/lib/mosquitto_dynamic_security.so',
    '/usr/local/lib/mosquitto_dynamic_security.so',
  ]);
}

export interface MosquittoOptions {
  /** Config, dynamic-security accounts and the persistence file live here (kept across restarts). */
  dir: string;
  port: number;
  /** The dynamic-security administrator, created on first start only. */
  adminUser: string;
  adminPassword: string;
  /**
   * Mosquitto 2.0 keeps sessions and queued messages in memory and writes them all to
   * `mosquitto.db` on exit (SIGTERM) and every this many seconds: a SIGKILL loses what arrived
   * since the last save, including messages it already acknowledged to devices.
   */
  autosaveIntervalS?: number;
  /** Per client, above those in flight; the default of 1000 would drop telemetry while ingest is down. */
  maxQueuedMessages?: number;
  maxQueuedBytes?: number;
  /** Unacknowledged QoS 1 messages per client and direction. */
  maxInflightMessages?: number;
  /** Larger packets close the connection. */
  maxPacketBytes?: number;
}

const CONFIG_FILE = 'mosquitto.conf';
const DYNSEC_FILE = 'dynamic-security.json';

/**
 * Starts Debian's Mosquitto on loopback with the dynamic-security plugin (no anonymous access)
 * and persistence in `dir`. Starting again on the same dir resumes its accounts, sessions and
 * queued messages.
 */
export async function startMosquitto(options: MosquittoOptions): Promise<LocalService> {
  const binary = mosquittoBinary();
  const plugin = dynsecPlugin();
  if (!binary || !plugin) throw new Error('mosquitto is not installed (Debian: apt-get install mosquitto)');
  const user = serviceUser('mosquitto');
  const dir = serviceDir(options.dir, user);
  const dynsecFile = join(dir, DYNSEC_FILE);
  // Accounts change at runtime and the plugin rewrites this file: never overwrite it on a restart.
  if (!existsSync(dynsecFile)) writePrivate(dynsecFile, JSON.stringify(initialDynsecConfig(options.adminUser, options.adminPassword), null, 2), user);
  const config = join(dir, CONFIG_FILE);
  writePrivate(config, mosquittoConfig(options, plugin, dynsecFile, dir), user);
  const child = spawnService(binary, ['-c', config], user);
  await waitForTcp(options.port, 20_000, () => (child.exitCode !== null ? `mosquitto exited: ${stderrTail(child)}` : null));
  return {
    url: `mqtt://127.0.0.1:${options.port}`,
    port: options.port,
    process: child,
    stop: () => signalAndWait(child, 'SIGTERM'),
    kill: () => signalAndWait(child, 'SIGKILL'),
  };
}

function mosquittoConfig(options: MosquittoOptions, plugin: string, dynsecFile: string, dir: string): string {
  return [
    // One set of accounts and ACLs for every listener.
    'per_listener_settings false',
    `listener ${options.port} 127.0.0.1`,
    'allow_anonymous false',
    `plugin ${plugin}`,
    `plugin_opt_config_file ${dynsecFile}`,
    'persistence true',
    `persistence_location ${dir}/`,
    `autosave_interval ${options.autosaveIntervalS ?? 1}`,
    // Sessions of ingest processes that went away for good are never expired by the broker:
    // tripline gives each process a stable client id, so they come back (see mqttIngestClient).
    `max_queued_messages ${options.maxQueuedMessages ?? 1_000_000}`,
    `max_queued_bytes ${options.maxQueuedBytes ?? 512 * 1024 * 1024}`,
    `max_inflight_messages ${options.maxInflightMessages ?? 100}`,
    `max_packet_size ${options.maxPacketBytes ?? 512 * 1024}`,
    // Nothing is kept for later subscribers: a retained store is memory any device could fill.
    'retain_available false',
    // Acknowledgements are tiny and latency-bound.
    'set_tcp_nodelay true',
    'log_dest stderr',
    'log_type error',
    'log_type warning',
    'log_type notice',
    '',
  ].join('\n');
}

/**
 * What `mosquitto_ctrl dynsec init <file> <admin> <password>` writes, without putting the
 * password on a command line: a PBKDF2-SHA512 hash (the plugin's format) of an admin client
 * whose role reaches the control topics only (init's also reads every topic; ours need not).
 */
function initialDynsecConfig(adminUser: string, adminPassword: string): object {
  const salt = randomBytes(12);
  const iterations = 10_000;
  const control = '$CONTROL/dynamic-security/#';
  return {
    clients: [{
      username: adminUser,
      textname: 'tripline dynamic-security admin',
      password: pbkdf2Sync(adminPassword, salt, iterations, 64, 'sha512').toString('base64'),
      salt: salt.toString('base64'),
      iterations,
      roles: [{ rolename: 'admin' }],
    }],
    roles: [{
      rolename: 'admin',
      acls: [
        { acltype: 'publishClientSend', topic: control, allow: true },
        { acltype: 'publishClientReceive', topic: control, allow: true },
        { acltype: 'subscribePattern', topic: control, allow: true },
      ],
    }],
    defaultACLAccess: { publishClientSend: false, publishClientReceive: true, subscribe: false, unsubscribe: true },
  };
}

/** The broker's user must read these (and rewrite the accounts file); nobody else may. */
function writePrivate(path: string, text: string, user: { uid: number; gid: number } | undefined): void {
  writeFileSync(path, text, { mode: 0o600 });
  if (user) chownSync(path, user.uid, user.gid);
}
