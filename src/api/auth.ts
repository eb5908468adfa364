import type { MiddlewareHandler } from 'hono';

export interface Principal {
  tenantId: string;
  scopes: string[];
}

/** Turns a request's credentials into a principal, or says why not. The tenant always comes from here, never from the request. */
export type Authenticator = (authorization: string | undefined) => Promise<Principal | { error: string }>;

export type ApiEnv = { Variables: { principal: Principal } };

export function authMiddleware(authenticate: Authenticator): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    const result = await authenticate(c.req.header('authorization'));
    if ('error' in result) return c.json({ error: 'unauthorized', message: result.error }, 401);
    c.set('principal', result);
    await next();
  };
}

/** Until device and OAuth security land, every caller reads the default tenant. Never expose this beyond localhost. */
export function openAuthenticator(tenantId: string): Authenticator {
  return async () => ({ tenantId, scopes: ['trips:read'] });
}
