import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey, type RemoteJWKSet } from 'jose';
import { TENANT_ID, type AuthFailure, type Authenticator, type Principal } from '../api/auth.js';

/** Public-key JWS algorithms. Symmetric (HS*) ones are never accepted: anyone holding the published key could forge with them. */
export const ASYMMETRIC_JWT_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'] as const;
export const DEFAULT_JWT_ALGORITHMS = ['RS256', 'PS256', 'ES256', 'EdDSA'] as const;
export const DEFAULT_TENANT_CLAIM = 'tenant';
export const DEFAULT_CLOCK_TOLERANCE_S = 30;

/** What a token must satisfy besides a good signature. */
export interface JwtRules {
  issuer: string;
  audience: string;
  algorithms: readonly string[];
  /** Top-level claim holding the tenant id (e.g. `tenant`, or a namespaced `https://example.com/tenant`). */
  tenantClaim: string;
  /** Slack allowed on `exp` and `nbf` for clocks that disagree. */
  clockToleranceS: number;
}

export interface OidcAuthenticatorOptions extends Partial<Omit<JwtRules, 'issuer' | 'audience'>> {
  /** The provider's issuer identifier, exactly as it appears in `iss` (mind a trailing slash). */
  issuer: string;
  audience: string;
  /** Skips discovery when given; otherwise `jwks_uri` from `${issuer}/.well-known/openid-configuration`. */
  jwksUrl?: string | null;
  /** After fetching the key set, a token with an unknown `kid` triggers another fetch only this much later. */
  jwksCooldownS?: number;
  /** After discovery or a key-set fetch failed, requests get 503 without contacting the issuer for this long. */
  issuerRetryS?: number;
  issuerTimeoutS?: number;
  /** Told about each issuer outage (once per retry window), e.g. to log it. */
  onIssuerError?: (error: Error) => void;
}

/** The issuer (discovery or key set) could not be reached or answered nonsense: our fault, not the caller's. */
class IssuerUnavailable extends Error {}

/**
 * Bearer JWTs from any OpenID Connect provider, checked against its published key set.
 *
 * Configuration is validated here, so a bad issuer URL or algorithm fails start with a clear message.
 * Discovery, though, happens lazily on the first request and is retried after `issuerRetryS`: an
 * identity provider that is briefly down while the platform starts must not crash-loop it. Until the
 * provider answers, API requests get 503 and `onIssuerError` hears why.
 */
export function createOidcAuthenticator(options: OidcAuthenticatorOptions): Authenticator {
  const rules: JwtRules = {
    issuer: options.issuer,
    audience: options.audience,
    algorithms: options.algorithms ?? DEFAULT_JWT_ALGORITHMS,
    tenantClaim: options.tenantClaim ?? DEFAULT_TENANT_CLAIM,
    clockToleranceS: options.clockToleranceS ?? DEFAULT_CLOCK_TOLERANCE_S,
  };
  endpointUrl(options.issuer, 'OAuth issuer');
  const jwksUrl = options.jwksUrl ? endpointUrl(options.jwksUrl, 'OAuth JWKS URL') : null;
  return jwtAuthenticator(remoteKeys(options, jwksUrl), rules);
}

/** Verifies bearer JWTs against `keys`; the principal comes from the verified claims only. */
export function jwtAuthenticator(keys: JWTVerifyGetKey, rules: JwtRules): Authenticator {
  checkRules(rules);
  const algorithms = new Set(rules.algorithms);
  const verifyOptions = {
    issuer: rules.issuer,
    audience: rules.audience,
    algorithms: [...rules.algorithms],
    clockTolerance: rules.clockToleranceS,
    requiredClaims: ['exp'],
  };
  return async (authorization) => {
    const token = bearerToken(authorization);
    if (typeof token !== 'string') return token;
    // Cheap checks before any key lookup, so tokens of other issuers or algorithms never reach the issuer's key set.
    const refused = precheck(token, rules.issuer, algorithms);
    if (refused) return refused;
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keys, verifyOptions));
    } catch (error) {
      return failureFor(error);
    }
    return principalFrom(payload, rules.tenantClaim);
  };
}

function checkRules(rules: JwtRules): void {
  if (!rules.audience) throw new Error('OAuth audience must not be empty');
  if (!rules.tenantClaim) throw new Error('OAuth tenant claim must not be empty');
  if (!(rules.clockToleranceS >= 0 && Number.isFinite(rules.clockToleranceS))) throw new Error('OAuth clock tolerance must be a non-negative number of seconds');
  if (rules.algorithms.length === 0) throw new Error('OAuth algorithms must name at least one algorithm');
  for (const algorithm of rules.algorithms) {
    if (!(ASYMMETRIC_JWT_ALGORITHMS as readonly string[]).includes(algorithm)) {
      throw new Error(`OAuth algorithm ${JSON.stringify(algorithm)} is not allowed; use some of ${ASYMMETRIC_JWT_ALGORITHMS.join(', ')}`);
    }
  }
}

/** https, or http to this machine only (a local development provider). */
function endpointUrl(text: string, name: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error(`${name} is not a URL: ${JSON.stringify(text)}`);
  }
  const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) throw new Error(`${name} must be https (http only to localhost): ${text}`);
  return url;
}

/**
 * The issuer's key set, found by discovery on first use. jose's remote set refetches when a token
 * names an unknown `kid` (key rotation), at most once per cooldown, so made-up key ids cannot make
 * us hammer the issuer; failures back off for `issuerRetryS` for the same reason.
 */
function remoteKeys(options: OidcAuthenticatorOptions, jwksUrl: URL | null): JWTVerifyGetKey {
  const timeoutMs = Math.round((options.issuerTimeoutS ?? 5) * 1000);
  const retryMs = (options.issuerRetryS ?? 5) * 1000;
  const keySetAt = (url: URL): RemoteJWKSet =>
    createRemoteJWKSet(url, { timeoutDuration: timeoutMs, cooldownDuration: (options.jwksCooldownS ?? 30) * 1000 });
  let keySet = jwksUrl ? keySetAt(jwksUrl) : null;
  let discovering: Promise<RemoteJWKSet> | null = null;
  let failedAtMs = Number.NEGATIVE_INFINITY;

  const currentKeySet = async (): Promise<RemoteJWKSet> => {
    if (keySet) return keySet;
    discovering ??= discoverJwksUrl(options.issuer, timeoutMs)
      .then((url) => (keySet = keySetAt(url)))
      .finally(() => (discovering = null));
    return discovering;
  };

  return async (header, token) => {
    if (Date.now() - failedAtMs < retryMs) throw new IssuerUnavailable('issuer recently unreachable');
    try {
      return await (await currentKeySet())(header, token);
    } catch (error) {
      if (isTokenKeyError(error)) throw error;
      if (Date.now() - failedAtMs >= retryMs) options.onIssuerError?.(asIssuerError(error, options.issuer));
      failedAtMs = Date.now();
      throw new IssuerUnavailable('issuer unreachable', { cause: error });
    }
  };
}

/** Key-selection failures caused by the token's header; anything else from the key set is the issuer's (network, HTTP status, bad JSON). */
function isTokenKeyError(error: unknown): boolean {
  return error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys || error instanceof errors.JOSENotSupported;
}

function asIssuerError(error: unknown, issuer: string): Error {
  const why = error instanceof Error ? `${error.message}${error.cause instanceof Error ? ` (${error.cause.message})` : ''}` : String(error);
  return new Error(`OAuth issuer ${issuer}: ${why}`, { cause: error });
}

/** OpenID Connect Discovery 1.0: the provider metadata names its key set. */
export async function discoverJwksUrl(issuer: string, timeoutMs: number): Promise<URL> {
  const { url, metadata } = await providerMetadata(issuer, (at) => fetchJson(at, timeoutMs));
  if (typeof metadata.jwks_uri !== 'string') throw new Error(`discovery at ${url} has no jwks_uri`);
  return endpointUrl(metadata.jwks_uri, 'discovered jwks_uri');
}

/** OpenID Connect Discovery 1.0: a provider's metadata, which must name the issuer we trust exactly (§4.3). */
export async function providerMetadata(issuer: string, fetchJsonAt: (url: string) => Promise<unknown>): Promise<{ url: string; metadata: Record<string, unknown> }> {
  const url = `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
  let metadata: unknown;
  try {
    metadata = await fetchJsonAt(url);
  } catch (error) {
    throw new Error(`discovery at ${url} failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  const record = (metadata ?? {}) as Record<string, unknown>;
  if (record.issuer !== issuer) throw new Error(`discovery at ${url} names issuer ${JSON.stringify(record.issuer)}, not ${JSON.stringify(issuer)}`);
  return { url, metadata: record };
}

/** GET a JSON document; anything but 200 is an error. */
export async function fetchJson(url: string, timeoutMs: number): Promise<unknown> {
  const response = await fetch(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(timeoutMs) });
  if (response.status !== 200) throw new Error(`HTTP ${response.status}`);
  return response.json();
}

function bearerToken(authorization: string | undefined): string | AuthFailure {
  const [scheme, token, ...rest] = (authorization ?? '').trim().split(/\s+/);
  if (!scheme) return { error: 'missing bearer token' };
  if (scheme.toLowerCase() !== 'bearer') return { error: 'authorization scheme must be Bearer' };
  if (!token) return { error: 'missing bearer token' };
  if (rest.length > 0) return { error: 'malformed authorization header' };
  return token;
}

function precheck(token: string, issuer: string, algorithms: ReadonlySet<string>): AuthFailure | null {
  let iss: unknown;
  let alg: unknown;
  try {
    iss = decodeJwt(token).iss;
    alg = decodeProtectedHeader(token).alg;
  } catch {
    return { error: 'malformed token' };
  }
  if (typeof alg !== 'string' || !algorithms.has(alg)) return { error: 'algorithm not allowed' };
  if (iss === undefined) return { error: 'token has no issuer' };
  if (iss !== issuer) return { error: 'issuer not accepted' };
  return null;
}

/** Fixed texts only: a reason must never repeat what the token said. */
const CLAIM_REASONS: Record<string, string> = {
  'iss:missing': 'token has no issuer',
  'iss:check_failed': 'issuer not accepted',
  'aud:missing': 'token has no audience',
  'aud:check_failed': 'audience not accepted',
  'exp:missing': 'token has no expiry',
  'exp:invalid': 'exp claim is not a number',
  'nbf:check_failed': 'token not yet valid',
  'nbf:invalid': 'nbf claim is not a number',
  'iat:invalid': 'iat claim is not a number',
};

const CODE_REASONS: Record<string, string> = {
  ERR_JWT_EXPIRED: 'token expired',
  ERR_JOSE_ALG_NOT_ALLOWED: 'algorithm not allowed',
  ERR_JOSE_NOT_SUPPORTED: 'unsupported token',
  ERR_JWS_SIGNATURE_VERIFICATION_FAILED: 'signature verification failed',
  ERR_JWKS_NO_MATCHING_KEY: 'unknown signing key',
  ERR_JWKS_MULTIPLE_MATCHING_KEYS: 'signature verification failed',
  ERR_JWS_INVALID: 'malformed token',
  ERR_JWT_INVALID: 'malformed token',
};

function failureFor(error: unknown): AuthFailure {
  if (error instanceof IssuerUnavailable) return { error: 'token issuer unreachable', unavailable: true };
  if (error instanceof errors.JWTClaimValidationFailed) return { error: CLAIM_REASONS[`${error.claim}:${error.reason}`] ?? 'token claims rejected' };
  if (error instanceof errors.JOSEError) return { error: CODE_REASONS[error.code] ?? 'invalid token' };
  return { error: 'invalid token' };
}

function principalFrom(payload: JWTPayload, tenantClaim: string): Principal | AuthFailure {
  const tenant = payload[tenantClaim];
  if (tenant === undefined) return { error: 'token has no tenant claim' };
  if (typeof tenant !== 'string' || !TENANT_ID.test(tenant)) return { error: 'tenant claim is not a valid tenant id' };
  return { tenantId: tenant, scopes: scopesOf(payload), subject: typeof payload.sub === 'string' ? payload.sub : null };
}

/** OAuth2's space-separated `scope`, or `scp` as an array or string (Azure AD, Okta). */
function scopesOf(payload: JWTPayload): string[] {
  const words = (value: unknown): string[] =>
    typeof value === 'string' ? value.split(' ') : Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
  return [...new Set([...words(payload.scope), ...words(payload.scp)])].filter((scope) => scope.length > 0);
}
