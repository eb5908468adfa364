import { OpenAPIHono } from '@hono/zod-openapi';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { DeviceRegistry } from '../ports/deviceRegistry.js';
import type { SearchIndex } from '../ports/searchIndex.js';
import type { AlertStore } from '../ports/alertStore.js';
import type { AlertFeed, WriteStore } from '../ports/writeStore.js';
import type { AlertHub } from '../runtime/alertHub.js';
import type { ApiAuth } from '../runtime/apiAuth.js';
import { authMiddleware, requireScope, type ApiEnv } from './auth.js';
import { registerAlertStreamRoute } from './routes/alertStream.js';
import { registerAnalyticsRoutes } from './routes/analytics.js';
import { registerDashboardRoutes, type DashboardDeps } from './routes/dashboard.js';
import { registerDeviceRoutes } from './routes/devices.js';
import { registerHealthRoute, registerLivenessRoute, type Health } from './routes/health.js';
import { registerMetricsRoute } from './routes/metrics.js';
import { registerDevSignInRoutes } from './routes/oauth.js';
import { registerPositionRoutes } from './routes/positions.js';
import { registerTraceRoutes, type TraceSource } from './routes/traces.js';
import { registerTripRoutes } from './routes/trips.js';
import { registerVehicleRoutes } from './routes/vehicles.js';
import { registerWebhookRoutes } from './routes/webhooks.js';

export interface ApiDeps {
  search: SearchIndex;
  store: WriteStore;
  registry: DeviceRegistry;
  auth: ApiAuth;
  /** Closes a revoked device's live session at once. */
  onRevoked: (deviceId: string) => void;
  metricsRegistry: Registry;
  health: () => Promise<Health>;
  logger: Logger;
  scoreWindowDays: number;
  alerts: AlertStore;
  alertFeed: AlertFeed;
  alertHub: AlertHub;
  traces: TraceSource;
  /** The web dashboard served at `/` (its settings; the external issuer, if any, comes from `auth`). */
  dashboard: Omit<DashboardDeps, 'externalIssuer'> & { defaultTenant: string };
}

/**
 * The HTTP API: OpenAPI-described routes under /v1, each needing a bearer token with a scope:
 * device management needs devices:write, webhooks admin, everything else trips:read. Health, metrics, the
 * spec and the development issuer's public keys are public; so are its sign-in page and token
 * endpoint (the sign-in page needs the development sign-in password), and the web dashboard at `/`.
 */
export function createApi(deps: ApiDeps): OpenAPIHono<ApiEnv> {
  const app = new OpenAPIHono<ApiEnv>({
    defaultHook: (result, c) => {
      if (result.success) return;
      const message = result.error.issues.map((issue) => `${issue.path.join('.') || 'request'}: ${issue.message}`).join('; ');
      return c.json({ error: 'bad_request', message }, 400);
    },
  });

  app.onError((error, c) => {
    deps.logger.error({ err: error, path: c.req.path }, 'request failed');
    return c.json({ error: 'internal', message: 'internal error' }, 500);
  });
  app.notFound((c) => c.json({ error: 'not_found', message: `no route ${c.req.method} ${c.req.path}` }, 404));

  registerHealthRoute(app, deps.health);
  registerLivenessRoute(app);
  registerMetricsRoute(app, deps.metricsRegistry);
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description: "OAuth2 access token from the configured OIDC provider (or `tripline token`); the tenant comes from its claims. Scopes: trips:read, devices:write, admin.",
  });
  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    security: [{ bearer: [] }],
    info: { title: 'tripline API', version: '0.1.0', description: 'Trips of a usage-based insurance fleet. Times are epoch milliseconds; geometry is GeoJSON.' },
  });

  if (deps.auth.jwks) {
    const jwks = deps.auth.jwks;
    app.get('/oauth/jwks.json', (c) => c.json(jwks));
  }
  if (deps.auth.signInPassword !== null) {
    const issueToken = deps.auth.issueToken;
    registerDevSignInRoutes(app, {
      clientId: deps.dashboard.clientId,
      defaultTenant: deps.dashboard.defaultTenant,
      password: deps.auth.signInPassword,
      issueToken: (request) => issueToken(request),
    });
  }

  app.use('/v1/*', authMiddleware(deps.auth.authenticate));
  const readTrips = requireScope('trips:read');
  const writeDevices = requireScope('devices:write');
  const admin = requireScope('admin');
  const under = (path: string, prefix: string): boolean => path === prefix || path.startsWith(`${prefix}/`);
  app.use('/v1/*', (c, next) => (under(c.req.path, '/v1/devices') ? writeDevices : under(c.req.path, '/v1/webhooks') ? admin : readTrips)(c, next));
  registerDeviceRoutes(app, { registry: deps.registry, onRevoked: deps.onRevoked });
  registerTripRoutes(app, deps);
  registerAnalyticsRoutes(app, deps);
  registerVehicleRoutes(app, { search: deps.search, windowDays: deps.scoreWindowDays });
  registerWebhookRoutes(app, { alerts: deps.alerts });
  registerAlertStreamRoute(app, { hub: deps.alertHub, feed: deps.alertFeed });
  registerTraceRoutes(app, deps.traces);
  registerPositionRoutes(app, deps);
  // Last: the dashboard's assets and its fallback to index.html answer only what no route above did.
  registerDashboardRoutes(app, { ...deps.dashboard, externalIssuer: deps.auth.signInPassword === null ? deps.auth.issuer : null });
  return app;
}
