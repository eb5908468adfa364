import type { JSONWebKeySet } from 'jose';
import type { Authenticator, Scope } from '../api/auth.js';
import { createDevAuthenticator, devIssuerJwks, DEV_ISSUER, loadOrCreateDevIssuerKey, signDevToken } from '../security/devIssuer.js';
import { createOidcAuthenticator } from '../security/jwtAuthenticator.js';
import type { Logger } from 'pino';
import type { PlatformConfig } from './config.js';

export interface ApiAuth {
  authenticate: Authenticator;
  issuer: string;
  /** The development issuer's public keys, served at /oauth/jwks.json; null with an external provider. */
  jwks: JSONWebKeySet | null;
  /** Signs a development token (tests, demos); throws with an external provider, whose tokens come from it. */
  issueToken: (request: { tenantId: string; scopes: readonly Scope[]; ttlS?: number; subject?: string }) => Promise<string>;
  /** The development issuer's dashboard sign-in password (see DevIssuerKey); null with an external provider. */
  signInPassword: string | null;
}

/** An external OIDC provider when TRIPLINE_OAUTH_ISSUER is set; otherwise the built-in development issuer. */
export async function createApiAuthenticator(config: PlatformConfig, logger: Logger): Promise<ApiAuth> {
  if (config.oauthIssuer) {
    const issuer = config.oauthIssuer;
    return {
      authenticate: createOidcAuthenticator({
        issuer,
        audience: config.oauthAudience,
        jwksUrl: config.oauthJwksUrl,
        algorithms: config.oauthAlgorithms,
        tenantClaim: config.oauthTenantClaim,
        clockToleranceS: config.oauthClockToleranceS,
        onIssuerError: (error) => logger.error({ err: error, issuer }, 'OAuth issuer unreachable; API requests get 503'),
      }),
      issuer,
      jwks: null,
      signInPassword: null,
      issueToken: () => Promise.reject(new Error(`tokens come from ${issuer}`)),
    };
  }
  const key = await loadOrCreateDevIssuerKey(config.dataDir);
  return {
    authenticate: createDevAuthenticator(key, { audience: config.oauthAudience, clockToleranceS: config.oauthClockToleranceS }),
    issuer: DEV_ISSUER,
    jwks: devIssuerJwks(key),
    signInPassword: key.signInPassword,
    issueToken: ({ tenantId, scopes, ttlS, subject }) =>
      signDevToken(key, { tenantId, scopes, ttlS: ttlS ?? 3600, audience: config.oauthAudience, ...(subject !== undefined ? { subject } : {}) }),
  };
}
