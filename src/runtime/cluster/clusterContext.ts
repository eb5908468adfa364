import { hostname } from 'node:os';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import { openNatsBus, type NatsBus } from '../../adapters/nats/natsBus.js';
import { connectNats } from '../../adapters/nats/natsConnection.js';
import { NatsSignals } from '../../adapters/nats/natsSignals.js';
import { openPgAlertStore } from '../../adapters/postgres/pgAlertStore.js';
import { openPgDeviceRegistry } from '../../adapters/postgres/pgDeviceRegistry.js';
import { openPgSearchIndex, type PgSearchIndex } from '../../adapters/postgres/pgSearchIndex.js';
import { openPgWriteStore, type PgWriteStore } from '../../adapters/postgres/pgWriteStore.js';
import type { AlertStore } from '../../ports/alertStore.js';
import type { DeviceRegistry } from '../../ports/deviceRegistry.js';
import { SETTINGS, type PlatformConfig } from '../config.js';
import { createMetrics, type Metrics } from '../metrics.js';
import { otlpEndpointFromEnv, Tracing } from '../tracing.js';
import { openBrokerAccounts, type OpenedBrokerAccounts } from './brokerAccounts.js';
import { BrokerSyncedRegistry } from './brokerSyncedRegistry.js';

/** Required settings, by what needs them: a clear error at start rather than a failure later. */
function required(config: PlatformConfig, key: 'natsUrl' | 'databaseUrl' | 'searchDatabaseUrl' | 'mqttUrl', why: string): string {
  const value = config[key];
  if (!value) throw new Error(`cluster mode: ${why} needs ${SETTINGS[key].env}`);
  return value;
}

/**
 * What the roles of one cluster process share: metrics, tracing, one NATS connection, and each
 * backend opened at most once, on first use, and closed at the end in reverse order.
 */
export class ClusterContext {
  readonly metrics: Metrics = createMetrics();
  readonly tracing: Tracing;
  readonly instanceId: string;
  private readonly opened = new Map<string, Promise<unknown>>();
  private readonly closers: Array<() => Promise<void>> = [];

  constructor(readonly config: PlatformConfig, readonly logger: Logger) {
    this.instanceId = config.instanceId ?? `${hostname().replace(/[^A-Za-z0-9_-]/g, '-')}-${process.pid}`;
    this.tracing = new Tracing({ serviceName: process.env.OTEL_SERVICE_NAME || 'tripline', sampleRatio: config.traceSampleRatio, otlpEndpoint: otlpEndpointFromEnv(process.env), dbSystem: 'postgresql' });
  }

  private once<T>(key: string, open: () => Promise<T>, close: (value: T) => Promise<void>): Promise<T> {
    let promise = this.opened.get(key) as Promise<T> | undefined;
    if (!promise) {
      promise = open().then((value) => {
        this.closers.push(() => close(value));
        return value;
      });
      this.opened.set(key, promise);
    }
    return promise;
  }

  nats(): Promise<NatsConnection> {
    const url = required(this.config, 'natsUrl', 'the bus');
    // Reconnect forever: a NATS restart must not end the process.
    return this.once('nats', () => connectNats(url, `tripline-${this.instanceId}`), (nc) => nc.close());
  }

  async signals(): Promise<NatsSignals> {
    const nc = await this.nats();
    return this.once('signals', async () => new NatsSignals(nc), async (signals) => signals.close());
  }

  async bus(): Promise<NatsBus> {
    const connection = await this.nats();
    return this.once('bus', () => openNatsBus({
      connection, partitionCount: this.config.partitions, retentionMs: this.config.busRetentionS * 1000, duplicateWindowMs: 120_000, replicas: this.config.natsReplicas,
      onInvalidRecord: (partition, offset) => this.logger.warn({ partition, offset }, 'bus record that is not a tripline message skipped'),
    }), (bus) => bus.close());
  }

  writeStore(): Promise<PgWriteStore> {
    const url = required(this.config, 'databaseUrl', 'the write store');
    return this.once('writeStore', () => openPgWriteStore(url, { poolSize: this.config.databasePoolSize }), (store) => store.close());
  }

  searchIndex(): Promise<PgSearchIndex> {
    const url = required(this.config, 'searchDatabaseUrl', 'the search store');
    return this.once('searchIndex', () => openPgSearchIndex(url, { poolSize: this.config.databasePoolSize }), (index) => index.close());
  }

  alertStore(): Promise<AlertStore> {
    const url = required(this.config, 'databaseUrl', 'the alert store');
    // A claim outlives the longest try, so a crashed sender's deliveries wait at most this long.
    return this.once('alertStore', () => openPgAlertStore(url, { claimMs: 2 * this.config.webhookTimeoutMs + 10_000, maxConnections: this.config.databasePoolSize }), (store) => store.close());
  }

  /** The shared registry, as it is: for reading identities (ingest needs no broker admin). */
  plainRegistry(): Promise<DeviceRegistry> {
    const url = required(this.config, 'databaseUrl', 'the device registry');
    return this.once('registry', () => openPgDeviceRegistry(url, { scryptLog2N: this.config.secretHashCost }), (r) => r.close());
  }

  /** The shared registry; with a broker admin configured, one that keeps the broker's accounts in step. */
  async registry(): Promise<DeviceRegistry> {
    const registry = await this.plainRegistry();
    const accounts = await this.brokerAccounts();
    return accounts ? new BrokerSyncedRegistry(registry, accounts.accounts, new Set([this.config.mqttIngestUser, this.config.mqttAdminUser!])) : registry;
  }

  /** Null when no broker admin is configured (accounts are then managed outside tripline). */
  async brokerAccounts(): Promise<OpenedBrokerAccounts | null> {
    if (!this.config.mqttAdminUser) return null;
    const url = required(this.config, 'mqttUrl', 'keeping broker accounts in step');
    const registry = await this.plainRegistry();
    return this.once('brokerAccounts', () => openBrokerAccounts(this.config, url, registry, `tripline:${this.instanceId}:admin`), (opened) => opened.close());
  }

  async close(): Promise<void> {
    for (const close of this.closers.reverse()) await close().catch((error: unknown) => this.logger.warn({ err: error }, 'closing a backend failed'));
    await this.tracing.shutdown();
  }
}
