import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
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

export type Attempt = { ok: true; client: MqttClient } | { ok: false; code: number | undefined };

/** One connection attempt without retries: connected, or the CONNACK return (reason) code. */
export async function attempt(url: string, options: IClientOptions): Promise<Attempt> {
  try {
    return { ok: true, client: await mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 5000, ...options }, false) };
  } catch (error) {
    return { ok: false, code: (error as { code?: number }).code };
  }
}

/** A device's own sign-in, with what a case changes. */
export const signInAs = (c: DeviceCredentials, override: Partial<IClientOptions> = {}): IClientOptions =>
  ({ clientId: c.deviceId, username: c.username, password: c.password, ...override });

/** Sign-ins every broker must refuse, given two registered devices. */
export function refusedSignIns(alice: DeviceCredentials, bob: DeviceCredentials): Array<[string, IClientOptions]> {
  return [
    ['wrong password', signInAs(alice, { password: 'not-the-secret' })],
    ['no credentials', { clientId: alice.deviceId }],
    ['username without password', { clientId: alice.deviceId, username: alice.username }],
    ['unknown device', { clientId: 'ghost-car', username: 'ghost-car', password: alice.password }],
    ["another device's secret", signInAs(alice, { password: bob.password })],
    ['username of one device, client id of another', signInAs(alice, { clientId: bob.deviceId })],
    ['empty client id', signInAs(alice, { clientId: '' })],
    ['wildcard in client id', signInAs(alice, { clientId: 'alice-car/#', username: 'alice-car/#' })],
  ];
}
