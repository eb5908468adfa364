import { Command } from 'commander';
import { registerClusterCommand } from './clusterCommand.js';
import { registerDevicesCommand } from './devicesCommand.js';
import { registerEvaluateCommand } from './evaluateCommand.js';
import { registerReindexCommand } from './reindexCommand.js';
import { registerReplayCommand, registerSimulateCommand } from './simCommands.js';
import { registerStartCommand } from './startCommand.js';
import { registerTokenCommand } from './tokenCommand.js';

/** The `tripline` command: one entry point, one file per group of subcommands. */
const program = new Command()
  .name('tripline')
  .description('Event-driven telematics for usage-based car insurance: MQTT in, trips cleaned, scored and searchable.')
  .version('0.1.0')
  .showHelpAfterError();

registerStartCommand(program);
registerSimulateCommand(program);
registerReplayCommand(program);
registerEvaluateCommand(program);
registerReindexCommand(program);
registerDevicesCommand(program);
registerTokenCommand(program);
registerClusterCommand(program);

program.parseAsync(process.argv).catch((error: unknown) => {
  process.stderr.write(`tripline: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});

