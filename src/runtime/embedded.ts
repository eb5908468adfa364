import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import type { Logger } from 'pino';
import { SqliteAlertStore } from '../adapters/embedded/sqliteAlertStore.js';
import { SqliteBus } from '../adapters/embedded/sqliteBus.js';
import { SqliteSearchIndex } from '../adapters/embedded/sqliteSearchIndex.js';
import { SqliteWriteStore } from '../adapters/embedded/sqliteWriteStore.js';
import { createTripContext } from '../adapters/enrichment/tripContext.js';
import { startAedesBroker } from '../adapters/mqtt/aedesBroker.js';
import { createApi } from '../api/app.js';
import type { Health } from '../api/routes/health.js';
import { createCachedVerifier } from '../security/cachedVerifier.js';
import { AlertDispatcher } from './alertDispatcher.js';
import { AlertHub } from './alertHub.js';
import { createSyncLoop, createWebhookSender, PENDING_ALERTS_LIMIT, pruneAlertHistory, SYNC_LAG_LIMIT_MS } from './alertPipeline.js';
import { createApiAuthenticator, type ApiAuth } from './apiAuth.js';
import { startBusMonitor } from './busMonitor.js';
import type { PlatformConfig } from './config.js';
import { ensurePrivateDataDir } from './dataDir.js';
import { createDeviceAuthenticator } from './deviceAuth.js';
import { startDeviceWatcher } from './deviceWatcher.js';
import { createIngestService } from './ingestService.js';
import { startLiveTripWatchdog } from './liveTripWatchdog.js';
import { startWaitTicker } from './waitTicker.js';
import { createMetrics, type Metrics } from './metrics.js';
import { RateLimiter } from './rateLimiter.js';
import { otlpEndpointFromEnv, Tracing } from './tracing.js';
import { TripWorker } from './tripWorker.js';
import { openLocalDeviceRegistry } from './localRegistry.js';
import type { DeviceRegistry } from '../ports/deviceRegistry.js';

export interface EmbeddedPlatform {
  config: PlatformConfig;
  mqttPort: number;
  /** The mTLS port, when configured. */
  mqttTlsPort: number | null;
  httpPort: number;
  metrics: Metrics;
  store: SqliteWriteStore;
  alerts: SqliteAlertStore;
  alertHub: AlertHub;
  search: SqliteSearchIndex;
  registry: DeviceRegistry;
  auth: ApiAuth;
  tracing: Tracing;
  stop: () => Promise<void>;
}

/**
 * The composition root of the embedded deployment: one process, zero services. SQLite files
 * in the data folder hold the bus, the write store and the search store; Aedes is the broker.
 */
export async function startEmbedded(config: PlatformConfig, logger: Logger): Promise<EmbeddedPlatform> {
  ensurePrivateDataDir(config.dataDir);
  const metrics = createMetrics();
  const otlpEndpoint = otlpEndpointFromEnv(process.env);
  const tracing = new Tracing({ serviceName: process.env.OTEL_SERVICE_NAME || 'tripline', sampleRatio: config.traceSampleRatio, otlpEndpoint });
  const bus = new SqliteBus({
    path: join(config.dataDir, 'bus.db'),
    partitionCount: config.partitions,
    synchronous: config.sqliteSynchronous,
    retentionMs: config.busRetentionS * 1000,
  });
  const store = new SqliteWriteStore(join(config.dataDir, 'write.db'), config.sqliteSynchronous);
  // The search store can always be rebuilt from the write store, so it need not fsync every commit.
  const search = new SqliteSearchIndex(join(config.dataDir, 'search.db'), 'NORMAL');

  const context = await createTripContext(config.osmExtract ? { osmExtract: config.osmExtract } : {});
  if (config.osmExtract) logger.info({ file: config.osmExtract, ...(context.speedLimitStats as object) }, 'speed limits loaded');
  const alerts = new SqliteAlertStore(join(config.dataDir, 'alerts.db'), config.sqliteSynchronous);
  const alertHub = new AlertHub();
  const sender = createWebhookSender(alerts, config, metrics, logger, tracing);
  // The broker starts later (it needs the registry); alerts dispatched before then reach only webhooks and streams.
  let downlink: (deviceId: string, payload: string) => Promise<void> = async () => undefined;
  const dispatcher = new AlertDispatcher({
    feed: store, store: alerts, hub: alertHub, downlink: (deviceId, payload) => downlink(deviceId, payload), metrics, logger,
    onEnqueued: () => sender.kick(),
    tracing,
  });
  const sync = createSyncLoop(store, search, metrics, logger, tracing);
  const worker = new TripWorker({
    bus, store, config: config.pipeline, context, metrics, logger, batchSize: 200, tracing,
    onCommitted: () => sync.kick(),
    onAlertsCommitted: () => dispatcher.kick(),
  });
  await worker.start();
  sync.start();
  const busMonitor = await startBusMonitor(worker, metrics, 100);
  const stopWatchdog = startLiveTripWatchdog(bus, worker, config.liveTimeoutS * 1000, () => busMonitor.backlog() > config.maxBusBacklog);
  const stopTicker = startWaitTicker(bus, worker, config.pipeline.cleaning);
  const pruning = setInterval(() => {
    void bus.prune(worker.committedCursors());
    pruneAlertHistory(store, alerts, dispatcher.dispatchedUpTo(), logger);
  }, 60_000);
  pruning.unref();

  const registry = openLocalDeviceRegistry(config);
  const verifier = createCachedVerifier(registry);
  const onPublish = createIngestService({
    bus,
    metrics,
    logger,
    maxPayloadBytes: config.maxPayloadBytes,
    maxBusBacklog: config.maxBusBacklog,
    // One worker consumes every partition: its backlog is the whole bus's.
    backlog: () => busMonitor.backlog(),
    rateLimiter: new RateLimiter(config.deviceRatePerS, config.deviceBurst),
    maxThrottleMs: 30_000,
    tracing,
  });
  const broker = await startAedesBroker({
    host: config.host,
    port: config.mqttPort,
    ...(config.mqttTlsPort !== null
      ? { tls: { port: config.mqttTlsPort, cert: readFileSync(config.mqttTlsCert!), key: readFileSync(config.mqttTlsKey!), ca: readFileSync(config.mqttTlsCa!) } }
      : {}),
    // Topic and packet header on top of the largest payload; other packets (CONNECT, SUBSCRIBE) are small.
    limits: { maxPublishBytes: config.maxPayloadBytes + 1024, maxControlBytes: 65_536 },
    logger,
    authenticate: createDeviceAuthenticator({ registry, verify: (id, secret) => verifier.verify(id, secret), onRefused: (reason) => metrics.connectsRefused.inc({ reason }) }),
    onPublish,
    onOversize: () => {
      metrics.messagesReceived.inc();
      metrics.messagesRejected.inc({ reason: 'too_large' });
    },
    onSubscribeDenied: () => metrics.subscribesDenied.inc(),
    onUnsupportedQos: () => {
      metrics.messagesReceived.inc();
      metrics.messagesRejected.inc({ reason: 'unsupported_qos' });
    },
    onInvalidPublishTopic: () => {
      metrics.messagesReceived.inc();
      metrics.messagesRejected.inc({ reason: 'invalid_topic' });
    },
    onProtocolError: () => metrics.protocolErrors.inc(),
  });
  downlink = (deviceId, payload) => broker.publishDownlink(deviceId, payload);
  await dispatcher.start();
  sender.start();
  const stopWatcher = startDeviceWatcher(registry, broker, logger);

  const health = async (): Promise<Health> => {
    const lag = await sync.lag();
    const syncOk = lag.lagMs < SYNC_LAG_LIMIT_MS;
    const pendingAlerts = await dispatcher.pending();
    const alertsOk = pendingAlerts < PENDING_ALERTS_LIMIT;
    const backlog = busMonitor.backlog();
    return {
      status: syncOk && alertsOk ? 'ok' : 'degraded',
      components: {
        broker: { status: 'ok', port: broker.port, connectedClients: broker.connectedClients() },
        bus: { status: backlog <= config.maxBusBacklog ? 'ok' : 'degraded', backlogMessages: backlog, lagMs: busMonitor.lagMs() },
        writeStore: { status: 'ok' },
        sync: { status: syncOk ? 'ok' : 'degraded', lagMs: lag.lagMs, pendingChanges: lag.pendingChanges },
        alerts: { status: alertsOk ? 'ok' : 'degraded', pendingAlerts, streams: alertHub.subscribers() },
        tracing: { status: 'ok', ...tracing.recent.size(), sampleRatio: config.traceSampleRatio, otlp: otlpEndpoint !== undefined },
      },
    };
  };
  const auth = await createApiAuthenticator(config, logger);
  const api = createApi({
    search, store, registry, auth, onRevoked: (deviceId) => broker.revoke(deviceId), metricsRegistry: metrics.registry, health, logger,
    scoreWindowDays: config.pipeline.scoring.rolling.windowDays, alerts, alertFeed: store, alertHub, traces: tracing.recent,
    dashboard: {
      clientId: config.dashboardClientId, scope: config.dashboardScope, tilesUrl: config.mapTilesUrl,
      tilesAttribution: config.mapTilesAttribution, defaultTenant: config.defaultTenant,
    },
  });
  const http = await new Promise<Server>((resolve) => {
    const server = serve({ fetch: api.fetch, port: config.httpPort, hostname: config.host }, () => resolve(server as Server));
  });
  const address = http.address();
  const httpPort = typeof address === 'object' && address ? address.port : config.httpPort;
  logger.info({ mqttPort: broker.port, mqttTlsPort: broker.tlsPort, httpPort, issuer: auth.issuer, dataDir: config.dataDir }, 'tripline embedded platform ready');

  return {
    config,
    mqttPort: broker.port,
    mqttTlsPort: broker.tlsPort,
    httpPort,
    metrics,
    store,
    alerts,
    alertHub,
    search,
    registry,
    auth,
    tracing,
    stop: async () => {
      busMonitor.stop();
      clearInterval(pruning);
      stopWatchdog();
      stopTicker();
      await stopWatcher();
      // Before the broker closes, so no downlink publish meets a closed broker; undispatched alerts wait for the next start.
      await dispatcher.stop();
      await broker.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
      await worker.stop();
      await sender.stop();
      await sync.stop();
      await bus.close();
      await store.close();
      await alerts.close();
      await search.close();
      await registry.close();
      await tracing.shutdown();
    },
  };
}
