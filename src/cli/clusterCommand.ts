import { resolve } from 'node:path';
import type { Command } from 'commander';
import { addDemoOptions, driveDemoFleet, type DemoOptions } from './demoFleet.js';
import { invocation } from './invocation.js';
import { abortOnSignals, positiveInt } from './options.js';

interface UpOptions extends DemoOptions {
  dir: string;
  ingest: number;
  workers: number;
  httpPort: number;
}

/** `tripline cluster up`: a whole cluster on this machine from Debian's packages, for trying cluster mode out. */
export function registerClusterCommand(program: Command): void {
  const cluster = program.command('cluster').description('a local cluster for trying cluster mode (Debian packages: postgresql, postgresql-15-postgis-3, nats-server, mosquitto)');
  const up = cluster
    .command('up')
    .description('start PostgreSQL+PostGIS, NATS JetStream and Mosquitto on loopback, and tripline ingest, worker, sync and api processes on them, until Ctrl-C')
    .option('--dir <dir>', 'folder of the servers\' files, passwords and ports (reused by the next run)', './cluster')
    .option('--ingest <n>', 'ingest processes', positiveInt, 2)
    .option('--workers <n>', 'worker processes', positiveInt, 2)
    .option('--http-port <port>', 'port of the API process', positiveInt, 8080);
  addDemoOptions(up, 'also drive a simulated demo fleet through Mosquitto')
    .action(async (opts: UpOptions) => {
      const { startLocalCluster } = await import('../cluster/localCluster.js');
      const dir = resolve(opts.dir);
      process.stdout.write(`starting PostgreSQL, NATS and Mosquitto in ${dir}...\n`);
      const local = await startLocalCluster({ dir, env: { TRIPLINE_LOG_LEVEL: process.env.TRIPLINE_LOG_LEVEL ?? 'warn' } });
      const signal = abortOnSignals();
      try {
        // Consumers first, ingest last; the api process first of all, since it may register the demo fleet.
        await local.startProcess('api-1', ['api'], { TRIPLINE_HTTP_PORT: String(opts.httpPort) });
        await local.startProcess('sync-1', ['sync']);
        for (let i = 1; i <= opts.workers; i++) await local.startProcess(`worker-${i}`, ['worker']);
        for (let i = 1; i <= opts.ingest; i++) await local.startProcess(`ingest-${i}`, ['ingest']);
        const api = `http://127.0.0.1:${opts.httpPort}`;
        const cli = invocation();
        // The api process made the development key (when no external provider is configured); the dashboard's sign-in password comes from it.
        const { loadOrCreateDevIssuerKey } = await import('../security/devIssuer.js');
        const signIn = process.env.TRIPLINE_OAUTH_ISSUER ? null : (await loadOrCreateDevIssuerKey(local.env.TRIPLINE_DATA_DIR!)).signInPassword;
        process.stdout.write(
          [
            'tripline cluster is running:',
            ...[...local.processes.values()].map((p) => `  ${p.name.padEnd(10)} --role ${p.roles.join(',').padEnd(7)} health http://127.0.0.1:${p.httpPort}/healthz`),
            `  devices  ${local.env.TRIPLINE_MQTT_URL} (Mosquitto; accounts made by the API or '${cli} devices add' with the environment below)`,
            `  API      ${api}/v1/trips   token: TOKEN=$(${cli} token --tenant demo --scope trips:read --data-dir ${local.env.TRIPLINE_DATA_DIR})`,
            ...(signIn ? [`  web      ${api}/   (dashboard; development sign-in password: ${signIn})`] : []),
            `  environment of this cluster's processes (to start more by hand: ${cli} start --role worker):`,
            ...Object.entries(local.env).map(([key, value]) => `    export ${key}='${value}'`),
            '',
          ].join('\n'),
        );
        let fleet: Promise<unknown> = Promise.resolve();
        if (opts.demo) fleet = runDemoFleet(local.env, opts, signal);
        await new Promise<void>((done) => signal.addEventListener('abort', () => done(), { once: true }));
        process.stdout.write('stopping the cluster...\n');
        await fleet;
      } finally {
        await local.stop();
      }
    });
}

/** The demo fleet through Mosquitto, registered in the cluster's registry (which pushes the cars' accounts to Mosquitto). */
async function runDemoFleet(env: Record<string, string>, opts: UpOptions, signal: AbortSignal): Promise<void> {
  const { loadConfig } = await import('../runtime/config.js');
  const { createLogger } = await import('../runtime/logger.js');
  const { ClusterContext } = await import('../runtime/cluster/clusterContext.js');
  const config = loadConfig({}, { ...process.env, ...env });
  const ctx = new ClusterContext(config, createLogger('warn'));
  try {
    process.stdout.write(`  demo     ${opts.vehicles} simulated cars at ${opts.speedup}x through Mosquitto\n`);
    await driveDemoFleet({ registry: await ctx.registry(), tenantId: config.defaultTenant, brokerUrl: env.TRIPLINE_MQTT_URL!, vehicles: opts.vehicles, speedup: opts.speedup, signal });
  } catch (error) {
    // On Ctrl-C the fleet's connections fail as they close: that is not news.
    if (!signal.aborted) process.stderr.write(`demo fleet stopped: ${error instanceof Error ? error.message : String(error)}\n`);
  } finally {
    await ctx.close();
  }
}
