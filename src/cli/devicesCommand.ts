import { InvalidArgumentError, type Command } from 'commander';
import type { DeviceCredentials, DeviceRecord, DeviceRegistry } from '../ports/deviceRegistry.js';
import { SETTINGS } from '../runtime/config.js';
import { withDeviceRegistry } from '../runtime/localRegistry.js';

interface DataDirOption {
  dataDir?: string;
}

const DATA_DIR_HELP = `data folder holding devices.db (${SETTINGS.dataDir.env}, default ${SETTINGS.dataDir.default}); with ${SETTINGS.databaseUrl.env} set, the cluster's registry instead (and the broker's accounts, with ${SETTINGS.mqttAdminUser.env})`;
const LIST_PAGE = 500;

export function registerDevicesCommand(program: Command): void {
  const devices = program
    .command('devices')
    .description('register devices and manage their MQTT credentials (username = device id, password = a generated secret)')
    .addHelpText(
      'after',
      `
Devices live in <data dir>/devices.db. These commands are safe while the platform runs: it sees
new devices at once, and rotations and revocations on the next connect (revoked devices that are
connected are disconnected). Passwords are printed once and only a slow hash of them is kept; a
lost password cannot be recovered, only rotated.

Examples:
  tripline devices add car-1 --tenant acme --vehicle WVW123 --driver alice --json
  tripline devices list --tenant acme
  tripline devices rotate car-1 --overlap-s 3600
  tripline devices revoke car-1`,
    );

  devices
    .command('add <deviceId>')
    .description('register a device and print its credentials, once')
    .requiredOption('--tenant <id>', 'tenant the device belongs to')
    .requiredOption('--vehicle <id>', 'vehicle the device is fitted to')
    .option('--driver <id>', 'driver of the vehicle')
    .option('--policy <id>', 'insurance policy covering the vehicle')
    .option('--json', 'print {"deviceId","username","password"} on one line')
    .option('--data-dir <dir>', DATA_DIR_HELP)
    .addHelpText('after', '\nIds are 1-64 characters of A-Z a-z 0-9 _ -. Device ids are unique across tenants: they are the MQTT identity.')
    .action(async (deviceId: string, opts: DataDirOption & { tenant: string; vehicle: string; driver?: string; policy?: string; json?: boolean }) => {
      const credentials = await withDeviceRegistry(opts.dataDir, (registry) =>
        registry.add({
          deviceId,
          tenantId: opts.tenant,
          vehicleId: opts.vehicle,
          ...(opts.driver ? { driverId: opts.driver } : {}),
          ...(opts.policy ? { policyId: opts.policy } : {}),
        }),
      );
      if (opts.json) return printJson(credentials);
      process.stdout.write(`device ${deviceId} added to tenant ${opts.tenant} (vehicle ${opts.vehicle})\n${credentialLines(credentials)}`);
    });

  devices
    .command('list')
    .description('list devices, by id')
    .option('--tenant <id>', 'only this tenant\'s devices')
    .option('--json', 'one JSON object per device and line')
    .option('--data-dir <dir>', DATA_DIR_HELP)
    .action(async (opts: DataDirOption & { tenant?: string; json?: boolean }) => {
      await withDeviceRegistry(opts.dataDir, async (registry) => {
        let count = 0;
        if (!opts.json) process.stdout.write(`${row(['DEVICE', 'TENANT', 'VEHICLE', 'DRIVER', 'POLICY', 'CREATED', 'STATUS'])}\n`);
        for await (const record of allDevices(registry, opts.tenant ?? null)) {
          count++;
          process.stdout.write(opts.json ? `${JSON.stringify(record)}\n` : `${row(columns(record))}\n`);
        }
        if (!opts.json) process.stdout.write(`${count} device${count === 1 ? '' : 's'}\n`);
      });
    });

  devices
    .command('rotate <deviceId>')
    .description('give a device a new password and print it, once; the old one keeps working for --overlap-s')
    .option('--overlap-s <seconds>', 'seconds the old password stays valid, to reconfigure the device (0: stops at once)', nonNegativeNumber, 86_400)
    .option('--json', 'print {"deviceId","username","password"} on one line')
    .option('--data-dir <dir>', DATA_DIR_HELP)
    .action(async (deviceId: string, opts: DataDirOption & { overlapS: number; json?: boolean }) => {
      const credentials = await withDeviceRegistry(opts.dataDir, (registry) => registry.rotate(null, deviceId, opts.overlapS));
      if (!credentials) throw new Error(`no device ${deviceId}`);
      if (opts.json) return printJson(credentials);
      const until = opts.overlapS > 0 ? `stays valid until ${new Date(Date.now() + opts.overlapS * 1000).toISOString()}` : 'no longer works';
      process.stdout.write(`device ${deviceId} has a new password; the previous one ${until}\n${credentialLines(credentials)}`);
    });

  devices
    .command('revoke <deviceId>')
    .description('refuse the device for good; a running platform disconnects it')
    .option('--data-dir <dir>', DATA_DIR_HELP)
    .action(async (deviceId: string, opts: DataDirOption) => {
      const record = await withDeviceRegistry(opts.dataDir, (registry) => registry.revoke(null, deviceId));
      if (!record) throw new Error(`no device ${deviceId}`);
      process.stdout.write(`device ${deviceId} revoked (${new Date(record.revokedAtMs ?? 0).toISOString()})\n`);
    });
}

async function* allDevices(registry: DeviceRegistry, tenantId: string | null): AsyncGenerator<DeviceRecord> {
  let afterDeviceId: string | undefined;
  for (;;) {
    const page = await registry.list(tenantId, { limit: LIST_PAGE, ...(afterDeviceId !== undefined ? { afterDeviceId } : {}) });
    yield* page;
    if (page.length < LIST_PAGE) return;
    afterDeviceId = page.at(-1)?.deviceId;
  }
}

function printJson(credentials: DeviceCredentials): void {
  const { deviceId, username, password } = credentials;
  process.stdout.write(`${JSON.stringify({ deviceId, username, password })}\n`);
}

function credentialLines({ username, password }: DeviceCredentials): string {
  return `MQTT username: ${username}\nMQTT password: ${password}\nThis password is shown only once and cannot be recovered (only rotated): store it now.\n`;
}

function columns(record: DeviceRecord): string[] {
  const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const status =
    record.revokedAtMs !== null
      ? `revoked ${iso(record.revokedAtMs)}`
      : record.previousSecretValidUntilMs !== null && record.previousSecretValidUntilMs > Date.now()
        ? `active (old password until ${iso(record.previousSecretValidUntilMs)})`
        : 'active';
  return [record.deviceId, record.tenantId, record.vehicleId, record.driverId ?? '-', record.policyId ?? '-', iso(record.createdAtMs), status];
}

const WIDTHS = [24, 16, 20, 16, 16, 21];
const row = (cells: string[]) => cells.map((cell, i) => (i < WIDTHS.length ? cell.padEnd(WIDTHS[i]!) : cell)).join(' ').trimEnd();

function nonNegativeNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError('expected a number of seconds >= 0');
  return n;
}
