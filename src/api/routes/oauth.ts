import { bodyLimit } from 'hono/body-limit';
import { z, type OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { SCOPES, TENANT_ID, type ApiEnv, type Scope } from '../auth.js';
import { AuthorizationCodes, isS256Challenge, sameText } from '../../security/authorizationCodes.js';

/** Where the dashboard receives the code: the only redirect URI the development issuer accepts, on its own origin. */
export const DASHBOARD_CALLBACK_PATH = '/auth/callback';
const TOKEN_TTL_S = 3600;
/** OIDC scopes a generic client may ask for; the development issuer has no ID tokens, so it ignores them. */
const IGNORED_SCOPES = new Set(['openid', 'profile', 'email', 'offline_access']);

export interface DevSignInDeps {
  clientId: string;
  defaultTenant: string;
  /** Whoever knows it may sign in as any tenant with any scope (see DevIssuerKey.signInPassword). */
  password: string;
  issueToken: (request: { tenantId: string; scopes: readonly Scope[]; ttlS: number; subject: string }) => Promise<string>;
  codes?: AuthorizationCodes;
}

interface AuthorizeParams {
  clientId: string;
  redirectUri: string;
  state: string | null;
  codeChallenge: string;
  scopes: Scope[];
}

type Checked = { ok: AuthorizeParams } | { redirectError: { error: string; description: string; redirectUri: string; state: string | null } } | { pageError: string };

/**
 * The development issuer's OAuth 2.0 authorization code grant with PKCE (RFC 6749 §4.1, RFC
 * 7636, S256 only), for the dashboard: `GET /oauth/authorize` shows a sign-in page (the issuer
 * has no users: pick a tenant and scopes, give the sign-in password), its form posts back and
 * redirects to the dashboard with a one-time code valid 60 s; `POST /oauth/token` trades the code
 * and its verifier for an access token. Codes live in this process's memory.
 */
export function registerDevSignInRoutes(app: OpenAPIHono<ApiEnv>, deps: DevSignInDeps): void {
  const codes = deps.codes ?? new AuthorizationCodes();

  app.openAPIRegistry.registerPath({
    method: 'get',
    path: '/oauth/authorize',
    summary: "The development issuer's sign-in page (authorization code with PKCE, S256; redirect URI: this origin's /auth/callback)",
    security: [],
    request: {
      query: z.object({
        response_type: z.literal('code'), client_id: z.string(), redirect_uri: z.string(), code_challenge: z.string(),
        code_challenge_method: z.literal('S256'), state: z.string().optional(), scope: z.string().optional(),
      }),
    },
    responses: { 200: { description: 'An HTML sign-in form', content: { 'text/html': { schema: z.string() } } }, 302: { description: 'Back to the redirect URI with an error' } },
  });
  app.openAPIRegistry.registerPath({
    method: 'post',
    path: '/oauth/token',
    summary: "The development issuer's token endpoint: an authorization code and its PKCE verifier for an access token",
    security: [],
    request: {
      body: {
        content: {
          'application/x-www-form-urlencoded': {
            schema: z.object({ grant_type: z.literal('authorization_code'), code: z.string(), code_verifier: z.string(), redirect_uri: z.string(), client_id: z.string() }),
          },
        },
      },
    },
    responses: {
      200: {
        description: 'The access token',
        content: { 'application/json': { schema: z.object({ access_token: z.string(), token_type: z.literal('Bearer'), expires_in: z.number(), scope: z.string() }) } },
      },
      400: { description: 'An RFC 6749 error', content: { 'application/json': { schema: z.object({ error: z.string(), error_description: z.string() }) } } },
    },
  });

  const check = (c: Context<ApiEnv>, params: Record<string, string | undefined>): Checked => {
    const clientId = params.client_id ?? '';
    const redirectUri = params.redirect_uri ?? '';
    // §4.1.2.1: with an unknown client or redirect URI nothing is sent anywhere; the page says why.
    if (clientId !== deps.clientId) return { pageError: `unknown client_id; this issuer serves the dashboard's client ${deps.clientId} only` };
    if (!isOwnCallback(redirectUri, c.req.header('host'))) return { pageError: `redirect_uri must be this site's own ${DASHBOARD_CALLBACK_PATH}` };
    const state = params.state ?? null;
    const fail = (error: string, description: string): Checked => ({ redirectError: { error, description, redirectUri, state } });
    if (params.response_type !== 'code') return fail('unsupported_response_type', 'response_type must be code');
    if (params.code_challenge_method !== 'S256') return fail('invalid_request', 'PKCE is required with code_challenge_method S256 (plain is refused)');
    if (!isS256Challenge(params.code_challenge ?? '')) return fail('invalid_request', 'code_challenge must be 43 base64url characters');
    if (state !== null && state.length > 500) return fail('invalid_request', 'state is too long');
    const requested = (params.scope ?? 'trips:read').split(' ').filter((scope) => scope && !IGNORED_SCOPES.has(scope));
    const unknown = requested.filter((scope) => !(SCOPES as readonly string[]).includes(scope));
    if (unknown.length > 0) return fail('invalid_scope', `unknown scope ${unknown.join(' ')}`);
    return { ok: { clientId, redirectUri, state, codeChallenge: params.code_challenge!, scopes: requested as Scope[] } };
  };

  app.get('/oauth/authorize', (c) => {
    const checked = check(c, c.req.query());
    if ('pageError' in checked) return page(c, 400, errorPage(checked.pageError));
    if ('redirectError' in checked) return redirectWithError(c, checked.redirectError);
    const scopes = checked.ok.scopes.length > 0 ? checked.ok.scopes : ['trips:read'];
    return page(c, 200, signInPage(checked.ok, deps.defaultTenant, scopes, null));
  });

  app.post('/oauth/authorize', formSizeLimit, async (c) => {
    const form = await formOf(c);
    if (!form) return page(c, 400, errorPage('expected a form (application/x-www-form-urlencoded)'));
    const checked = check(c, form);
    if ('pageError' in checked) return page(c, 400, errorPage(checked.pageError));
    if ('redirectError' in checked) return redirectWithError(c, checked.redirectError);
    const params = checked.ok;
    if (form.action === 'cancel') return redirectWithError(c, { error: 'access_denied', description: 'sign-in cancelled', redirectUri: params.redirectUri, state: params.state });
    const tenantId = (form.tenant ?? '').trim();
    const chosen = SCOPES.filter((scope) => form[`scope_${scope}`] === 'on');
    const again = (status: 400 | 401, message: string) => page(c, status, signInPage(params, tenantId, chosen, message));
    if (!TENANT_ID.test(tenantId)) return again(400, 'The tenant must be 1 to 64 letters, digits, _ or -.');
    if (chosen.length === 0) return again(400, 'Choose at least one scope.');
    if (!sameText(form.password ?? '', deps.password)) return again(401, 'Wrong sign-in password. tripline start prints it.');
    const code = codes.issue({ clientId: params.clientId, redirectUri: params.redirectUri, codeChallenge: params.codeChallenge, tenantId, scopes: chosen });
    if (!code) return redirectWithError(c, { error: 'temporarily_unavailable', description: 'too many sign-ins pending', redirectUri: params.redirectUri, state: params.state });
    const target = new URL(params.redirectUri);
    target.searchParams.set('code', code);
    if (params.state !== null) target.searchParams.set('state', params.state);
    return c.redirect(target.toString(), 303);
  });

  app.post('/oauth/token', formSizeLimit, async (c) => {
    c.header('cache-control', 'no-store');
    c.header('pragma', 'no-cache');
    const refuse = (error: string, description: string, status: 400 | 401 = 400) => c.json({ error, error_description: description }, status);
    const form = await formOf(c);
    if (!form) return refuse('invalid_request', 'expected an application/x-www-form-urlencoded body');
    if (form.grant_type !== 'authorization_code') return refuse('unsupported_grant_type', 'grant_type must be authorization_code');
    const missing = ['code', 'code_verifier', 'redirect_uri', 'client_id'].filter((name) => !form[name]);
    if (missing.length > 0) return refuse('invalid_request', `missing ${missing.join(', ')}`);
    if (form.client_id !== deps.clientId) return refuse('invalid_client', 'unknown client_id', 401);
    const grant = codes.redeem(form.code!, { clientId: form.client_id, redirectUri: form.redirect_uri!, codeVerifier: form.code_verifier! });
    if ('error' in grant) return refuse(grant.error, grant.description);
    const scopes = grant.scopes as Scope[];
    const accessToken = await deps.issueToken({ tenantId: grant.tenantId, scopes, ttlS: TOKEN_TTL_S, subject: `dashboard@${grant.tenantId}` });
    return c.json({ access_token: accessToken, token_type: 'Bearer' as const, expires_in: TOKEN_TTL_S, scope: scopes.join(' ') }, 200);
  });
}

/** `http(s)://<the host this request came to>/auth/callback`, and nothing else (no query, no fragment, no credentials). */
function isOwnCallback(redirectUri: string, host: string | undefined): boolean {
  if (!host) return false;
  let url: URL;
  try {
    url = new URL(redirectUri);
  } catch {
    return false;
  }
  return (url.protocol === 'http:' || url.protocol === 'https:') && url.host === host.toLowerCase() && url.pathname === DASHBOARD_CALLBACK_PATH
    && !url.search && !url.hash && !url.username && !url.password;
}

/** Refused while streaming in, before a large body is buffered: these routes take anyone's requests. */
const formSizeLimit = bodyLimit({
  maxSize: 16_384,
  onError: (c) => c.json({ error: 'invalid_request', error_description: 'the body is over 16 KB' }, 413),
});

async function formOf(c: Context<ApiEnv>): Promise<Record<string, string | undefined> | null> {
  if (!(c.req.header('content-type') ?? '').toLowerCase().startsWith('application/x-www-form-urlencoded')) return null;
  const text = await c.req.text();
  const form: Record<string, string> = {};
  for (const [name, value] of new URLSearchParams(text)) if (!(name in form)) form[name] = value;
  return form;
}

function redirectWithError(c: Context<ApiEnv>, failure: { error: string; description: string; redirectUri: string; state: string | null }): Response {
  const target = new URL(failure.redirectUri);
  target.searchParams.set('error', failure.error);
  target.searchParams.set('error_description', failure.description);
  if (failure.state !== null) target.searchParams.set('state', failure.state);
  return c.redirect(target.toString(), 302);
}

function page(c: Context<ApiEnv>, status: 200 | 400 | 401, html: string): Response {
  // No scripts at all, no framing (clickjacking), forms post only here.
  c.header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'");
  c.header('x-frame-options', 'DENY');
  c.header('cache-control', 'no-store');
  c.header('referrer-policy', 'no-referrer');
  return c.html(html, status);
}

function escape(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

const STYLE = `
body{font:16px/1.5 system-ui,sans-serif;margin:0;background:#f4f6f8;color:#1b1f24}
main{max-width:28rem;margin:3rem auto;background:#fff;padding:1.5rem 2rem;border-radius:8px;box-shadow:0 1px 4px #0002}
h1{font-size:1.4rem;margin-top:0}label{display:block;font-weight:600;margin-top:1rem}
input[type=text],input[type=password]{width:100%;box-sizing:border-box;font:inherit;padding:.4rem;border:1px solid #6b7480;border-radius:4px}
fieldset{margin-top:1rem;border:1px solid #c5cbd3;border-radius:4px}fieldset label{display:inline;font-weight:normal;margin:0 1rem 0 .25rem}
legend{font-weight:600}.hint{color:#4a525c;font-size:.9rem}
.error{background:#fde8e8;border:1px solid #b42318;color:#7a1a12;padding:.5rem;border-radius:4px}
button{font:inherit;margin-top:1.25rem;padding:.5rem 1.25rem;border-radius:4px;border:1px solid #0b5cad;background:#0b5cad;color:#fff;cursor:pointer}
button.secondary{background:#fff;color:#0b5cad;margin-left:.5rem}
:focus-visible{outline:3px solid #f59e0b;outline-offset:2px}`;

function shell(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${escape(title)}</title><style>${STYLE}</style></head><body><main>${body}</main></body></html>`;
}

function errorPage(message: string): string {
  return shell('tripline sign-in: error', `<h1>Sign-in request refused</h1><p class="error" role="alert">${escape(message)}</p>`);
}

function signInPage(params: AuthorizeParams, tenant: string, scopes: readonly string[], error: string | null): string {
  const hidden = (name: string, value: string | null) => (value === null ? '' : `<input type="hidden" name="${name}" value="${escape(value)}">`);
  const boxes = SCOPES.map((scope) => `<input type="checkbox" id="scope_${scope}" name="scope_${scope}"${scopes.includes(scope) ? ' checked' : ''}><label for="scope_${scope}">${scope}</label>`).join('');
  return shell('Sign in to tripline', `
<h1>Sign in to tripline</h1>
<p class="hint">Development issuer: there are no user accounts. Choose the tenant and scopes the dashboard's token will carry, and give the sign-in password <code>tripline start</code> printed.</p>
${error ? `<p class="error" role="alert" id="error">${escape(error)}</p>` : ''}
<form method="post" action="/oauth/authorize">
${hidden('response_type', 'code')}${hidden('client_id', params.clientId)}${hidden('redirect_uri', params.redirectUri)}
${hidden('code_challenge', params.codeChallenge)}${hidden('code_challenge_method', 'S256')}${hidden('state', params.state)}${hidden('scope', params.scopes.join(' '))}
<label for="tenant">Tenant</label>
<input type="text" id="tenant" name="tenant" value="${escape(tenant)}" required pattern="[A-Za-z0-9_\\-]{1,64}" autocomplete="organization"${error ? ' aria-describedby="error"' : ''}>
<fieldset><legend>Scopes</legend>${boxes}</fieldset>
<label for="password">Sign-in password</label>
<input type="password" id="password" name="password" required autocomplete="current-password" autofocus${error ? ' aria-describedby="error"' : ''}>
<button type="submit" name="action" value="sign-in">Sign in</button><button type="submit" name="action" value="cancel" class="secondary" formnovalidate>Cancel</button>
</form>`);
}
