import { NatsPartitionLeases } from '../../adapters/nats/natsPartitionLeases.js';
import { createTripContext } from '../../adapters/enrichment/tripContext.js';
import { startBusMonitor } from '../busMonitor.js';
import { startLiveTripWatchdog } from '../liveTripWatchdog.js';
import { startWaitTicker } from '../waitTicker.js';
import { TripWorker } from '../tripWorker.js';
import type { ClusterContext } from './clusterContext.js';
import type { RoleHandle } from './roleHandle.js';

/**
 * A trip worker of the cluster: it consumes the bus partitions it holds a lease on, commits
 * each batch with the partition's cursor (fenced, so a worker that lost its lease cannot write),
 * and tells sync and the alert dispatcher when it committed something for them.
 */
export async function startWorkerRole(ctx: ClusterContext): Promise<RoleHandle> {
  const { config, metrics, logger, tracing } = ctx;
  const [bus, store, signals, connection] = await Promise.all([ctx.bus(), ctx.writeStore(), ctx.signals(), ctx.nats()]);
  const context = await createTripContext(config.osmExtract ? { osmExtract: config.osmExtract } : {});
  const leases = new NatsPartitionLeases({ connection, workerId: ctx.instanceId, partitionCount: config.partitions, ttlMs: config.leaseTtlS * 1000, replicas: config.natsReplicas });
  const worker = new TripWorker({
    bus, store, config: config.pipeline, context, metrics, logger, batchSize: 200, tracing,
    ownedPartitions: () => leases.owned(),
    onCommitted: () => signals.notify('trips'),
    onAlertsCommitted: () => signals.notify('alerts'),
  });
  leases.onChange((gained, lost) => {
    logger.info({ gained, lost, owned: [...leases.owned()] }, 'partition leases changed');
    worker.ownershipChanged(gained, lost).catch((error: unknown) => logger.error({ err: error }, 'reloading gained partitions failed'));
  });
  await leases.start();
  await worker.start();
  // Of its own partitions (the cluster's figures are the sum or max over workers), once a second
  // rather than every 100 ms as embedded: the lag costs a NATS request per partition.
  const busMonitor = await startBusMonitor(worker, metrics, 1000);
  const stopWatchdog = startLiveTripWatchdog(bus, worker, config.liveTimeoutS * 1000, () => busMonitor.backlog() > config.maxBusBacklog);
  const stopTicker = startWaitTicker(bus, worker, config.pipeline.cleaning);
  return {
    health: async () => {
      const backlog = busMonitor.backlog();
      return {
        worker: {
          status: backlog <= config.maxBusBacklog ? 'ok' : 'degraded', ownedPartitions: [...leases.owned()], backlogMessages: backlog, busLagMs: busMonitor.lagMs(),
        },
      };
    },
    stop: async () => {
      busMonitor.stop();
      stopWatchdog();
      stopTicker();
      await worker.stop();
      // After the worker: its last pass committed, the partitions go to others at once.
      await leases.stop();
    },
  };
}
