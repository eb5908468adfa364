import { setTimeout as sleep } from 'node:timers/promises';
import mqtt from 'mqtt';
import type { Logger } from 'pino';
import { ID_PATTERN } from '../../domain/ids.js';
import { TOPICS } from '../../functions/ingest/wireFormat.js';
import { attachReconnectBackoff } from './reconnectBackoff.js';

export interface MqttDownlink {
  /** Publishes to the device's downlink at QoS 1; resolves on the broker's PUBACK. */
  publish(deviceId: string, payload: string): Promise<void>;
  connected(): boolean;
  close(): Promise<void>;
}

/**
 * Alerts to devices through an external MQTT 5 broker, on a connection of its own. Best effort,
 * and never in the way of webhooks: a broker that is down fails the send at once (mqtt.js would
 * otherwise queue it until a reconnect, and memory would grow), a slow one after `timeoutMs`.
 */
export function connectMqttDownlink(options: { url: string; clientId: string; username: string; password: string; logger: Logger; timeoutMs?: number }): MqttDownlink {
  const timeoutMs = options.timeoutMs ?? 3000;
  // As ingest's connections: a CONNACK refusal (a broker still starting) is retried too, with backoff.
  const client = mqtt.connect(options.url, {
    protocolVersion: 5, clientId: options.clientId, username: options.username, password: options.password,
    connectTimeout: 10_000, reconnectOnConnackError: true,
  });
  attachReconnectBackoff(client, 500, 5000);
  client.on('error', (error) => options.logger.warn({ err: error.message }, 'alert downlink connection error'));
  return {
    publish: async (deviceId, payload) => {
      if (!ID_PATTERN.test(deviceId)) throw new Error('not a device id');
      if (!client.connected) throw new Error('not connected to the broker');
      // The timer goes with the PUBACK, so none outlives its send.
      const timer = new AbortController();
      try {
        await Promise.race([
          client.publishAsync(TOPICS.alerts(deviceId), payload, { qos: 1 }),
          sleep(timeoutMs, undefined, { signal: timer.signal }).then(() => Promise.reject(new Error(`no PUBACK within ${timeoutMs} ms`))),
        ]);
      } finally {
        timer.abort();
      }
    },
    connected: () => client.connected,
    close: async () => {
      await client.endAsync(true);
    },
  };
}
