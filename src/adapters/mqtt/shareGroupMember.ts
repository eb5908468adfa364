import { setImmediate as nextTurn } from 'node:timers/promises';
import mqtt, { type IClientOptions, type IPublishPacket, type IStream } from 'mqtt';
import type { Logger } from 'pino';
import { attachReconnectBackoff } from './reconnectBackoff.js';

export interface ShareGroupMemberOptions {
  url: string;
  /** Credentials and protocol options shared by every connection of the process. */
  connectOptions: IClientOptions;
  clientId: string;
  /** `$share/{group}/...` filters, subscribed at QoS 1. */
  filters: string[];
  sessionExpiryS: number;
  receiveMaximum: number;
  reconnectMinMs: number;
  reconnectMaxMs: number;
  logger: Logger;
  /** True to acknowledge. `live` turns false once the connection the message came on is gone. Must not throw. */
  handle: (packet: IPublishPacket, live: () => boolean) => Promise<boolean>;
}

export interface ShareGroupMember {
  /** Resolves the first time the subscriptions are granted. */
  joined: Promise<void>;
  connected: () => boolean;
  lastMessageAtMs: () => number;
  /** Leaves the share group: no subscription now or after a reconnect. */
  leave: () => Promise<void>;
  /** Hands no further message over (they stay unacknowledged) and waits for the one being handled. */
  stop: () => Promise<void>;
  /** `endSession`: ask the broker to forget the session (and whatever it still holds). */
  disconnect: (endSession: boolean) => Promise<void>;
}

/**
 * One connection of ingest in the share group, with a persistent session so the broker keeps
 * and redelivers what it has not acknowledged. mqtt.js hands over one message at a time per
 * connection and writes the PUBACK when `handleMessage` calls back (mqtt.js 5
 * lib/handlers/publish.js): a message is acknowledged only once `handle` said so.
 *
 * MQTT 5 has no negative acknowledgement that makes the broker resend, so a message that must
 * not be acknowledged closes the connection. The broker resends everything unacknowledged (with
 * DUP) when the session resumes; messages read ahead but not handled yet were never handed over,
 * so only the one being handled can be handled twice.
 */
export function joinShareGroup(options: ShareGroupMemberOptions): ShareGroupMember {
  const { clientId, logger } = options;
  let leaving = false;
  let stopped = false;
  let lastMessageAtMs = Date.now();
  let current: Promise<void> = Promise.resolve();
  let markJoined: () => void = () => {};
  const joined = new Promise<void>((resolve) => (markJoined = resolve));

  const client = mqtt.connect(options.url, {
    ...options.connectOptions,
    clientId,
    clean: false,
    properties: { sessionExpiryInterval: options.sessionExpiryS, receiveMaximum: options.receiveMaximum },
    resubscribe: false, // made again below on every connect
  });
  const backoff = attachReconnectBackoff(client, options.reconnectMinMs, options.reconnectMaxMs);

  client.on('connect', () => {
    if (leaving) return;
    // Even when the session is present: Mosquitto 2.0.11 restores a persistent session's queued
    // messages after a restart but not its shared subscriptions (tested). Subscribing again to a
    // subscription that exists replaces it; nothing is delivered twice.
    client.subscribeAsync(options.filters, { qos: 1 }).then(
      () => markJoined(),
      (error: unknown) => {
        // Denied by the broker's ACL, most likely: keep trying, loudly, rather than idle unsubscribed.
        logger.error({ clientId, err: error instanceof Error ? error.message : String(error) }, 'mqtt ingest could not join the share group');
        client.stream.destroy();
      },
    );
  });
  client.on('disconnect', (packet) => logger.warn({ clientId, reasonCode: packet.reasonCode }, 'mqtt ingest disconnected by the broker'));
  client.on('error', (error) => logger.warn({ clientId, err: error.message }, 'mqtt ingest connection error'));

  client.handleMessage = (packet: IPublishPacket, done: () => void) => {
    // Never calling back stalls this connection's reading, which is what stopping means.
    if (stopped) return;
    lastMessageAtMs = Date.now();
    const stream = client.stream;
    const live = (): boolean => client.connected && client.stream === stream;
    current = options.handle(packet, live).then((acknowledge) => {
      // mqtt.js would queue a PUBACK for a connection that is gone and send it on the next one;
      // the broker redelivers the message there instead.
      if (!live()) return;
      if (acknowledge || packet.qos === 0) {
        if (packet.qos > 0) backoff.acknowledged();
        return done();
      }
      logger.warn({ clientId, topic: packet.topic.slice(0, 200) }, 'message not acknowledged; reconnecting so the broker delivers it again');
      backoff.refused();
      closeAfterFlush(stream);
    }).catch((error: unknown) => logger.error({ clientId, err: error }, 'mqtt ingest acknowledgement failed'));
  };

  return {
    joined,
    connected: () => client.connected,
    lastMessageAtMs: () => lastMessageAtMs,
    leave: async () => {
      leaving = true;
      await client.unsubscribeAsync(options.filters);
    },
    stop: async () => {
      stopped = true;
      await current;
      // The last PUBACK sits in the corked socket until the next tick (see closeAfterFlush).
      await nextTurn();
    },
    disconnect: (endSession) =>
      endSession
        ? client.endAsync(false, { properties: { sessionExpiryInterval: 0 } })
        // Forced: a graceful end waits for acknowledgements of ours (a SUBACK) that a stopped handler may never read.
        : client.endAsync(true),
  };
}

/**
 * Closes a connection once the acknowledgements written to it have gone out: mqtt-packet corks
 * the socket and uncorks it on the next tick, and a message handled within microtasks can
 * refuse before that tick; destroying the socket then would lose the PUBACKs of the messages
 * before it (they would come again). The broker sees the connection end and keeps the session.
 */
function closeAfterFlush(stream: IStream): void {
  const timer = setTimeout(() => stream.destroy(), 2000);
  timer.unref();
  stream.end(() => {
    clearTimeout(timer);
    stream.destroy();
  });
}
