import { connectDynsec } from '../../adapters/mqtt/dynsecClient.js';
import { createMosquittoAccounts, type MosquittoAccounts } from '../../adapters/mqtt/mosquittoAccounts.js';
import type { DeviceRegistry } from '../../ports/deviceRegistry.js';
import type { PlatformConfig } from '../config.js';

export interface OpenedBrokerAccounts {
  accounts: MosquittoAccounts;
  close: () => Promise<void>;
}

/** Signs in as the broker's dynamic-security admin and makes sure tripline's roles and ingest account exist. */
export async function openBrokerAccounts(config: PlatformConfig, url: string, registry: DeviceRegistry, clientId: string): Promise<OpenedBrokerAccounts> {
  if (!config.mqttIngestPassword) throw new Error('cluster mode: the broker admin creates the ingest account, which needs TRIPLINE_MQTT_INGEST_PASSWORD');
  const dynsec = await connectDynsec({ url, username: config.mqttAdminUser!, password: config.mqttAdminPassword, clientId });
  try {
    const accounts = createMosquittoAccounts({
      dynsec,
      ingest: { username: config.mqttIngestUser, password: config.mqttIngestPassword },
      reservedUsernames: [config.mqttAdminUser!],
      registry,
    });
    await accounts.bootstrap();
    return { accounts, close: () => dynsec.close() };
  } catch (error) {
    await dynsec.close();
    throw error;
  }
}
