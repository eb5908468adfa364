import type { MiddlewareHandler } from 'hono';
import { ID_PATTERN } from '../domain/ids.js';

/** What API callers may be allowed to do; `admin` implies every other scope. */
export const SCOPES = ['trips:read', 'devices:write', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

export const TENANT_ID = ID_PATTERN;

export interface Principal {
  tenantId: string;
  scopes: string[];
  /** The token's `sub`: who the caller is at the issuer, for logs and audit; never used for access. */
  subject: string | null;
}

/**
 * Why credentials were refused. `message` is shown to the caller, so it never repeats token contents.
 * `unavailable` means the fault is ours (the issuer could not be reached), not the caller's: 503, not 401.
 */
export interface AuthFailure {
  error: string;
  unavailable?: true;
}

/** Turns a request's Authorization header into a principal, or says why not. The tenant always comes from here, never from the request. */
export type Authenticator = (authorization: string | undefined) => Promise<Principal | AuthFailure>;

export type ApiEnv = { Variables: { principal: Principal } };

export function authMiddleware(authenticate: Authenticator): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    const result = await authenticate(c.req.header('authorization'));
    if ('error' in result) {
      // Retry-After matches the OIDC authenticator's default back-off after an issuer failure.
      if (result.unavailable) return c.json({ error: 'unavailable', message: result.error }, 503, { 'retry-after': '5' });
      return c.json({ error: 'unauthorized', message: result.error }, 401, {
        'www-authenticate': `Bearer error="invalid_token", error_description="${quoted(result.error)}"`,
      });
    }
    c.set('principal', result);
    await next();
  };
}

export function hasScope(principal: Principal, scope: Scope): boolean {
  return principal.scopes.includes('admin') || principal.scopes.includes(scope);
}

/** Route guard after `authMiddleware`: 403 with the RFC 6750 challenge naming the scope the route needs. */
export function requireScope(scope: Scope): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    if (!hasScope(c.get('principal'), scope)) {
      return c.json({ error: 'insufficient_scope', message: `this route needs scope ${scope}` }, 403, {
        'www-authenticate': `Bearer error="insufficient_scope", scope="${scope}"`,
      });
    }
    await next();
  };
}

/** A quoted-string per RFC 9110: backslash-escape quotes and backslashes. */
function quoted(text: string): string {
  return text.replace(/["\\]/g, '\\$&');
}
