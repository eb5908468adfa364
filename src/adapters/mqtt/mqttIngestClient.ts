import { setTimeout as sleep } from 'node:timers/promises';
import type { IClientOptions, IPublishPacket } from 'mqtt';
import type { Logger } from 'pino';
import { ID_PATTERN } from '../../domain/ids.js';
import { routeOf, type DeviceIdentity, type RejectReason } from '../../functions/ingest/parseTelemetry.js';
import type { PublishInput, PublishVerdict } from './aedesBroker.js';
import { DEFAULT_SHARE_GROUP, INGEST_FILTERS, sharedFilter } from './brokerTopics.js';
import { PoisonMessages } from './poisonMessages.js';
import { joinShareGroup } from './shareGroupMember.js';

export interface MqttIngestOptions {
  url: string;
  username: string;
  password: string;
  /**
   * Stable per process slot (a host name, a StatefulSet ordinal), never random: it names the
   * persistent sessions in which the broker keeps this process's share of the messages while it
   * is away. Connection i uses `{clientId}-{i}`.
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
  /** Kept short: after a Mosquitto restart, what devices publish before ingest subscribes again is dropped. */
  reconnectMaxMs?: number;
  /** The device's identity, or null when it is unknown or revoked; may throw when the registry is unavailable. */
  lookup: (deviceId: string) => Promise<DeviceIdentity | null>;
  onPublish: (input: PublishInput) => Promise<PublishVerdict>;
  /** A message acknowledged without reaching onPublish. */
  onRejected: (reason: RejectReason) => void;
  /** A message acknowledged and dropped after onPublish failed for it again and again while others got through (see PoisonMessages). */
  onPoison: () => void;
  logger: Logger;
}

export interface MqttIngest {
  /** Resolves once every connection has joined the share group. */
  ready: () => Promise<void>;
  connectedCount: () => number;
  /** Lets the messages being handled finish (and be acknowledged), then disconnects; the sessions stay. */
  close: () => Promise<void>;
  /**
   * For a process leaving for good (scaling down): leaves the share group, handles what its
   * sessions still hold until `idleMs` pass without a message, then ends the sessions. A session
   * left behind keeps receiving its share of new messages until it expires, then loses them.
   */
  retire: (idleMs?: number) => Promise<void>;
}

const MAX_TRACEPARENT_CHARS = 128;

/**
 * tripline's ingest as an MQTT 5 client of an external broker (any with shared subscriptions;
 * tested with Mosquitto): `connections` members of the share group, each acknowledging a
 * message only once `onPublish` resolved 'accept' or 'drop'. 'refuse' or a failure leaves the
 * message unacknowledged, and its connection reconnects so that the broker delivers it again:
 * a message refused for good comes back on every reconnect, slowed by the backoff, but is never
 * dropped, as the device was told it is safe. The exception is a message onPublish keeps
 * failing for while the bus takes other messages: after `POISON_STRIKES` it is acknowledged,
 * logged and counted (`onPoison`), so that it cannot hold its member's share back for good.
 */
export function startMqttIngest(options: MqttIngestOptions): MqttIngest {
  const { logger } = options;
  const connectOptions: IClientOptions = {
    protocolVersion: 5,
    username: options.username,
    password: options.password,
    connectTimeout: 10_000,
    // A refused CONNACK (the account is not there yet, the broker is starting) is retried too.
    reconnectOnConnackError: true,
  };
  const reconnectMinMs = options.reconnectMinMs ?? 500;
  const reconnectMaxMs = options.reconnectMaxMs ?? 5000;
  const poison = new PoisonMessages();
  const filters = INGEST_FILTERS.map((filter) => sharedFilter(options.shareGroup ?? DEFAULT_SHARE_GROUP, filter));
  const members = Array.from({ length: options.connections ?? 4 }, (_, i) =>
    joinShareGroup({
      url: options.url,
      connectOptions,
      clientId: `${options.clientId}-${i}`,
      filters,
      sessionExpiryS: options.sessionExpiryS ?? 7 * 24 * 3600,
      receiveMaximum: options.receiveMaximum ?? 20,
      reconnectMinMs,
      reconnectMaxMs,
      logger,
      handle: (packet, live) => handle(`${options.clientId}-${i}`, packet, live),
    }),
  );

  /** True to acknowledge; never throws. */
  async function handle(member: string, packet: IPublishPacket, live: () => boolean): Promise<boolean> {
    const route = routeOf(packet.topic);
    if (!route) return reject('unknown_topic');
    if (!ID_PATTERN.test(route.deviceId)) return reject('invalid_device_id');
    let identity: DeviceIdentity | null;
    try {
      // The broker's ACL lets only the device itself publish to its topics: the topic names the publisher.
      identity = await options.lookup(route.deviceId);
    } catch (error) {
      // The registry is down: never poison, however long it lasts.
      logger.error({ err: error, deviceId: route.deviceId }, 'device lookup failed; the message is not acknowledged');
      return false;
    }
    if (!identity) return reject('unknown_device');
    const traceparent = traceparentOf(packet);
    const startedAt = poison.attempt();
    try {
      const verdict = await options.onPublish({
        topic: packet.topic,
        payload: Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload),
        qos: packet.qos === 0 ? 0 : 1,
        clientId: route.deviceId,
        identity,
        connected: live,
        ...(traceparent ? { traceparent } : {}),
      });
      if (verdict === 'accept') poison.appended(startedAt);
      if (verdict === 'refuse') return false;
      poison.settled(member, packet);
      return true;
    } catch (error) {
      // A message whose connection went away failed for that, maybe: it is not held against it.
      const verdict = live() ? poison.failed(member, packet, error) : { poison: false, failures: 0 };
      if (!verdict.poison) {
        logger.error({ err: error, deviceId: route.deviceId, topic: packet.topic.slice(0, 200) }, 'ingest failed; the message is not acknowledged');
        return false;
      }
      logger.error(
        { err: error, deviceId: route.deviceId, topic: packet.topic.slice(0, 200), failures: verdict.failures },
        'poison message: ingest kept failing for it while other messages got through; acknowledged and dropped',
      );
      poison.settled(member, packet);
      count(options.onPoison);
      return true;
    }
  }

  function reject(reason: RejectReason): true {
    count(() => options.onRejected(reason));
    return true;
  }

  function count(counter: () => void): void {
    try {
      counter();
    } catch (error) {
      // A failing counter must not hold the message back: it would come again forever.
      logger.error({ err: error }, 'counting a rejection failed');
    }
  }

  return {
    ready: async () => {
      await Promise.all(members.map((member) => member.joined));
    },
    connectedCount: () => members.filter((member) => member.connected()).length,
    close: async () => {
      await Promise.all(members.map((member) => member.stop()));
      await Promise.all(members.map((member) => member.disconnect(false)));
    },
    retire: async (idleMs = 1000) => {
      await Promise.all(members.map((member) => member.leave()));
      // Mosquitto sends what a session holds as fast as it is acknowledged: quiet means empty.
      const started = Date.now();
      const quietSinceMs = (): number => Math.max(started, ...members.map((member) => member.lastMessageAtMs()));
      while (Date.now() - quietSinceMs() < idleMs) await sleep(idleMs - (Date.now() - quietSinceMs()));
      await Promise.all(members.map((member) => member.stop()));
      await Promise.all(members.map((member) => member.disconnect(true)));
    },
  };
}

/** The first `traceparent` user property; its format is checked where it is used. */
function traceparentOf(packet: IPublishPacket): string | undefined {
  const value = packet.properties?.userProperties?.traceparent;
  const first = Array.isArray(value) ? value[0] : value;
  return typeof first === 'string' && first.length <= MAX_TRACEPARENT_CHARS ? first : undefined;
}
