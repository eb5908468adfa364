import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { promisify } from 'node:util';
import { Hono } from 'hono';
import { authMiddleware, requireScope, type ApiEnv, type Principal } from '../../src/api/auth.js';
import { createDevAuthenticator, DEV_ISSUER_FILE, devIssuerJwks, loadOrCreateDevIssuerKey, signDevToken } from '../../src/security/devIssuer.js';
import { CLI } from '../../testkit/processes.js';

const folders: string[] = [];
const dataDir = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'tripline-dev-issuer-'));
  folders.push(dir);
  return dir;
};
after(() => folders.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

test('the key is created once, private to the owner, and reused by later loads', async () => {
  const dir = dataDir();
  const first = await loadOrCreateDevIssuerKey(dir);
  const again = await loadOrCreateDevIssuerKey(dir);
  assert.equal(again.kid, first.kid);
  if (process.platform !== 'win32') assert.equal(statSync(join(dir, DEV_ISSUER_FILE)).mode & 0o777, 0o600);
  assert.deepEqual(Object.keys(devIssuerJwks(first).keys[0]!).sort(), ['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y'], 'the key set is public only');
});

test('concurrent first loads agree on one key and leave no temp files', async () => {
  const dir = join(dataDir(), 'not-yet-created');
  const keys = await Promise.all(Array.from({ length: 8 }, () => loadOrCreateDevIssuerKey(dir)));
  assert.equal(new Set(keys.map((key) => key.kid)).size, 1);
  assert.deepEqual(readdirSync(dir), [DEV_ISSUER_FILE]);
});

test('a damaged key file is named, not silently replaced', async () => {
  const dir = dataDir();
  writeFileSync(join(dir, DEV_ISSUER_FILE), '{"kid": 1}');
  await assert.rejects(loadOrCreateDevIssuerKey(dir), /dev-issuer\.json is not a development issuer key; delete it/);
});

test('a dev token verifies against its own folder key only', async () => {
  const key = await loadOrCreateDevIssuerKey(dataDir());
  const token = await signDevToken(key, { tenantId: 't1', scopes: ['trips:read'], subject: 'ops', ttlS: 60 });
  assert.deepEqual(await createDevAuthenticator(key)(`Bearer ${token}`), { tenantId: 't1', scopes: ['trips:read'], subject: 'ops' });

  const elsewhere = await loadOrCreateDevIssuerKey(dataDir());
  assert.deepEqual(await createDevAuthenticator(elsewhere)(`Bearer ${token}`), { error: 'unknown signing key' });
  assert.deepEqual(await createDevAuthenticator(key, { audience: 'another-api' })(`Bearer ${token}`), { error: 'audience not accepted' });
});

test('requireScope: 403 naming the missing scope; admin implies it', async () => {
  const key = await loadOrCreateDevIssuerKey(dataDir());
  const app = new Hono<ApiEnv>();
  app.use('/v1/*', authMiddleware(createDevAuthenticator(key)));
  app.get('/v1/devices', requireScope('devices:write'), (c) => c.json(c.get('principal')));
  const get = async (scopes: Array<'trips:read' | 'devices:write' | 'admin'>) =>
    app.request('/v1/devices', { headers: { authorization: `Bearer ${await signDevToken(key, { tenantId: 't1', scopes, ttlS: 60 })}` } });

  const refused = await get(['trips:read']);
  assert.equal(refused.status, 403);
  assert.deepEqual(await refused.json(), { error: 'insufficient_scope', message: 'this route needs scope devices:write' });
  assert.equal(refused.headers.get('www-authenticate'), 'Bearer error="insufficient_scope", scope="devices:write"');
  assert.equal((await get(['devices:write'])).status, 200);
  const admin = await get(['admin']);
  assert.equal(admin.status, 200);
  assert.equal(((await admin.json()) as Principal).tenantId, 't1');
});

test('tripline token prints only a verifiable token, and refuses when an external issuer is configured', async () => {
  const dir = dataDir();
  const run = promisify(execFile);
  const env = { ...process.env };
  delete env.TRIPLINE_OAUTH_ISSUER;
  const { stdout } = await run(process.execPath, [CLI, 'token', '--tenant', 't1', '--scope', 'trips:read', '--scope', 'admin', '--data-dir', dir], { env });
  assert.match(stdout, /^[\w-]+\.[\w-]+\.[\w-]+\n$/);
  const principal = await createDevAuthenticator(await loadOrCreateDevIssuerKey(dir))(`Bearer ${stdout.trim()}`);
  assert.deepEqual(principal, { tenantId: 't1', scopes: ['trips:read', 'admin'], subject: null });

  const refused = await run(process.execPath, [CLI, 'token', '--tenant', 't1', '--scope', 'trips:read', '--data-dir', dir], {
    env: { ...env, TRIPLINE_OAUTH_ISSUER: 'https://login.example.com/' },
  }).catch((error: { code: number; stdout: string; stderr: string }) => error);
  assert.equal('code' in refused ? refused.code : 0, 1);
  assert.equal(refused.stdout, '');
  assert.match(refused.stderr, /tokens from https:\/\/login\.example\.com\/; get one from that provider/);

  const badScope = await run(process.execPath, [CLI, 'token', '--tenant', 't1', '--scope', 'trips:write', '--data-dir', dir], { env }).catch((error: { stderr: string }) => error);
  assert.match(badScope.stderr, /expected one of trips:read, devices:write, admin/);
});
