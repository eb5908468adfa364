import { connectMqttDownlink } from '../../adapters/mqtt/mqttDownlink.js';
import { AlertDispatcher } from '../alertDispatcher.js';
import { AlertHub } from '../alertHub.js';
import { createSyncLoop, createWebhookSender, PENDING_ALERTS_LIMIT, pruneAlertHistory, SYNC_LAG_LIMIT_MS } from '../alertPipeline.js';
import { changesSince } from '../registryChanges.js';
import type { SyncLoop } from '../syncLoop.js';
import type { WebhookSender } from '../webhookSender.js';
import type { ClusterContext } from './clusterContext.js';
import type { ComponentHealth, RoleHandle } from './roleHandle.js';
import { runAsSingleton } from './singleton.js';

/**
 * Sync and alert dispatch, in one process of the cluster at a time (a PostgreSQL advisory lock
 * elects it; others stand by and take over when its session ends). Sync tails the write store's
 * outbox into the search store; the dispatcher sends alerts on the devices' downlinks and queues
 * webhook deliveries; revocations reach the broker's accounts.
 */
export async function startSyncRole(ctx: ClusterContext): Promise<RoleHandle> {
  const { config, metrics, logger, tracing } = ctx;
  const [store, search, alerts, signals, bus] = await Promise.all([ctx.writeStore(), ctx.searchIndex(), ctx.alertStore(), ctx.signals(), ctx.bus()]);
  const brokerAccounts = await ctx.brokerAccounts();
  const registry = await ctx.registry();
  const downlink = config.mqttUrl && config.mqttIngestPassword
    ? connectMqttDownlink({ url: config.mqttUrl, clientId: `tripline:${ctx.instanceId}:alerts`, username: config.mqttIngestUser, password: config.mqttIngestPassword, logger })
    : null;

  let sync: SyncLoop | null = null;
  let dispatcher: AlertDispatcher | null = null;
  let sender: WebhookSender | null = null;
  let timers: NodeJS.Timeout[] = [];
  signals.on('trips', () => sync?.kick());
  signals.on('alerts', () => dispatcher?.kick());

  const lead = runAsSingleton({
    url: config.databaseUrl!,
    name: 'sync',
    logger,
    start: async () => {
      sender = createWebhookSender(alerts, config, metrics, logger, tracing);
      const webhooks = sender;
      dispatcher = new AlertDispatcher({
        feed: store, store: alerts, hub: new AlertHub(), metrics, logger, tracing,
        downlink: async (deviceId, payload) => downlink?.publish(deviceId, payload),
        onEnqueued: () => webhooks.kick(),
      });
      sync = createSyncLoop(store, search, metrics, logger, tracing);
      sync.start();
      await dispatcher.start();
      sender.start();
      const pruning = setInterval(() => {
        const failed = (error: unknown): void => logger.warn({ err: error }, 'pruning failed');
        store.cursors().then((cursors) => bus.prune(cursors)).catch(failed);
        pruneAlertHistory(store, alerts, dispatcher?.dispatchedUpTo() ?? 0, logger);
      }, 60_000);
      timers = [pruning];
      if (brokerAccounts) timers.push(watchRevocations());
      for (const timer of timers) timer.unref();
    },
    stop: async () => {
      for (const timer of timers) clearInterval(timer);
      await Promise.all([sync?.stop(), dispatcher?.stop(), sender?.stop()]);
      sync = dispatcher = sender = null;
    },
  });

  /**
   * Revocations made anywhere (another API process, a CLI) close the device's broker account.
   * From revision 0 on taking the lead: a revocation whose reconcile failed, or that was made
   * while no leader ran, is caught up; the registry is read a page at a time, not all at once.
   */
  function watchRevocations(): NodeJS.Timeout {
    let revision = 0;
    let polling: Promise<void> = Promise.resolve();
    return setInterval(() => {
      polling = polling.then(async () => {
        for await (const page of changesSince(registry, revision)) {
          const revoked = page.filter((record) => record.revokedAtMs !== null);
          if (revoked.length > 0) await brokerAccounts!.accounts.reconcile(revoked);
          // Only once the broker has them: a failed reconcile is tried again on the next poll.
          revision = page.at(-1)!.revision;
        }
      }).catch((error: unknown) => logger.warn({ err: error }, 'broker account reconcile failed'));
    }, 1000);
  }

  return {
    health: async (): Promise<ComponentHealth> => {
      if (!lead.isLeader() || !sync || !dispatcher) return { sync: { status: 'ok', role: 'standby' } };
      const lag = await sync.lag();
      const pendingAlerts = await dispatcher.pending();
      return {
        sync: { status: lag.lagMs < SYNC_LAG_LIMIT_MS ? 'ok' : 'degraded', role: 'leader', lagMs: lag.lagMs, pendingChanges: lag.pendingChanges },
        alerts: { status: pendingAlerts < PENDING_ALERTS_LIMIT ? 'ok' : 'degraded', pendingAlerts, downlink: downlink?.connected() ?? false },
      };
    },
    stop: async () => {
      await lead.close();
      await downlink?.close();
    },
  };
}
