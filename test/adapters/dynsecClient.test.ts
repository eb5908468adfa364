import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { connectDynsec, DynsecTimeoutError, expectOk } from '../../src/adapters/mqtt/dynsecClient.js';
import { ADMIN, mosquittoSkip, startTestMosquitto, type TestMosquitto } from '../../testkit/mosquitto.js';

/** The dynamic-security control API client against a real Mosquitto: replies, errors, timeouts. */
const skip = mosquittoSkip();
let broker: TestMosquitto;

before(async () => {
  if (!skip) broker = await startTestMosquitto();
});
after(async () => {
  if (!skip) await broker.close();
});

test('each command gets its own outcome, in order, with the plugin errors; concurrent calls are told apart', { skip }, async () => {
  const outcomes = await broker.dynsec.execute([
    { command: 'createRole', rolename: 'r1', acls: [] },
    { command: 'createRole', rolename: 'r1', acls: [] },
    { command: 'deleteClient', username: 'nobody' },
  ]);
  assert.deepEqual(outcomes, [
    { command: 'createRole' },
    { command: 'createRole', error: 'Role already exists' },
    { command: 'deleteClient', error: 'Client not found' },
  ]);
  assert.throws(() => expectOk(outcomes), /createRole: Role already exists; deleteClient: Client not found/);
  expectOk(outcomes, ['Role already exists', 'Client not found']);

  const names = Array.from({ length: 20 }, (_, i) => `client-${i}`);
  const created = await Promise.all(names.map((username, i) => broker.dynsec.execute(
    i % 2 ? [{ command: 'deleteClient', username }] : [{ command: 'createClient', username, password: 'pw' }],
  )));
  assert.deepEqual(created.map(([outcome]) => outcome), names.map((_, i) => (i % 2 ? { command: 'deleteClient', error: 'Client not found' } : { command: 'createClient' })));
});

test('a wrong admin password is refused at connect; commands nobody answers time out', { skip }, async () => {
  await assert.rejects(connectDynsec({ url: broker.url, username: ADMIN.username, password: 'wrong', timeoutMs: 2000 }));
  // Allowed to read the replies but not to send commands: the broker drops them silently.
  expectOk(await broker.dynsec.execute([
    { command: 'createRole', rolename: 'reader', acls: [{ acltype: 'subscribeLiteral', topic: '$CONTROL/dynamic-security/v1/response', allow: true }] },
    { command: 'createClient', username: 'reader', password: 'pw', roles: [{ rolename: 'reader' }] },
  ]));
  const reader = await connectDynsec({ url: broker.url, username: 'reader', password: 'pw', timeoutMs: 300 });
  await assert.rejects(reader.execute([{ command: 'deleteClient', username: ADMIN.username }]), DynsecTimeoutError);
  await reader.close();
  assert.deepEqual(await broker.dynsec.execute([{ command: 'createClient', username: ADMIN.username, password: 'x' }]), [{ command: 'createClient', error: 'Client already exists' }], 'the admin is still there');
});
