import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { Role } from '../runtime/cluster/roles.js';
import { freePort } from './services/freePort.js';
import { startMosquitto } from './services/mosquitto.js';
import { startNats } from './services/nats.js';
import { createDatabase, startPostgres } from './services/postgres.js';
import { signalAndWait, type LocalService } from './services/localService.js';

const CLI = fileURLToPath(new URL('../../../bin/tripline.js', import.meta.url));

export interface LocalClusterOptions {
  /** Everything lives here: the servers' files, generated passwords, the shared data folder. */
  dir: string;
  /** PostgreSQL without fsync: for tests and benchmarks, never for data you keep. */
  fast?: boolean;
  /** Extra environment for every tripline process (TRIPLINE_PARTITIONS, TRIPLINE_LOG_LEVEL...). */
  env?: Record<string, string>;
  /** Where each tripline process's stderr goes (default: this process's); 'pipe': read it from `RoleProcess.child.stderr` (tests count log lines), and do read it. */
  stderr?: 'inherit' | 'ignore' | 'pipe';
}

export interface RoleProcess {
  name: string;
  roles: Role[];
  httpPort: number;
  child: ChildProcess;
}

export interface LocalCluster {
  postgres: LocalService;
  nats: LocalService;
  mosquitto: LocalService;
  /** The environment a tripline process of this cluster needs (also what `cluster up` prints). */
  env: Record<string, string>;
  processes: Map<string, RoleProcess>;
  /** Starts `tripline start --role ...` named `name` and waits until it answers /healthz. */
  startProcess: (name: string, roles: Role[], extraEnv?: Record<string, string>) => Promise<RoleProcess>;
  /** SIGKILL (a crash) or SIGTERM (a clean stop) of one process; resolves once it is gone. */
  stopProcess: (name: string, signal: 'SIGKILL' | 'SIGTERM') => Promise<void>;
  /** Restarts a server (clean stop, start on the same files and port), down for `downMs` in between. */
  restartService: (name: 'postgres' | 'nats' | 'mosquitto', downMs?: number) => Promise<void>;
  stop: () => Promise<void>;
}

interface Secrets {
  ports: { postgres: number; nats: number; mosquitto: number };
  mqttAdminPassword: string;
  mqttIngestPassword: string;
}

/**
 * A complete cluster on this machine from Debian's packages: PostgreSQL with PostGIS, NATS with
 * JetStream and Mosquitto with dynamic security, each on loopback in `dir`, plus any number of
 * tripline processes by role. Ports and passwords are chosen once and kept in `dir`, so starting
 * again on the same folder resumes the same cluster.
 */
export async function startLocalCluster(options: LocalClusterOptions): Promise<LocalCluster> {
  mkdirSync(options.dir, { recursive: true, mode: 0o755 });
  const secrets = await loadSecrets(join(options.dir, 'cluster.json'));
  const starters = {
    postgres: () => startPostgres({ dir: join(options.dir, 'postgres'), port: secrets.ports.postgres, fast: options.fast ?? false }),
    nats: () => startNats({ dir: join(options.dir, 'nats'), port: secrets.ports.nats }),
    mosquitto: () => startMosquitto({ dir: join(options.dir, 'mosquitto'), port: secrets.ports.mosquitto, adminUser: 'tripline:admin', adminPassword: secrets.mqttAdminPassword }),
  };
  const services: Record<'postgres' | 'nats' | 'mosquitto', LocalService> = {
    postgres: await starters.postgres(),
    nats: await starters.nats(),
    mosquitto: await starters.mosquitto(),
  };
  const env: Record<string, string> = {
    TRIPLINE_MQTT_URL: `mqtt://127.0.0.1:${secrets.ports.mosquitto}`,
    TRIPLINE_MQTT_ADMIN_USER: 'tripline:admin',
    TRIPLINE_MQTT_ADMIN_PASSWORD: secrets.mqttAdminPassword,
    TRIPLINE_MQTT_INGEST_USER: 'tripline:ingest',
    TRIPLINE_MQTT_INGEST_PASSWORD: secrets.mqttIngestPassword,
    TRIPLINE_NATS_URL: services.nats.url,
    TRIPLINE_DATABASE_URL: createDatabase(services.postgres, 'tripline'),
    TRIPLINE_SEARCH_DATABASE_URL: createDatabase(services.postgres, 'tripline_search', ['postgis']),
    // The development issuer's key: shared by every API process of this cluster.
    TRIPLINE_DATA_DIR: join(options.dir, 'data'),
    ...options.env,
  };
  const processes = new Map<string, RoleProcess>();

  const spawnProcess = async (name: string, roles: Role[], extraEnv: Record<string, string>): Promise<RoleProcess> => {
    const httpPort = extraEnv.TRIPLINE_HTTP_PORT ? Number(extraEnv.TRIPLINE_HTTP_PORT) : await freePort();
    const child = spawn(process.execPath, [CLI, 'start', '--role', roles.join(',')], {
      env: { ...process.env, TRIPLINE_LOG_LEVEL: 'warn', ...env, TRIPLINE_INSTANCE_ID: name, ...extraEnv, TRIPLINE_HTTP_PORT: String(httpPort) },
      stdio: ['ignore', 'ignore', options.stderr ?? 'inherit'],
    });
    const started: RoleProcess = { name, roles, httpPort, child };
    processes.set(name, started);
    await waitForHttp(httpPort, child, name);
    return started;
  };

  const startProcess = async (name: string, roles: Role[], extraEnv: Record<string, string> = {}): Promise<RoleProcess> => {
    try {
      return await spawnProcess(name, roles, extraEnv);
    } catch (error) {
      // Once more, loudly: a free port can be taken between picking it and binding it.
      processes.delete(name);
      process.stderr.write(`local cluster: ${error instanceof Error ? error.message : String(error)}; starting ${name} once more\n`);
      return spawnProcess(name, roles, extraEnv);
    }
  };

  const stopProcess = async (name: string, signal: 'SIGKILL' | 'SIGTERM'): Promise<void> => {
    const started = processes.get(name);
    if (!started) return;
    processes.delete(name);
    await signalAndWait(started.child, signal);
  };

  return {
    get postgres() {
      return services.postgres;
    },
    get nats() {
      return services.nats;
    },
    get mosquitto() {
      return services.mosquitto;
    },
    env,
    processes,
    startProcess,
    stopProcess,
    restartService: async (name, downMs = 0) => {
      await services[name].stop();
      await sleep(downMs);
      services[name] = await starters[name]();
    },
    stop: async () => {
      await Promise.all([...processes.keys()].map((name) => stopProcess(name, 'SIGTERM')));
      for (const service of [services.mosquitto, services.nats, services.postgres]) await service.stop();
    },
  };
}

async function loadSecrets(file: string): Promise<Secrets> {
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as Secrets;
  const secrets: Secrets = {
    ports: { postgres: await freePort(), nats: await freePort(), mosquitto: await freePort() },
    mqttAdminPassword: randomBytes(18).toString('base64url'),
    mqttIngestPassword: randomBytes(18).toString('base64url'),
  };
  writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  return secrets;
}

/** Until the process answers /healthz (ready or not: its roles report their own state), or dies. */
async function waitForHttp(port: number, child: ChildProcess, name: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      // A piped stderr nobody has read yet still holds what the process said before it died.
      const said = (child.stderr?.read() as Buffer | null)?.toString('utf8').slice(-2000) ?? '';
      throw new Error(`tripline process ${name} exited (${child.exitCode ?? child.signalCode}) while starting${said ? `: ${said}` : ''}`);
    }
    try {
      const response = await fetch(`http://127.0.0.1:${port}/healthz`);
      await response.body?.cancel();
      return;
    } catch {
      await sleep(200);
    }
  }
  throw new Error(`tripline process ${name} did not answer on port ${port} within ${timeoutMs} ms`);
}
