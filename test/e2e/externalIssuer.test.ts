import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startTestIssuer, type TestIssuer } from '../../testkit/jwtIssuer.js';
import { getJson, startTestPlatform, type TestPlatform } from '../../testkit/platform.js';

/** The platform pointed at an external OIDC provider by configuration only: its tokens work, development tokens do not. */
let issuer: TestIssuer;
let t: TestPlatform;
before(async () => {
  issuer = await startTestIssuer();
  t = await startTestPlatform({ oauthIssuer: issuer.issuer, oauthAudience: 'fleet-api', oauthTenantClaim: 'https://insurer.example/tenant' });
});
after(async () => {
  await t.stop();
  await issuer.close();
});

const nowS = () => Math.floor(Date.now() / 1000);
const claims = (over: Record<string, unknown> = {}) => ({ iss: issuer.issuer, aud: 'fleet-api', exp: nowS() + 300, 'https://insurer.example/tenant': 'acme', scope: 'trips:read', ...over });

test("the provider's tokens open the API, with the tenant from the configured claim", async () => {
  const { status, body } = await getJson<{ trips: unknown[] }>(`${t.httpUrl}/v1/trips`, await issuer.sign(claims()));
  assert.equal(status, 200);
  assert.deepEqual(body.trips, []);
  assert.ok(issuer.requests.discovery >= 1 && issuer.requests.jwks >= 1, 'keys came from discovery');
});

test('wrong audience, a missing tenant claim and a scope the route lacks are refused', async () => {
  assert.equal((await getJson(`${t.httpUrl}/v1/trips`, await issuer.sign(claims({ aud: 'tripline-api' })))).status, 401);
  assert.equal((await getJson(`${t.httpUrl}/v1/trips`, await issuer.sign(claims({ 'https://insurer.example/tenant': undefined })))).status, 401);
  assert.equal((await getJson(`${t.httpUrl}/v1/devices`, await issuer.sign(claims()))).status, 403);
});

test('with an external provider the development issuer is off', async () => {
  await assert.rejects(t.token(), /tokens come from/);
  assert.equal((await getJson(`${t.httpUrl}/oauth/jwks.json`)).status, 404);
});
