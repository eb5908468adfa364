import type { Command } from 'commander';
import { abortOnSignals, positiveInt, positiveNumber } from './options.js';
import { addCredentialOptions, simCredentials, type SimCredentialOptions } from './simCredentials.js';

const RATE_HELP = 'messages a second per device, to stay under the broker\'s per-device limit (TRIPLINE_DEVICE_RATE_PER_S there)';

const progress = (line: string): void => {
  process.stderr.write(`\r${line.padEnd(79)}`);
};

export function registerSimulateCommand(program: Command): void {
  const command = program
    .command('simulate')
    .description('drive simulated cars over real MQTT, as devices would (1 Hz points, batched, QoS 1)')
    .option('--vehicles <n>', 'number of cars', positiveInt, 20)
    .option('--broker <url>', 'MQTT broker URL', 'mqtt://127.0.0.1:1883')
    .option('--speedup <x>', 'simulated-time speedup (timestamps stay realistic)', positiveNumber, 1)
    .option('--trips <n>', 'trips per car', positiveInt, 1)
    .option('--seed <n>', 'random seed, for reproducible fleets', positiveInt, 1)
    .option('--truth <file>', 'write the ground truth (trips and injected events) as NDJSON')
    .option('--max-rate <n>', RATE_HELP, positiveNumber, 20);
  addCredentialOptions(command).action(
    async (opts: { vehicles: number; broker: string; speedup: number; trips: number; seed: number; truth?: string; maxRate: number } & SimCredentialOptions) => {
      const { fleetDeviceIds, runFleet } = await import('../sim/fleet.js');
      const credentials = await simCredentials(fleetDeviceIds(opts.vehicles), opts);
      const summary = await runFleet({
        brokerUrl: opts.broker,
        vehicles: opts.vehicles,
        speedup: opts.speedup,
        tripsPerVehicle: opts.trips,
        seed: opts.seed,
        ...(opts.truth ? { truthFile: opts.truth } : {}),
        credentials: (deviceId) => credentials.get(deviceId) ?? {},
        maxMessagesPerS: opts.maxRate,
        onProgress: progress,
        signal: abortOnSignals(),
      });
      process.stderr.write('\n');
      process.stdout.write(`${JSON.stringify(summary)}\n`);
    },
  );
}

export function registerReplayCommand(program: Command): void {
  const command = program
    .command('replay <file>')
    .description('publish recorded data over MQTT with its original timing (nds CSV or CSV.gz, or tripline NDJSON)')
    .requiredOption('--device <id>', 'device id to publish as')
    .option('--broker <url>', 'MQTT broker URL', 'mqtt://127.0.0.1:1883')
    .option('--speedup <x>', 'time speedup (each wait is capped at 2 s)', positiveNumber, 1)
    .option('--max-rate <n>', RATE_HELP, positiveNumber, 20);
  addCredentialOptions(command).action(
    async (file: string, opts: { device: string; broker: string; speedup: number; maxRate: number } & SimCredentialOptions) => {
      const { replayFile } = await import('../sim/replay.js');
      const credentials = (await simCredentials([opts.device], opts)).get(opts.device);
      const summary = await replayFile({
        file,
        deviceId: opts.device,
        ...(credentials ? { username: credentials.username, password: credentials.password } : {}),
        maxMessagesPerS: opts.maxRate,
        brokerUrl: opts.broker,
        speedup: opts.speedup,
        onProgress: progress,
        signal: abortOnSignals(),
      });
      process.stderr.write('\n');
      process.stdout.write(`${JSON.stringify(summary)}\n`);
    },
  );
}
