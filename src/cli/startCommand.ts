import type { Command } from 'commander';
import { loadConfig, SETTINGS, type ConfigOverrides } from '../runtime/config.js';
import { startEmbedded } from '../runtime/embedded.js';
import { createLogger } from '../runtime/logger.js';
import { addDemoOptions, driveDemoFleet, type DemoOptions } from './demoFleet.js';
import { invocation } from './invocation.js';
import { abortOnSignals } from './options.js';
import { parseRoles, type Role } from '../runtime/cluster/roles.js';
import type { PlatformConfig } from '../runtime/config.js';
import type { Logger } from 'pino';

const settingsHelp = Object.values(SETTINGS)
  .map((s) => `  ${s.env.padEnd(30)} ${s.help} (default ${s.default})`)
  .join('\n');

export function registerStartCommand(program: Command): void {
  const start = program
    .command('start')
    .description('run the embedded platform: MQTT broker, pipeline, search store and HTTP API in one process')
    .option('--role <roles>', 'cluster mode: ingest, worker, sync, api, all, or a list (ingest,worker), on the broker, NATS and PostgreSQL named by TRIPLINE_MQTT_URL, TRIPLINE_NATS_URL, TRIPLINE_DATABASE_URL and TRIPLINE_SEARCH_DATABASE_URL')
    .option('--host <address>', `listen address (${SETTINGS.host.env})`)
    .option('--mqtt-port <port>', `MQTT port (${SETTINGS.mqttPort.env})`)
    .option('--http-port <port>', `HTTP port (${SETTINGS.httpPort.env})`)
    .option('--data-dir <dir>', `data folder (${SETTINGS.dataDir.env})`)
    .addHelpText('after', `\nEnvironment variables (flags win):\n${settingsHelp}`);
  addDemoOptions(start, 'also drive a simulated demo fleet against the broker (embedded mode)')
    .action(async (opts: DemoOptions & { role?: string; host?: string; mqttPort?: string; httpPort?: string; dataDir?: string }) => {
      const overrides: ConfigOverrides = {};
      if (opts.host) overrides.host = opts.host;
      if (opts.mqttPort) overrides.mqttPort = opts.mqttPort;
      if (opts.httpPort) overrides.httpPort = opts.httpPort;
      if (opts.dataDir) overrides.dataDir = opts.dataDir;
      const config = loadConfig(overrides);
      const logger = createLogger(config.logLevel);
      if (opts.role !== undefined) return runClusterProcess(config, parseRoles(opts.role), logger);
      const platform = await startEmbedded(config, logger);
      const api = `http://${config.host}:${platform.httpPort}`;
      const cli = invocation();
      process.stdout.write(
        [
          `tripline is running (data in ${config.dataDir})`,
          `  MQTT    mqtt://${config.host}:${platform.mqttPort}  (publish to tripline/{deviceId}/telemetry)`,
          `  API     ${api}/v1/trips   spec ${api}/openapi.json`,
          `  health  ${api}/healthz    metrics ${api}/metrics`,
          platform.auth.signInPassword
            ? `  web     ${api}/   (dashboard; development sign-in password: ${platform.auth.signInPassword})`
            : `  web     ${api}/   (dashboard; signs in with ${platform.auth.issuer}, client ${config.dashboardClientId})`,
          platform.auth.jwks
            ? `  token   TOKEN=$(${cli} token --tenant ${config.defaultTenant} --scope trips:read --data-dir ${config.dataDir}); curl -H "authorization: Bearer $TOKEN" ${api}/v1/trips`
            : `  tokens  from ${platform.auth.issuer} (audience ${config.oauthAudience})`,
          `  devices ${cli} devices add ID --vehicle V --tenant T --data-dir ${config.dataDir}  (MQTT username = ID, password = the secret it prints)`,
          '',
        ].join('\n'),
      );
      const signal = abortOnSignals();
      let fleet: Promise<unknown> = Promise.resolve();
      if (opts.demo) {
        process.stdout.write(`  demo    ${opts.vehicles} simulated cars at ${opts.speedup}x; first trips are searchable within about a minute\n`);
        fleet = driveDemoFleet({
          registry: platform.registry,
          tenantId: config.defaultTenant,
          brokerUrl: `mqtt://${config.host}:${platform.mqttPort}`,
          vehicles: opts.vehicles,
          speedup: opts.speedup,
          maxMessagesPerS: config.deviceRatePerS,
          signal,
        }).catch((error: unknown) => logger.error({ err: error }, 'demo fleet stopped'));
      }
      await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
      process.stdout.write('stopping...\n');
      await fleet;
      await platform.stop();
    });
}

/** One process of a cluster: the given roles until SIGINT or SIGTERM. */
async function runClusterProcess(config: PlatformConfig, roles: Set<Role>, logger: Logger): Promise<void> {
  const { startCluster } = await import('../runtime/cluster/startCluster.js');
  const cluster = await startCluster(config, roles, logger);
  process.stdout.write(`tripline ${[...roles].join(',')} running as ${cluster.instanceId}; health and metrics on http://${config.host}:${cluster.httpPort}\n`);
  const signal = abortOnSignals();
  await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
  await cluster.stop();
}
