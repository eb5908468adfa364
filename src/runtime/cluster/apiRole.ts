import { createApi } from '../../api/app.js';
import { AlertHub } from '../alertHub.js';
import { createApiAuthenticator, type ApiAuth } from '../apiAuth.js';
import type { ClusterContext } from './clusterContext.js';
import { AlertTail } from './alertTail.js';
import type { RoleHandle } from './roleHandle.js';
import type { Health } from '../../api/routes/health.js';

/**
 * The HTTP API of the cluster: stateless, any number behind a load balancer. Searches go to the
 * search store, trip points and alert history to the write store; each process tails the alert
 * outbox for its own live streams.
 */
export async function startApiRole(ctx: ClusterContext, health: () => Promise<Health>): Promise<RoleHandle & { app: { fetch: (request: Request) => Response | Promise<Response> }; auth: ApiAuth }> {
  const { config, metrics, logger, tracing } = ctx;
  const [search, store, alerts, registry, signals] = await Promise.all([ctx.searchIndex(), ctx.writeStore(), ctx.alertStore(), ctx.registry(), ctx.signals()]);
  const hub = new AlertHub();
  const tail = new AlertTail(store, hub, metrics, logger, tracing);
  signals.on('alerts', () => tail.kick());
  await tail.start();
  const auth = await createApiAuthenticator(config, logger);
  const app = createApi({
    search, store, registry, auth, metricsRegistry: metrics.registry, health, logger,
    // The broker-synced registry already closed the account (and with it the session).
    onRevoked: () => undefined,
    scoreWindowDays: config.pipeline.scoring.rolling.windowDays,
    alerts, alertFeed: store, alertHub: hub, traces: ctx.tracing.recent,
    dashboard: {
      clientId: config.dashboardClientId, scope: config.dashboardScope, tilesUrl: config.mapTilesUrl,
      tilesAttribution: config.mapTilesAttribution, defaultTenant: config.defaultTenant,
    },
  });
  return {
    app,
    auth,
    health: async () => ({ api: { status: 'ok', streams: hub.subscribers() } }),
    stop: () => tail.stop(),
  };
}
