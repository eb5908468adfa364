import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Hono } from 'hono';
import { base64url, exportSPKI, SignJWT, type JWTPayload } from 'jose';
import { authMiddleware, type ApiEnv, type Authenticator } from '../../src/api/auth.js';
import { createOidcAuthenticator } from '../../src/security/jwtAuthenticator.js';
import { newIssuerKey, startTestIssuer, type TestIssuer } from '../../testkit/jwtIssuer.js';

const AUDIENCE = 'tripline-api';
const nowS = () => Math.floor(Date.now() / 1000);

/** A minimal API behind the real middleware, echoing the principal. */
function api(authenticate: Authenticator) {
  const app = new Hono<ApiEnv>();
  app.use('/v1/*', authMiddleware(authenticate));
  app.get('/v1/whoami', (c) => c.json(c.get('principal')));
  return (authorization?: string) => app.request('/v1/whoami', authorization === undefined ? {} : { headers: { authorization } });
}

let ours: TestIssuer;
let theirs: TestIssuer;
let call: ReturnType<typeof api>;
const claims = (overrides: JWTPayload = {}): JWTPayload => ({
  iss: ours.issuer, aud: AUDIENCE, sub: 'alice', tenant: 't1', scope: 'trips:read devices:write', iat: nowS(), exp: nowS() + 300, ...overrides,
});
const without = (claim: string): JWTPayload => Object.fromEntries(Object.entries(claims()).filter(([name]) => name !== claim));
const b64json = (value: unknown) => base64url.encode(JSON.stringify(value));

before(async () => {
  ours = await startTestIssuer();
  theirs = await startTestIssuer();
  call = api(createOidcAuthenticator({ issuer: ours.issuer, audience: AUDIENCE }));
});
after(async () => {
  await ours.close();
  await theirs.close();
});

test('a valid token yields the tenant, scopes and subject it carries', async () => {
  const response = await call(`Bearer ${await ours.sign(claims())}`);
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), { tenantId: 't1', scopes: ['trips:read', 'devices:write'], subject: 'alice' });

  const scp = await call(`bearer ${await ours.sign({ ...without('scope'), scp: ['admin'] })}`);
  assert.deepEqual(((await scp.json()) as { scopes: string[] }).scopes, ['admin'], 'scp as an array; the scheme is case-insensitive');
  assert.equal(ours.requests.discovery, 1, 'the JWKS URL comes from discovery');
});

test('tokens within the clock tolerance are accepted', async () => {
  assert.equal((await call(`Bearer ${await ours.sign(claims({ exp: nowS() - 10 }))}`)).status, 200, 'expired 10 s ago');
  assert.equal((await call(`Bearer ${await ours.sign(claims({ nbf: nowS() + 10 }))}`)).status, 200, 'valid in 10 s');
});

test('every bad token is refused with 401 and its own reason, never echoing the token', async () => {
  const valid = await ours.sign(claims());
  const [header, , signature] = valid.split('.');
  const cases: Array<[string, () => Promise<string | undefined>, string]> = [
    ['no header', async () => undefined, 'missing bearer token'],
    ['empty header', async () => '', 'missing bearer token'],
    ['Bearer without a token', async () => 'Bearer ', 'missing bearer token'],
    ['Basic scheme', async () => `Basic ${Buffer.from('user:pass').toString('base64')}`, 'authorization scheme must be Bearer'],
    ['not three parts', async () => 'Bearer abc.def', 'malformed token'],
    ['payload not JSON', async () => `Bearer ${header}.bm90IGpzb24.${signature}`, 'malformed token'],
    ['alg none', async () => `Bearer ${b64json({ alg: 'none', typ: 'JWT' })}.${b64json(claims())}.`, 'algorithm not allowed'],
    [
      'HS256 keyed with the public key',
      async () => `Bearer ${await new SignJWT(claims()).setProtectedHeader({ alg: 'HS256', kid: ours.key.kid }).sign(new TextEncoder().encode(await exportSPKI(ours.key.publicKey)))}`,
      'algorithm not allowed',
    ],
    ['wrong issuer', async () => `Bearer ${await ours.sign(claims({ iss: 'https://evil.example' }))}`, 'issuer not accepted'],
    ['no issuer', async () => `Bearer ${await ours.sign(without('iss'))}`, 'token has no issuer'],
    ['wrong audience', async () => `Bearer ${await ours.sign(claims({ aud: 'another-api' }))}`, 'audience not accepted'],
    ['no audience', async () => `Bearer ${await ours.sign(without('aud'))}`, 'token has no audience'],
    ['expired beyond the tolerance', async () => `Bearer ${await ours.sign(claims({ exp: nowS() - 60 }))}`, 'token expired'],
    ['not valid for another 2 minutes', async () => `Bearer ${await ours.sign(claims({ nbf: nowS() + 120 }))}`, 'token not yet valid'],
    ['no exp', async () => `Bearer ${await ours.sign(without('exp'))}`, 'token has no expiry'],
    ['exp not a number', async () => `Bearer ${await ours.sign(claims({ exp: 'tomorrow' as unknown as number }))}`, 'exp claim is not a number'],
    ['tampered payload', async () => `Bearer ${header}.${b64json(claims({ tenant: 't2' }))}.${signature}`, 'signature verification failed'],
    ['unknown kid', async () => `Bearer ${await ours.sign(claims(), { kid: 'no-such-key' })}`, 'unknown signing key'],
    ['no tenant claim', async () => `Bearer ${await ours.sign(without('tenant'))}`, 'token has no tenant claim'],
    ['tenant not a string', async () => `Bearer ${await ours.sign(claims({ tenant: 42 }))}`, 'tenant claim is not a valid tenant id'],
    ['tenant of a bad shape', async () => `Bearer ${await ours.sign(claims({ tenant: '../t1' }))}`, 'tenant claim is not a valid tenant id'],
    ['another key claiming our issuer', async () => `Bearer ${await ours.sign(claims(), { key: await newIssuerKey() })}`, 'unknown signing key'],
    ['another key under our kid', async () => `Bearer ${await ours.sign(claims(), { key: await newIssuerKey(), kid: ours.key.kid })}`, 'signature verification failed'],
    ['another issuer entirely', async () => `Bearer ${await theirs.sign(claims({ iss: theirs.issuer }))}`, 'issuer not accepted'],
  ];
  for (const [name, authorization, reason] of cases) {
    const token = await authorization();
    const response = await call(token);
    const body = (await response.json()) as { error: string; message: string };
    assert.equal(response.status, 401, name);
    assert.deepEqual(body, { error: 'unauthorized', message: reason }, name);
    assert.equal(response.headers.get('www-authenticate'), `Bearer error="invalid_token", error_description="${reason}"`, name);
  }
  assert.equal(theirs.requests.jwks + theirs.requests.discovery, 0, 'a foreign token never makes us contact its issuer');
});

test('a key rotated at the issuer is picked up once the cooldown allows a refetch', async () => {
  const issuer = await startTestIssuer();
  try {
    const call = api(createOidcAuthenticator({ issuer: issuer.issuer, audience: AUDIENCE, jwksCooldownS: 0.2 }));
    const signed = (payload: JWTPayload) => issuer.sign({ ...payload, iss: issuer.issuer });
    assert.equal((await call(`Bearer ${await signed(claims())}`)).status, 200);
    await issuer.rotate();
    await sleep(250);
    assert.equal((await call(`Bearer ${await signed(claims())}`)).status, 200, 'the new kid is fetched');
    assert.equal(issuer.requests.jwks, 2);
  } finally {
    await issuer.close();
  }
});

test('50 tokens with unknown key ids cost the issuer at most 2 key-set fetches', async () => {
  const issuer = await startTestIssuer();
  try {
    const call = api(createOidcAuthenticator({ issuer: issuer.issuer, audience: AUDIENCE }));
    const tokens = await Promise.all(Array.from({ length: 50 }, (_, i) => issuer.sign({ ...claims(), iss: issuer.issuer }, { kid: `made-up-${i}` })));
    const first = await call(`Bearer ${tokens[0]}`);
    const rest = await Promise.all(tokens.slice(1).map((token) => call(`Bearer ${token}`)));
    for (const response of [first, ...rest]) assert.equal(((await response.json()) as { message: string }).message, 'unknown signing key');
    assert.ok(issuer.requests.jwks <= 2, `${issuer.requests.jwks} JWKS fetches`);
    assert.equal(issuer.requests.discovery, 1);
  } finally {
    await issuer.close();
  }
});

test('an unreachable issuer gives 503 and is reported, backs off, and recovers without a restart', async () => {
  const issuer = await startTestIssuer();
  try {
    issuer.available = false;
    const reported: string[] = [];
    const call = api(createOidcAuthenticator({ issuer: issuer.issuer, audience: AUDIENCE, issuerRetryS: 0.3, onIssuerError: (error) => reported.push(error.message) }));
    const token = `Bearer ${await issuer.sign({ ...claims(), iss: issuer.issuer })}`;
    const down = await call(token);
    assert.equal(down.status, 503);
    assert.deepEqual(await down.json(), { error: 'unavailable', message: 'token issuer unreachable' });
    await Promise.all(Array.from({ length: 10 }, () => call(token)));
    assert.equal(issuer.requests.discovery, 1, 'no retries within the back-off');
    assert.equal(reported.length, 1);
    assert.match(reported[0]!, /discovery at http:\/\/127\.0\.0\.1:\d+\/\.well-known\/openid-configuration failed: HTTP 503/);

    issuer.available = true;
    await sleep(350);
    assert.equal((await call(token)).status, 200);
  } finally {
    await issuer.close();
  }
});

test('an explicit JWKS URL skips discovery; discovery naming another issuer is refused', async () => {
  const issuer = await startTestIssuer();
  try {
    const token = `Bearer ${await issuer.sign({ ...claims(), iss: issuer.issuer })}`;
    const direct = api(createOidcAuthenticator({ issuer: issuer.issuer, audience: AUDIENCE, jwksUrl: issuer.jwksUrl }));
    assert.equal((await direct(token)).status, 200);
    assert.equal(issuer.requests.discovery, 0);

    issuer.namedIssuer = 'https://someone-else.example';
    const reported: string[] = [];
    const discovering = api(createOidcAuthenticator({ issuer: issuer.issuer, audience: AUDIENCE, onIssuerError: (error) => reported.push(error.message) }));
    assert.equal((await discovering(token)).status, 503);
    assert.match(reported[0] ?? '', /names issuer "https:\/\/someone-else.example"/);
  } finally {
    await issuer.close();
  }
});

test('bad configuration fails at construction with a clear message', () => {
  const base = { issuer: 'https://login.example.com/', audience: AUDIENCE };
  assert.throws(() => createOidcAuthenticator({ ...base, algorithms: ['HS256'] }), /algorithm "HS256" is not allowed/);
  assert.throws(() => createOidcAuthenticator({ ...base, algorithms: ['none'] }), /algorithm "none" is not allowed/);
  assert.throws(() => createOidcAuthenticator({ ...base, issuer: 'http://login.example.com' }), /must be https/);
  assert.throws(() => createOidcAuthenticator({ ...base, audience: '' }), /audience must not be empty/);
  assert.throws(() => createOidcAuthenticator({ ...base, jwksUrl: 'not a url' }), /JWKS URL is not a URL/);
});
