import type { Server } from 'node:http';
import { serve } from '@hono/node-server';
import { OpenAPIHono } from '@hono/zod-openapi';
import type { Logger } from 'pino';
import type { ApiEnv } from '../../api/auth.js';
import { registerHealthRoute, registerLivenessRoute, type Health } from '../../api/routes/health.js';
import { registerMetricsRoute } from '../../api/routes/metrics.js';
import type { PlatformConfig } from '../config.js';
import type { ApiAuth } from '../apiAuth.js';
import { startApiRole } from './apiRole.js';
import { ClusterContext } from './clusterContext.js';
import { startIngestRole } from './ingestRole.js';
import type { RoleHandle } from './roleHandle.js';
import type { Role } from './roles.js';
import { startSyncRole } from './syncRole.js';
import { startWorkerRole } from './workerRole.js';

export interface ClusterProcess {
  roles: ReadonlySet<Role>;
  instanceId: string;
  httpPort: number;
  /** The API's authenticator, when this process runs the api role. */
  auth: ApiAuth | null;
  stop: () => Promise<void>;
}

/**
 * The composition root of cluster mode: the roles this process runs, on the external broker,
 * NATS JetStream and PostgreSQL named by the configuration. Every process serves /healthz and
 * /metrics on the HTTP port; the api role serves the whole API there.
 */
export async function startCluster(config: PlatformConfig, roles: ReadonlySet<Role>, logger: Logger): Promise<ClusterProcess> {
  const ctx = new ClusterContext(config, logger.child({ instance: config.instanceId ?? undefined }));
  const handles: RoleHandle[] = [];
  const health = async (): Promise<Health> => {
    const components: Health['components'] = {};
    for (const handle of handles) Object.assign(components, await handle.health().catch(() => ({ role: { status: 'degraded' as const } })));
    const status = Object.values(components).every((component) => component.status === 'ok') ? 'ok' : 'degraded';
    return { status, components };
  };
  let app: { fetch: (request: Request) => Response | Promise<Response> } | null = null;
  let auth: ApiAuth | null = null;
  try {
    // Consumers first, ingest last: nothing is taken in before something can carry it on.
    if (roles.has('worker')) handles.push(await startWorkerRole(ctx));
    if (roles.has('sync')) handles.push(await startSyncRole(ctx));
    if (roles.has('api')) {
      const api = await startApiRole(ctx, health);
      handles.push(api);
      app = api.app;
      auth = api.auth;
    }
    if (roles.has('ingest')) handles.push(await startIngestRole(ctx));
  } catch (error) {
    for (const handle of handles.reverse()) await handle.stop().catch(() => undefined);
    await ctx.close();
    throw error;
  }
  if (!app) {
    const ops = new OpenAPIHono<ApiEnv>();
    registerHealthRoute(ops, health);
    registerLivenessRoute(ops);
    registerMetricsRoute(ops, ctx.metrics.registry);
    app = ops;
  }
  const fetch = app.fetch.bind(app);
  const http = await new Promise<Server>((resolve) => {
    const server = serve({ fetch, port: config.httpPort, hostname: config.host }, () => resolve(server as Server));
  });
  const address = http.address();
  const httpPort = typeof address === 'object' && address ? address.port : config.httpPort;
  ctx.logger.info({ roles: [...roles], instanceId: ctx.instanceId, httpPort }, 'tripline cluster process ready');
  return {
    roles,
    instanceId: ctx.instanceId,
    httpPort,
    auth,
    stop: async () => {
      // Ingest first (stop taking in), then the rest, in reverse order of start.
      for (const handle of handles.reverse()) await handle.stop().catch((error: unknown) => ctx.logger.warn({ err: error }, 'stopping a role failed'));
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
      await ctx.close();
    },
  };
}
