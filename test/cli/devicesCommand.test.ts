import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { SqliteDeviceRegistry } from '../../src/adapters/embedded/sqliteDeviceRegistry.js';
import type { DeviceRecord } from '../../src/ports/deviceRegistry.js';
import { CLI } from '../../testkit/processes.js';

const root = mkdtempSync(join(tmpdir(), 'tripline-devices-cli-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** Runs `tripline devices ...` in its own process, as an operator would. */
function devices(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, 'devices', ...args], { env: { ...process.env, ...env } }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

test('tripline devices: add, list, rotate, revoke, with clear failures', async () => {
  const dataDir = join(root, 'nested', 'data');
  const dir = ['--data-dir', dataDir];

  const added = await devices(['add', 'car-1', '--tenant', 'acme', '--vehicle', 'WVW123', '--driver', 'alice', '--json', ...dir]);
  assert.equal(added.code, 0, added.stderr);
  assert.ok(existsSync(join(dataDir, 'devices.db')), 'the data folder is created');
  const lines = added.stdout.trim().split('\n');
  assert.equal(lines.length, 1);
  const credentials = JSON.parse(lines[0]!) as Record<string, string>;
  assert.deepEqual(Object.keys(credentials), ['deviceId', 'username', 'password']);
  assert.equal(credentials.username, 'car-1');
  assert.match(credentials.password!, /^[A-Za-z0-9_-]{43}$/);

  const human = await devices(['add', 'car-2', '--tenant', 'other', '--vehicle', 'V2'], { TRIPLINE_DATA_DIR: dataDir });
  assert.equal(human.code, 0, human.stderr);
  assert.match(human.stdout, /MQTT username: car-2\nMQTT password: [A-Za-z0-9_-]{43}\n/);
  assert.match(human.stdout, /shown only once/);

  const duplicate = await devices(['add', 'car-1', '--tenant', 'other', '--vehicle', 'V9', ...dir]);
  assert.equal(duplicate.code, 1);
  assert.match(duplicate.stderr, /device car-1 already exists/);
  const badId = await devices(['add', 'car/3', '--tenant', 'acme', '--vehicle', 'V3', ...dir]);
  assert.equal(badId.code, 1);
  assert.match(badId.stderr, /invalid device id "car\/3"/);

  const table = await devices(['list', ...dir]);
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, /^car-1 +acme +WVW123 +alice +- +\S+ +active$/m);
  assert.match(table.stdout, /^car-2 +other +V2 /m);
  assert.match(table.stdout, /^2 devices$/m);
  const acme = await devices(['list', '--tenant', 'acme', '--json', ...dir]);
  const records = acme.stdout.trim().split('\n').map((line) => JSON.parse(line) as DeviceRecord);
  assert.deepEqual(records.map((r) => [r.deviceId, r.tenantId, r.vehicleId, r.driverId]), [['car-1', 'acme', 'WVW123', 'alice']]);

  const rotated = await devices(['rotate', 'car-1', '--overlap-s', '0', '--json', ...dir]);
  assert.equal(rotated.code, 0, rotated.stderr);
  const fresh = JSON.parse(rotated.stdout) as Record<string, string>;
  assert.deepEqual(Object.keys(fresh), ['deviceId', 'username', 'password']);
  assert.notEqual(fresh.password, credentials.password);
  const withOverlap = await devices(['rotate', 'car-2', ...dir]);
  assert.equal(withOverlap.code, 0, withOverlap.stderr);
  assert.match(withOverlap.stdout, /previous one stays valid until \d{4}-/);
  assert.match((await devices(['list', ...dir])).stdout, /^car-2 .* active \(old password until /m);
  assert.equal((await devices(['rotate', 'car-1', '--overlap-s', '-5', ...dir])).code, 1);

  const revoked = await devices(['revoke', 'car-1', ...dir]);
  assert.equal(revoked.code, 0, revoked.stderr);
  assert.match(revoked.stdout, /device car-1 revoked/);
  assert.match((await devices(['list', ...dir])).stdout, /^car-1 .* revoked \d{4}-/m);

  const unknown = await devices(['revoke', 'car-9', ...dir]);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /no device car-9/);
  assert.equal((await devices(['rotate', 'car-9', ...dir])).code, 1);
  const missingOption = await devices(['add', 'car-4', '--vehicle', 'V4', ...dir]);
  assert.equal(missingOption.code, 1);
  assert.match(missingOption.stderr, /--tenant/);

  // What the platform will see: the secrets the CLI printed, checked against the file it wrote.
  const registry = new SqliteDeviceRegistry(join(dataDir, 'devices.db'));
  try {
    assert.deepEqual(await registry.verify('car-1', fresh.password!), { ok: false, reason: 'revoked' });
    const car2 = await registry.verify('car-2', (JSON.parse((await devices(['rotate', 'car-2', '--json', ...dir])).stdout) as { password: string }).password);
    assert.ok(car2.ok);
  } finally {
    await registry.close();
  }
});

test('tripline devices --help explains the commands', async () => {
  const help = await devices(['--help']);
  assert.equal(help.code, 0);
  for (const command of ['add', 'list', 'rotate', 'revoke']) assert.match(help.stdout, new RegExp(`^  ${command}\\b`, 'm'));
  assert.match(help.stdout, /devices\.db/);
  assert.match((await devices(['rotate', '--help'])).stdout, /--overlap-s <seconds>/);
});
