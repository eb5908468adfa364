import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { Aedes, type Client, type PublishPacket, type Subscription } from 'aedes';
import type { Logger } from 'pino';
import type { DeviceIdentity } from '../../functions/ingest/parseTelemetry.js';
import { TOPICS } from '../../functions/ingest/wireFormat.js';
import { limitPacketSize, PacketTooLargeError, type PacketSizeLimits } from './packetSizeGuard.js';

/** What ingest decides for one publish: `drop` acknowledges but keeps nothing; `refuse` closes the connection. */
export type PublishVerdict = 'accept' | 'drop' | 'refuse';

/** What a client presented at CONNECT; `certificateCn` only on a verified mTLS connection. */
export interface ConnectAttempt {
  clientId: string;
  username: string | undefined;
  password: Buffer | undefined;
  certificateCn: string | undefined;
}

/** `revision`: the registry record's, so a session can tell it signed in before a later change. `unavailable`: our fault, try again later. */
export type ConnectVerdict = { ok: true; identity: DeviceIdentity; revision: number } | { ok: false; reason: string; unavailable?: boolean };

export interface PublishInput {
  topic: string;
  payload: Buffer;
  qos: 0 | 1 | 2;
  clientId: string;
  identity: DeviceIdentity;
  /** False once the connection is gone (a PUBACK could no longer reach the device). */
  connected: () => boolean;
  /** A W3C trace context from the MQTT 5 user property `traceparent`; preferred over one in the payload. */
  traceparent?: string;
}

export interface AedesBrokerOptions {
  host: string;
  port: number;
  /** Optional MQTT over TLS with client certificates: a verified certificate's CN names the device. */
  tls?: { port: number; key: Buffer; cert: Buffer; ca: Buffer };
  limits: PacketSizeLimits;
  logger: Logger;
  authenticate: (attempt: ConnectAttempt) => Promise<ConnectVerdict>;
  /** Resolves once accepted points are durable: the QoS 1 PUBACK is written only after it. */
  onPublish: (input: PublishInput) => Promise<PublishVerdict>;
  onOversize: (clientId: string | null, bytes: number) => void;
  onSubscribeDenied: (clientId: string, topic: string) => void;
  /** A QoS 2 PUBLISH: not offered (its exactly-once store would outlive sessions); the connection is closed. */
  onUnsupportedQos: () => void;
  /** A PUBLISH Aedes refused itself (wildcards, empty topic) before ingest saw it; the connection is closed. */
  onInvalidPublishTopic: () => void;
  /** A connection closed for breaking the protocol (malformed packets, keepalive, oversize). */
  onProtocolError: () => void;
}

export interface RunningBroker {
  port: number;
  tlsPort: number | null;
  connectedClients: () => number;
  /** Closes the device's live session and keeps it out for good, even if it is signing in right now. */
  revoke: (deviceId: string) => void;
  /** Closes the device's live session, if any; it may sign in again. */
  disconnect: (deviceId: string) => void;
  /** The registry revision the device's live session signed in at, or null without a session. */
  sessionRevision: (deviceId: string) => number | null;
  /** Publishes to the device's downlink topic `tripline/{deviceId}/alerts` at QoS 1, to its subscription if it has one. */
  publishDownlink: (deviceId: string, payload: string) => Promise<void>;
  /** Replaces the identity a live session publishes under (its vehicle or driver changed). */
  updateIdentity: (identity: DeviceIdentity) => void;
  close: () => Promise<void>;
}

/**
 * The embedded MQTT broker. Every client authenticates as a registered device before Aedes
 * registers it, so a refused CONNECT never takes over (disconnects) the session it names.
 * Ingest runs inside `authorizePublish`, which Aedes awaits before it writes the PUBACK
 * (aedes lib/handlers/publish.js, checked on 1.2.0), so an acknowledged message is already on
 * the bus. Bad payloads are acknowledged and dropped (counted by ingest): refusing them would
 * make the device resend the same bad message forever.
 */
export async function startAedesBroker(options: AedesBrokerOptions): Promise<RunningBroker> {
  const aedes = await Aedes.createBroker({ drainTimeout: 10_000, maxClientsIdLength: 64 });
  const sessions = new WeakMap<Client, { identity: DeviceIdentity; revision: number }>();
  // Revocation is permanent, so this only grows with revoked devices. It closes the window in
  // which a device revoked during its (slow) sign-in would otherwise get in.
  const revoked = new Set<string>();

  aedes.authenticate = (client, username, password, callback) => {
    const attempt: ConnectAttempt = { clientId: client.id, username, password, certificateCn: certificateCnOf(client) };
    options.authenticate(attempt).then(
      (verdict) => {
        if (verdict.ok && !revoked.has(client.id)) {
          sessions.set(client, { identity: verdict.identity, revision: verdict.revision });
          return callback(null, true);
        }
        const reason = verdict.ok ? 'revoked' : verdict.reason;
        options.logger.info({ clientId: client.id.slice(0, 64), reason }, 'mqtt connect refused');
        callback(connackError(reason, !verdict.ok && verdict.unavailable ? SERVER_UNAVAILABLE : BAD_CREDENTIALS), false);
      },
      (error: unknown) => {
        options.logger.error({ err: error, clientId: client.id }, 'mqtt authentication failed');
        callback(connackError('server unavailable', SERVER_UNAVAILABLE), false);
      },
    );
  };

  aedes.authorizePublish = (client: Client | null, packet: PublishPacket, callback: (error?: Error | null) => void) => {
    if (!client) return callback(null);
    const session = sessions.get(client);
    if (!session || revoked.has(client.id)) return callback(new Error('not authenticated'));
    if (packet.qos === 2) {
      options.onUnsupportedQos();
      return callback(new Error('publish refused'));
    }
    // Nothing is kept for later subscribers: a retained store is memory any device could fill.
    packet.retain = false;
    const identity = session.identity;
    const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
    options.onPublish({ topic: packet.topic, payload, qos: packet.qos, clientId: client.id, identity, connected: () => !client.closed }).then(
      (verdict) => callback(verdict === 'refuse' ? new Error('publish refused') : null),
      (error: unknown) => {
        // Not durable, so not acknowledged: the device keeps the message and sends it again.
        options.logger.error({ err: error, clientId: client.id }, 'ingest failed; connection closed without PUBACK');
        callback(error instanceof Error ? error : new Error(String(error)));
      },
    );
  };

  // Telemetry is for the platform, not for other clients: a device may subscribe to its own downlink only.
  aedes.authorizeSubscribe = (client: Client | null, subscription: Subscription, callback: (error: Error | null, subscription?: Subscription | null) => void) => {
    const own = client !== null && sessions.has(client) && subscription.topic === TOPICS.alerts(client.id);
    if (!own && client) options.onSubscribeDenied(client.id, subscription.topic);
    callback(null, own ? subscription : null);
  };
  // Nothing reaches a client that it did not subscribe to itself, and no $SYS topics are published.
  aedes.authorizeForward = (client, packet) => (packet.topic === TOPICS.alerts(client.id) ? packet : null);

  aedes.on('clientReady', (client: Client) => {
    if (revoked.has(client.id)) client.close();
  });
  aedes.on('clientError', (client: Client, error: Error) => {
    if (INVALID_PUBLISH_TOPIC.test(error.message)) options.onInvalidPublishTopic();
    else if (!PLATFORM_REFUSALS.has(error.message) && !(error instanceof PacketTooLargeError)) options.onProtocolError();
    options.logger.debug({ clientId: client.id, err: error.message }, 'mqtt client error');
  });
  aedes.on('connectionError', (_client: Client, error: Error) => {
    if (!(error instanceof PacketTooLargeError)) options.onProtocolError();
    options.logger.debug({ err: error.message }, 'mqtt connection error');
  });

  const guard = (socket: Socket): void => {
    // Acknowledgements are tiny and latency-bound: do not hold them back for Nagle's algorithm.
    socket.setNoDelay(true);
    const client = aedes.handle(socket);
    limitPacketSize(client, options.limits, (bytes) => options.onOversize(client.id ?? null, bytes));
  };
  const server: Server = createServer(guard);
  const port = await listen(server, options.port, options.host);
  let tlsServer: Server | null = null;
  let tlsPort: number | null = null;
  if (options.tls) {
    tlsServer = createTlsServer({ key: options.tls.key, cert: options.tls.cert, ca: options.tls.ca, requestCert: true, rejectUnauthorized: true }, guard);
    tlsPort = await listen(tlsServer, options.tls.port, options.host);
  }

  const disconnect = (deviceId: string): void => {
    const client = clientsOf(aedes)[deviceId];
    if (!client) return;
    sessions.delete(client);
    client.close();
  };

  return {
    port,
    tlsPort,
    connectedClients: () => aedes.connectedClients,
    revoke: (deviceId) => {
      revoked.add(deviceId);
      disconnect(deviceId);
    },
    disconnect,
    sessionRevision: (deviceId) => {
      const client = clientsOf(aedes)[deviceId];
      return (client && sessions.get(client)?.revision) ?? null;
    },
    publishDownlink: (deviceId, payload) =>
      new Promise<void>((resolve, reject) => {
        // A publish of the broker itself: authorizePublish is not asked; authorizeForward lets it reach only that device.
        const packet = { cmd: 'publish', topic: TOPICS.alerts(deviceId), payload: Buffer.from(payload), qos: 1, retain: false, dup: false } as PublishPacket;
        aedes.publish(packet, (error) => (error ? reject(error) : resolve()));
      }),
    updateIdentity: (identity) => {
      const client = clientsOf(aedes)[identity.deviceId];
      const session = client && sessions.get(client);
      if (session) session.identity = identity;
    },
    close: async () => {
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      await Promise.all([server, tlsServer].map((s) => (s ? new Promise<void>((resolve) => s.close(() => resolve())) : undefined)));
    },
  };
}

/** Aedes's own checks of PUBLISH topics (lib/handlers/publish.js). */
const INVALID_PUBLISH_TOPIC = /^(empty topic not allowed in PUBLISH|[#+] is not allowed in PUBLISH|topic has too many levels)$/;
/** Errors we raise ourselves, already counted where they are decided. */
const PLATFORM_REFUSALS = new Set(['publish refused', 'not authenticated']);

type AuthenticateError = Parameters<Parameters<Aedes['authenticate']>[3]>[0];
/** CONNACK return codes of MQTT 3.1.1 (aedes declares them as a const enum, which isolated modules cannot import). */
const SERVER_UNAVAILABLE = 3;
const BAD_CREDENTIALS = 4;

function connackError(message: string, returnCode: number): AuthenticateError {
  return Object.assign(new Error(message), { returnCode }) as AuthenticateError;
}

/** Live sessions by client id; Aedes keeps this map but does not declare it in its types. */
function clientsOf(aedes: Aedes): Record<string, Client | undefined> {
  return (aedes as unknown as { clients: Record<string, Client | undefined> }).clients;
}

function certificateCnOf(client: Client): string | undefined {
  const socket = client.conn as unknown as TLSSocket;
  if (!('authorized' in socket) || !socket.authorized) return undefined;
  const cn = socket.getPeerCertificate().subject?.CN;
  return typeof cn === 'string' ? cn : undefined;
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}
