import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import mqtt from 'mqtt';
import { startTestPlatform, type TestPlatform } from '../../testkit/platform.js';

/** Client certificates (mTLS): a certificate signed by the configured CA whose CN names a registered device. */
const hasOpenssl = (() => {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
if (!hasOpenssl) {
  if (process.env.CI === 'true') throw new Error('openssl is required under CI for the mTLS tests');
  console.warn('\n!!! SKIPPING the MQTT mTLS tests: the openssl binary is missing (apt-get install openssl) !!!\n');
}

let t: TestPlatform;
let dir: string;
const pem = (name: string) => readFileSync(join(dir, name));

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
}

/** A CA, and a certificate with CN signed by it (EC keys: fast to make). */
function makeCa(name: string): void {
  openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.crt`, '-days', '2', '-subj', `/CN=${name}`);
}
function makeCert(name: string, cn: string, ca: string, extra: string[] = []): void {
  openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`);
  openssl('x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-out', `${name}.crt`, '-days', '2', ...extra);
}

before(async () => {
  if (!hasOpenssl) return;
  dir = mkdtempSync(join(tmpdir(), 'tripline-tls-'));
  makeCa('ca');
  makeCa('rogue-ca');
  const san = join(dir, 'san.ext');
  execFileSync('sh', ['-c', `printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\n' > ${san}`]);
  makeCert('server', 'localhost', 'ca', ['-extfile', san]);
  makeCert('alice', 'alice-car', 'ca');
  makeCert('ghost', 'ghost-car', 'ca');
  makeCert('revoked', 'revoked-car', 'ca');
  makeCert('forged', 'alice-car', 'rogue-ca');
  t = await startTestPlatform({ mqttTlsPort: 0, mqttTlsCert: join(dir, 'server.crt'), mqttTlsKey: join(dir, 'server.key'), mqttTlsCa: join(dir, 'ca.crt') });
  await t.device('alice-car');
  await t.device('revoked-car');
  await t.platform.registry.revoke(null, 'revoked-car');
});
after(async () => {
  if (!hasOpenssl) return;
  await t.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function connectTls(clientId: string, cert: string | null): Promise<'accepted' | 'refused'> {
  try {
    const client = await mqtt.connectAsync(
      `mqtts://127.0.0.1:${t.platform.mqttTlsPort}`,
      { clientId, ca: pem('ca.crt'), ...(cert ? { cert: pem(`${cert}.crt`), key: pem(`${cert}.key`) } : {}), reconnectPeriod: 0, connectTimeout: 3000 },
      false,
    );
    await client.endAsync();
    return 'accepted';
  } catch {
    return 'refused';
  }
}

test('mTLS: a certificate whose CN names a registered device signs it in without a password', { skip: !hasOpenssl }, async () => {
  assert.equal(await connectTls('alice-car', 'alice'), 'accepted');
});

test('mTLS: wrong client id, unknown or revoked device, foreign CA or no certificate are refused', { skip: !hasOpenssl }, async () => {
  assert.equal(await connectTls('revoked-car', 'alice'), 'refused', 'CN must equal the client id');
  assert.equal(await connectTls('ghost-car', 'ghost'), 'refused', 'the CN must be a registered device');
  assert.equal(await connectTls('revoked-car', 'revoked'), 'refused', 'a revoked device is refused');
  assert.equal(await connectTls('alice-car', 'forged'), 'refused', 'a certificate from another CA fails the handshake');
  assert.equal(await connectTls('alice-car', null), 'refused', 'a certificate is required on the TLS port');
});
