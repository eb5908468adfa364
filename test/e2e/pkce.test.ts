import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { decodeJwt } from 'jose';
import { startTestIssuer } from '../../testkit/jwtIssuer.js';
import { startTestPlatform, type TestPlatform } from '../../testkit/platform.js';

/** The development issuer's authorization code grant with PKCE, as the dashboard uses it: the happy path and every refusal. */
let t: TestPlatform;
let callback: string;
const clientId = 'tripline-dashboard';

before(async () => {
  t = await startTestPlatform();
  callback = `${t.httpUrl}/auth/callback`;
});
after(() => t.stop());

function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

function authorizeQuery(overrides: Record<string, string | null> = {}, challenge = pkce().challenge): string {
  const params: Record<string, string | null> = {
    response_type: 'code', client_id: clientId, redirect_uri: callback, code_challenge: challenge,
    code_challenge_method: 'S256', state: 'st-123', scope: 'trips:read', ...overrides,
  };
  return new URLSearchParams(Object.entries(params).filter((entry): entry is [string, string] => entry[1] !== null)).toString();
}

async function submit(query: string, form: Record<string, string>): Promise<Response> {
  const body = new URLSearchParams({ ...Object.fromEntries(new URLSearchParams(query)), ...form });
  return fetch(`${t.httpUrl}/oauth/authorize`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
}

/** Signs in through the form; returns the code from the redirect. */
async function codeFor(challenge: string, form: Record<string, string> = {}): Promise<string> {
  const response = await submit(authorizeQuery({}, challenge), { tenant: 'acme', 'scope_trips:read': 'on', password: t.platform.auth.signInPassword!, ...form });
  assert.equal(response.status, 303, await response.clone().text());
  const location = new URL(response.headers.get('location')!);
  assert.equal(`${location.origin}${location.pathname}`, callback);
  assert.equal(location.searchParams.get('state'), 'st-123');
  return location.searchParams.get('code')!;
}

async function token(form: Record<string, string>, contentType = 'application/x-www-form-urlencoded'): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const body = contentType.includes('json') ? JSON.stringify(form) : new URLSearchParams(form).toString();
  const response = await fetch(`${t.httpUrl}/oauth/token`, { method: 'POST', headers: { 'content-type': contentType }, body });
  return { status: response.status, body: (await response.json()) as Record<string, unknown>, headers: response.headers };
}

const redemption = (code: string, verifier: string) => ({ grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: callback, client_id: clientId });

test('sign-in page, code, token: the token works on the API for the chosen tenant and scopes, once', async () => {
  const { verifier, challenge } = pkce();
  const page = await fetch(`${t.httpUrl}/oauth/authorize?${authorizeQuery({}, challenge)}`);
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
  const html = await page.text();
  assert.match(html, /<label for="tenant">Tenant<\/label>/);
  assert.match(html, /<label for="password">Sign-in password<\/label>/);
  assert.match(html, /<legend>Scopes<\/legend>/);
  assert.match(html, new RegExp(`id="tenant" name="tenant" value="${t.platform.config.defaultTenant}"`), 'the default tenant is filled in');
  assert.match(html, /id="scope_trips:read" name="scope_trips:read" checked/, 'the requested scope is ticked');

  const code = await codeFor(challenge, { 'scope_devices:write': 'on' });
  const issued = await token(redemption(code, verifier));
  assert.equal(issued.status, 200, JSON.stringify(issued.body));
  assert.equal(issued.headers.get('cache-control'), 'no-store');
  assert.equal(issued.body.token_type, 'Bearer');
  assert.equal(issued.body.expires_in, 3600);
  assert.equal(issued.body.scope, 'trips:read devices:write');
  const claims = decodeJwt(issued.body.access_token as string);
  assert.equal(claims.tenant, 'acme');
  assert.equal(claims.scope, 'trips:read devices:write');
  const api = await fetch(`${t.httpUrl}/v1/trips`, { headers: { authorization: `Bearer ${issued.body.access_token as string}` } });
  assert.equal(api.status, 200);
  assert.equal((await fetch(`${t.httpUrl}/v1/webhooks`, { headers: { authorization: `Bearer ${issued.body.access_token as string}` } })).status, 403, 'no admin scope was chosen');

  const again = await token(redemption(code, verifier));
  assert.equal(again.status, 400);
  assert.deepEqual(again.body, { error: 'invalid_grant', error_description: 'unknown, used or expired code' }, 'a code works once');
});

test('the token endpoint refuses a wrong verifier (and the code is then spent), a foreign redirect_uri, other clients and grants', async () => {
  const { verifier, challenge } = pkce();
  const code = await codeFor(challenge);
  const wrong = await token(redemption(code, pkce().verifier));
  assert.deepEqual([wrong.status, wrong.body.error], [400, 'invalid_grant']);
  assert.match(String(wrong.body.error_description), /code_verifier/);
  assert.equal((await token(redemption(code, verifier))).body.error, 'invalid_grant', 'the right verifier comes too late');

  const other = pkce();
  const second = await codeFor(other.challenge);
  const moved = await token({ ...redemption(second, other.verifier), redirect_uri: `${t.httpUrl}/auth/elsewhere` });
  assert.deepEqual([moved.status, moved.body.error], [400, 'invalid_grant']);
  assert.match(String(moved.body.error_description), /redirect_uri/);

  assert.deepEqual((await token({ ...redemption('x', 'y'), client_id: 'someone-else' })).body.error, 'invalid_client');
  assert.deepEqual((await token({ ...redemption('x', 'y'), grant_type: 'password' })).body.error, 'unsupported_grant_type');
  assert.deepEqual((await token({ grant_type: 'authorization_code', client_id: clientId })).body.error, 'invalid_request');
  assert.deepEqual((await token(redemption('x', 'y'), 'application/json')).body.error, 'invalid_request', 'JSON bodies are not OAuth');
});

test('the authorize endpoint refuses plain PKCE, no PKCE, foreign redirect URIs and unknown clients', async () => {
  for (const [overrides, error] of [
    [{ code_challenge_method: 'plain' }, 'invalid_request'],
    [{ code_challenge_method: null }, 'invalid_request'],
    [{ code_challenge: 'too-short' }, 'invalid_request'],
    [{ response_type: 'token' }, 'unsupported_response_type'],
    [{ scope: 'trips:read everything' }, 'invalid_scope'],
  ] as const) {
    const response = await fetch(`${t.httpUrl}/oauth/authorize?${authorizeQuery(overrides)}`, { redirect: 'manual' });
    assert.equal(response.status, 302, JSON.stringify(overrides));
    const location = new URL(response.headers.get('location')!);
    assert.equal(`${location.origin}${location.pathname}`, callback);
    assert.equal(location.searchParams.get('error'), error, JSON.stringify(overrides));
    assert.equal(location.searchParams.get('state'), 'st-123');
    // The form cannot be used to get round it either.
    const posted = await submit(authorizeQuery(overrides), { tenant: 'acme', 'scope_trips:read': 'on', password: t.platform.auth.signInPassword! });
    assert.equal(new URL(posted.headers.get('location')!).searchParams.get('error'), error);
  }
  // A redirect anywhere but this site's own callback is never followed: the page says why instead.
  const foreign: Array<Record<string, string>> = [
    { redirect_uri: 'https://evil.example/auth/callback' },
    { redirect_uri: `${t.httpUrl.replace('127.0.0.1', 'localhost')}/auth/callback` },
    { redirect_uri: `${t.httpUrl}/v1/trips` },
    { redirect_uri: `${callback}?next=https://evil.example` },
    { redirect_uri: 'not a url' },
    { client_id: 'someone-else' },
  ];
  for (const overrides of foreign) {
    const response = await fetch(`${t.httpUrl}/oauth/authorize?${authorizeQuery(overrides)}`, { redirect: 'manual' });
    assert.equal(response.status, 400, JSON.stringify(overrides));
    assert.equal(response.headers.get('location'), null);
    assert.match(await response.text(), /role="alert"/);
    const posted = await submit(authorizeQuery(overrides), { tenant: 'acme', 'scope_trips:read': 'on', password: t.platform.auth.signInPassword! });
    assert.equal(posted.status, 400, `POST ${JSON.stringify(overrides)}`);
    assert.equal(posted.headers.get('location'), null);
  }
});

test('the sign-in form needs the sign-in password, a valid tenant and a scope; cancel goes back with access_denied', async () => {
  const query = authorizeQuery();
  const wrong = await submit(query, { tenant: 'acme', 'scope_trips:read': 'on', password: 'guess' });
  assert.equal(wrong.status, 401);
  assert.equal(wrong.headers.get('location'), null);
  assert.match(await wrong.text(), /role="alert"[^>]*>Wrong sign-in password/);
  const badTenant = await submit(query, { tenant: 'a b', 'scope_trips:read': 'on', password: t.platform.auth.signInPassword! });
  assert.equal(badTenant.status, 400);
  const noScope = await submit(query, { tenant: 'acme', password: t.platform.auth.signInPassword! });
  assert.equal(noScope.status, 400);
  assert.match(await noScope.text(), /at least one scope/);
  const cancel = await submit(query, { action: 'cancel' });
  assert.equal(cancel.status, 302);
  assert.equal(new URL(cancel.headers.get('location')!).searchParams.get('error'), 'access_denied');
});

test('the dashboard config names the development issuer; the web app is served at / with its own routes and a CSP', async () => {
  const config = (await (await fetch(`${t.httpUrl}/dashboard/config.json`)).json()) as Record<string, unknown>;
  assert.deepEqual(config, {
    issuer: 'urn:tripline:dev-issuer', devIssuer: true, authorizationEndpoint: '/oauth/authorize', tokenEndpoint: '/oauth/token',
    clientId, scope: 'trips:read', redirectPath: '/auth/callback', tiles: null,
  });
  for (const path of ['/', '/trips', '/trips/some-car.123', '/auth/callback?code=x']) {
    const response = await fetch(`${t.httpUrl}${path}`);
    assert.equal(response.status, 200, path);
    assert.match(response.headers.get('content-type') ?? '', /text\/html/);
    assert.match(response.headers.get('content-security-policy') ?? '', /script-src 'self'/);
    assert.match(await response.text(), /<div id="app"/);
  }
  // The API keeps its paths: JSON answers, never the app.
  const unknownApi = await fetch(`${t.httpUrl}/v1/nothing-here`);
  assert.equal(unknownApi.status, 401);
  assert.equal((await fetch(`${t.httpUrl}/oauth/nothing`)).status, 404);
  assert.match((await fetch(`${t.httpUrl}/oauth/nothing`)).headers.get('content-type') ?? '', /json/);
  assert.equal((await fetch(`${t.httpUrl}/assets/missing.js`)).status, 404);
  assert.equal((await fetch(`${t.httpUrl}/healthz`)).status, 200);
  // Town names for the offline base map.
  const places = (await (await fetch(`${t.httpUrl}/dashboard/places.json?bbox=4.2,50.7,4.5,51.0&limit=3`)).json()) as { places: Array<{ name: string }> };
  assert.equal(places.places.length, 3);
  assert.equal(places.places[0]!.name, 'Brussels', 'largest first');
  assert.equal((await fetch(`${t.httpUrl}/dashboard/places.json?bbox=5,50,4,51`)).status, 400);
});

test('with an external provider the dashboard signs in there (endpoints from discovery), and the development sign-in is off', async () => {
  const issuer = await startTestIssuer();
  const external = await startTestPlatform({ oauthIssuer: issuer.issuer, dashboardClientId: 'dash-client', mapTilesUrl: 'https://{s}.tiles.example/{z}/{x}/{y}.png', mapTilesAttribution: '© Example' });
  try {
    const response = await fetch(`${external.httpUrl}/dashboard/config.json`);
    assert.deepEqual(await response.json(), {
      issuer: issuer.issuer, devIssuer: false, authorizationEndpoint: `${issuer.issuer}/authorize`, tokenEndpoint: `${issuer.issuer}/token`,
      clientId: 'dash-client', scope: 'openid trips:read', redirectPath: '/auth/callback',
      tiles: { url: 'https://{s}.tiles.example/{z}/{x}/{y}.png', attribution: '© Example' },
    });
    assert.equal((await fetch(`${external.httpUrl}/oauth/authorize?${authorizeQuery()}`)).status, 404);
    assert.equal((await fetch(`${external.httpUrl}/oauth/token`, { method: 'POST' })).status, 404);
    const csp = (await fetch(`${external.httpUrl}/`)).headers.get('content-security-policy') ?? '';
    assert.match(csp, /img-src [^;]*https:\/\/\*\.tiles\.example/);
    assert.match(csp, /connect-src 'self' http:/);
    issuer.available = false;
    // Discovery is cached once it worked; a provider never reached gives 503.
    assert.equal((await fetch(`${external.httpUrl}/dashboard/config.json`)).status, 200);
  } finally {
    await external.stop();
    await issuer.close();
  }
});

test('the sign-in endpoints refuse a body over 16 KB before buffering it (anyone may call them)', async () => {
  for (const path of ['/oauth/token', '/oauth/authorize']) {
    const response = await fetch(`${t.httpUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `code=${'x'.repeat(5_000_000)}` });
    assert.equal(response.status, 413, path);
    assert.equal(((await response.json()) as { error: string }).error, 'invalid_request');
  }
});
