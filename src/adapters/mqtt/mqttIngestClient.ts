import { setTimeout as sleep } from 'node:timers/promises';
import mqtt, { type IPublishPacket, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { ID_PATTERN } from '../../domain/ids.js';
import { routeOf, type DeviceIdentity, type RejectReason } from '../../functions/ingest/parseTelemetry.js';
import type { PublishInput, PublishVerdict } from './aedesBroker.js';
import { DEFAULT_SHARE_GROUP, downlinkTopic, INGEST_FILTERS, sharedFilter } from './brokerTopics.js';
import { createReconnectBackoff } from './reconnectBackoff.js';

export interface MqttIngestOptions {
  url: string;
  username: string;
  password: string;
  /**
   * Stable per process slot (a host name, a StatefulSet ordinal), never random: it names the
   * persistent sessions in which the broker keeps this process's share of the messages while it
   * is away. Connection i uses `{clientId}-{i}`, the downlink publisher `{clientId}-out`.
   */
  clientId: string;
  /** Members of the share group from this process; each handles one message at a time. */
  connections?: number;
  shareGroup?: string;
  /** How long the broker keeps a session (and its queued messages) after its connection is lost. */
  sessionExpiryS?: number;
  /** Messages the broker may send ahead of the acknowledgements, per connection. */
  receiveMaximum?: number;
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  /** The device's identity, or null when it is unknown or revoked; may throw when the registry is unavailable. */
  lookup: (deviceId: string) => Promise<DeviceIdentity | null>;
  onPublish: (input: PublishInput) => Promise<PublishVerdict>;
  /** A message acknowledged without reaching ingest. */
  onRejected: (reason: RejectReason) => void;
  logger: Logger;
}

export interface MqttIngest {
  /** Resolves once every connection has joined the share group. */
  ready: () => Promise<void>;
  connectedCount: () => number;
  /** Publishes to `tripline/{deviceId}/alerts` at QoS 1; resolves when the broker has it. */
  publishDownlink: (deviceId: string, payload: string) => Promise<void>;
  /** Lets messages being handled finish (and be acknowledged), then disconnects; sessions stay. */
  close: () => Promise<void>;
  /**
   * For a process leaving for good (scaling down): leaves the share group, handles what its
   * sessions still hold until `idleMs` pass without a message, then ends the sessions. A session
   * left behind would keep receiving its share of new messages until it expires, then lose them.
   */
  retire: (idleMs?: number) => Promise<void>;
}

const MAX_TRACEPARENT_CHARS = 128;

/**
 * tripline's ingest as an MQTT 5 client of an external broker. Each connection is a member of
 * the shared subscription with a persistent session, so the broker keeps (and redelivers) what
 * it has not acknowledged. mqtt.js hands over one message at a time per connection and writes
 * the PUBACK when `handleMessage` calls back (mqtt.js 5 lib/handlers/publish.js), so a message
 * is acknowledged only once `onPublish` said it is durable or may be dropped.
 *
 * MQTT 5 has no negative acknowledgement that makes the broker resend: a refused message, or a
 * failure, closes the connection without PUBACK. The broker resends everything unacknowledged
 * (with DUP) when the session resumes; messages read ahead but not handled yet were never given
 * to ingest, so only the one being handled can reach the bus twice (the bus dedups points by
 * their idempotency key). A message refused for good comes back on every reconnect, slowed by
 * the backoff but never dropped: dropping would lose points the device was told are safe.
 */
export function startMqttIngest(options: MqttIngestOptions): MqttIngest {
  const group = options.shareGroup ?? DEFAULT_SHARE_GROUP;
  const { logger } = options;
  let closing = false;
  let retiring = false;
  let lastMessageAtMs = Date.now();
  const filters = INGEST_FILTERS.map((filter) => sharedFilter(group, filter));
  const members = Array.from({ length: options.connections ?? 4 }, (_, i) => joinShareGroup(`${options.clientId}-${i}`));
  const downlink = mqtt.connect(options.url, {
    ...baseOptions(options),
    clientId: `${options.clientId}-out`,
    // Alerts that could not be sent are the dispatcher's to retry: nothing is kept here.
    clean: true,
  });
  downlink.on('error', (error) => logger.warn({ err: error.message }, 'mqtt downlink connection error'));

  function joinShareGroup(clientId: string): { client: MqttClient; joined: Promise<void>; handling: () => Promise<void> } {
    // A short ceiling: after a Mosquitto restart, what devices publish before ingest subscribes again is dropped.
    const backoff = createReconnectBackoff(options.reconnectMinMs ?? 500, options.reconnectMaxMs ?? 5000);
    const client = mqtt.connect(options.url, {
      ...baseOptions(options),
      clientId,
      clean: false,
      properties: { sessionExpiryInterval: options.sessionExpiryS ?? 7 * 24 * 3600, receiveMaximum: options.receiveMaximum ?? 20 },
      resubscribe: false, // made again below on every connect
    });
    const applyBackoff = (): void => {
      client.options.reconnectPeriod = backoff.delayMs();
    };
    let current: Promise<void> = Promise.resolve();
    let markJoined: () => void = () => {};
    const joined = new Promise<void>((resolve) => (markJoined = resolve));

    client.on('reconnect', () => {
      backoff.attempted();
      applyBackoff();
    });
    client.on('connect', (connack) => {
      backoff.connected();
      applyBackoff();
      if (retiring) return;
      // Even when the session is present: Mosquitto 2.0.11 restores a persistent session's queued
      // messages after a restart but not its shared subscriptions (tested). Subscribing again to
      // a subscription that exists replaces it; nothing is delivered twice.
      client.subscribeAsync(filters, { qos: 1 }).then(
        () => markJoined(),
        (error: unknown) => {
          // Denied by the broker's ACL, most likely: keep trying, loudly, instead of idling unsubscribed.
          logger.error({ clientId, err: error instanceof Error ? error.message : String(error) }, 'mqtt ingest could not join the share group');
          client.stream.destroy();
        },
      );
    });
    client.on('disconnect', (packet) => logger.warn({ clientId, reasonCode: packet.reasonCode }, 'mqtt ingest disconnected by the broker'));
    client.on('error', (error) => logger.warn({ clientId, err: error.message }, 'mqtt ingest connection error'));

    client.handleMessage = (packet: IPublishPacket, done: () => void) => {
      // Not acknowledged once closing: the session keeps it for the next start.
      if (closing) return;
      lastMessageAtMs = Date.now();
      const stream = client.stream;
      const live = (): boolean => client.connected && client.stream === stream;
      current = decide(packet, live).then((acknowledge) => {
        // A PUBACK for a connection that is gone would be queued by mqtt.js and sent on the next
        // one; the broker redelivers the message there instead.
        if (!live()) return;
        if (acknowledge || packet.qos === 0) {
          if (packet.qos > 0) backoff.acknowledged();
          return done();
        }
        logger.warn({ clientId, topic: packet.topic.slice(0, 200) }, 'message not accepted; reconnecting so the broker delivers it again');
        backoff.refused();
        applyBackoff();
        stream.destroy();
      }).catch((error: unknown) => logger.error({ clientId, err: error }, 'mqtt ingest acknowledgement failed'));
    };
    return { client, joined, handling: () => current };
  }

  /** True to acknowledge; never throws. */
  async function decide(packet: IPublishPacket, live: () => boolean): Promise<boolean> {
    try {
      const route = routeOf(packet.topic);
      // The broker's ACL lets only the device itself publish to its topics, so the topic names the publisher.
      const reason: RejectReason | null = !route ? 'unknown_topic' : !ID_PATTERN.test(route.deviceId) ? 'invalid_device_id' : null;
      if (reason || !route) return reject(reason ?? 'unknown_topic');
      const identity = await options.lookup(route.deviceId);
      if (!identity) return reject('unknown_device');
      const traceparent = traceparentOf(packet);
      const verdict = await options.onPublish({
        topic: packet.topic,
        payload: Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload),
        qos: packet.qos === 0 ? 0 : 1,
        clientId: route.deviceId,
        identity,
        connected: live,
        ...(traceparent ? { traceparent } : {}),
      });
      return verdict !== 'refuse';
    } catch (error) {
      logger.error({ err: error, topic: packet.topic.slice(0, 200) }, 'ingest failed; the message is not acknowledged');
      return false;
    }
  }

  function reject(reason: RejectReason): true {
    options.onRejected(reason);
    return true;
  }

  return {
    ready: async () => {
      await Promise.all(members.map((member) => member.joined));
    },
    connectedCount: () => members.filter((member) => member.client.connected).length,
    publishDownlink: async (deviceId, payload) => {
      if (!ID_PATTERN.test(deviceId)) throw new Error('not a device id');
      if (!downlink.connected) throw new Error('the MQTT broker is not connected');
      await downlink.publishAsync(downlinkTopic(deviceId), payload, { qos: 1 });
    },
    close: async () => {
      closing = true;
      await Promise.all(members.map((member) => member.handling()));
      // Forced: a graceful end would wait for acknowledgements that the stopped handler never reads.
      await Promise.all([...members.map((member) => member.client.endAsync(true)), downlink.endAsync()]);
    },
    retire: async (idleMs = 1000) => {
      retiring = true;
      await Promise.all(members.map((member) => member.client.unsubscribeAsync(filters)));
      // Mosquitto sends what a session holds as fast as it is acknowledged: quiet means empty.
      lastMessageAtMs = Date.now();
      for (let quietMs = 0; quietMs < idleMs; quietMs = Date.now() - lastMessageAtMs) await sleep(idleMs - quietMs);
      closing = true;
      await Promise.all(members.map((member) => member.handling()));
      // Session expiry 0 on DISCONNECT: the broker forgets the session at once.
      await Promise.all([...members.map((member) => member.client.endAsync(false, { properties: { sessionExpiryInterval: 0 } })), downlink.endAsync()]);
    },
  };
}

function baseOptions(options: MqttIngestOptions) {
  return {
    protocolVersion: 5 as const,
    username: options.username,
    password: options.password,
    connectTimeout: 10_000,
    reconnectPeriod: options.reconnectMinMs ?? 500,
    // A refused CONNACK (the account is not there yet, the broker is starting) is retried too.
    reconnectOnConnackError: true,
  };
}

/** The first `traceparent` user property; its format is checked where it is used. */
function traceparentOf(packet: IPublishPacket): string | undefined {
  const value = packet.properties?.userProperties?.traceparent;
  const first = Array.isArray(value) ? value[0] : value;
  return typeof first === 'string' && first.length <= MAX_TRACEPARENT_CHARS ? first : undefined;
}
