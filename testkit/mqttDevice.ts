import mqtt, { type MqttClient } from 'mqtt';
import type { TelemetryPoint } from '../src/domain/point.js';
import type { DeviceCredentials } from '../src/ports/deviceRegistry.js';
import { TOPICS, toWire } from '../src/functions/ingest/wireFormat.js';

/** A device of a test: a real MQTT client, signed in with its credentials, publishing batches at QoS 1 and awaiting each PUBACK. */
export async function connectDevice(brokerUrl: string, credentials: DeviceCredentials): Promise<MqttClient> {
  return mqtt.connectAsync(brokerUrl, {
    clientId: credentials.deviceId,
    username: credentials.username,
    password: credentials.password,
    reconnectPeriod: 0,
    connectTimeout: 5000,
  });
}

export async function publishPoints(client: MqttClient, deviceId: string, points: TelemetryPoint[], batchSize = 5): Promise<void> {
  for (let i = 0; i < points.length; i += batchSize) {
    const payload = JSON.stringify({ points: points.slice(i, i + batchSize).map(toWire) });
    await client.publishAsync(TOPICS.telemetry(deviceId), payload, { qos: 1 });
  }
}
