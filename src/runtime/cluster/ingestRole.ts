import { startMqttIngest } from '../../adapters/mqtt/mqttIngestClient.js';
import { createIngestService } from '../ingestService.js';
import { RateLimiter } from '../rateLimiter.js';
import type { ClusterContext } from './clusterContext.js';
import { RegistryIdentities } from './registryIdentities.js';
import type { RoleHandle } from './roleHandle.js';

/**
 * Ingest behind an external broker: members of the broker's shared subscription, each message
 * appended to the bus and acknowledged to the broker only once the bus has it. The broker
 * authenticated the device and checked its topic; the registry gives its tenant and vehicle.
 */
export async function startIngestRole(ctx: ClusterContext): Promise<RoleHandle> {
  const { config, metrics, logger } = ctx;
  if (!config.mqttUrl) throw new Error('cluster mode: the ingest role needs TRIPLINE_MQTT_URL');
  if (!config.mqttIngestPassword) throw new Error('cluster mode: the ingest role needs TRIPLINE_MQTT_INGEST_PASSWORD');
  const bus = await ctx.bus();
  const store = await ctx.writeStore();
  const identities = new RegistryIdentities(await ctx.plainRegistry(), logger);
  // Back-pressure as in the embedded platform: past the backlog limit, acknowledgements wait.
  // Over every partition, from the cursors all workers committed (no worker sees the whole bus);
  // its own gauge, as a worker role in the same process sets the bus backlog of its partitions.
  let backlog = 0;
  const measure = async (): Promise<void> => {
    backlog = await bus.backlog(await store.cursors());
    metrics.ingestBacklog.set(backlog);
  };
  const backlogTimer = setInterval(() => void measure().catch((error: unknown) => logger.warn({ err: error }, 'bus backlog check failed')), 1000);
  backlogTimer.unref();
  const onPublish = createIngestService({
    bus, metrics, logger, tracing: ctx.tracing,
    maxPayloadBytes: config.maxPayloadBytes,
    maxBusBacklog: config.maxBusBacklog,
    backlog: () => backlog,
    // No per-device limit here: holding one device's PUBACK would hold a whole share-group member
    // (one message at a time per connection), so one flooder could stall everyone's ingest.
    // Rate limits belong to the broker in cluster mode (see the README).
    rateLimiter: new RateLimiter(0, config.deviceBurst),
    maxThrottleMs: 30_000,
  });
  const ingest = startMqttIngest({
    url: config.mqttUrl,
    username: config.mqttIngestUser,
    password: config.mqttIngestPassword,
    // Outside the device id rule, so no device can sign in under (and take over) an ingest session.
    clientId: `tripline:${ctx.instanceId}`,
    // Mosquitto 2.0 does not restore shared subscriptions after a restart: until ingest is back,
    // devices' messages have no subscriber (MQTT 5 devices get reason 16 and resend). Come back fast.
    reconnectMaxMs: 1_000,
    lookup: (deviceId) => identities.get(deviceId),
    onPublish,
    onRejected: (reason) => {
      metrics.messagesReceived.inc();
      metrics.messagesRejected.inc({ reason });
    },
    // Already counted as received by onPublish, on each attempt.
    onPoison: () => metrics.messagesRejected.inc({ reason: 'poison' }),
    logger,
  });
  await ingest.ready();
  logger.info({ mqttUrl: config.mqttUrl }, 'ingest joined the shared subscription');
  return {
    health: async () => ({
      ingest: { status: ingest.connectedCount() > 0 ? 'ok' : 'degraded', connections: ingest.connectedCount() },
      bus: { status: backlog <= config.maxBusBacklog ? 'ok' : 'degraded', backlogMessages: backlog },
    }),
    stop: async () => {
      clearInterval(backlogTimer);
      await ingest.close();
      await identities.close();
    },
  };
}
