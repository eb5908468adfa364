import { createServer, type Server } from 'node:net';
import { Aedes, type Client, type PublishPacket, type Subscription } from 'aedes';
import type { Logger } from 'pino';

/** What ingest decides for one publish: `drop` acknowledges but keeps nothing; `refuse` closes the connection. */
export type PublishVerdict = 'accept' | 'drop' | 'refuse';

export interface AedesBrokerOptions {
  host: string;
  port: number;
  logger: Logger;
  /** Resolves once accepted points are durable: the QoS 1 PUBACK is written only after it. */
  onPublish: (input: { topic: string; payload: Buffer; clientId: string }) => Promise<PublishVerdict>;
}

export interface RunningBroker {
  port: number;
  connectedClients: () => number;
  close: () => Promise<void>;
}

/**
 * The embedded MQTT broker. Ingest runs inside `authorizePublish`, which Aedes awaits before it
 * writes the PUBACK (aedes lib/handlers/publish.js, checked on 1.2.0), so an acknowledged
 * message is already on the bus. Bad payloads are acknowledged and dropped (counted by ingest):
 * refusing them would make the device resend the same bad message forever.
 */
export async function startAedesBroker(options: AedesBrokerOptions): Promise<RunningBroker> {
  const aedes = await Aedes.createBroker({ drainTimeout: 10_000, maxClientsIdLength: 64 });
  aedes.authorizePublish = (client: Client | null, packet: PublishPacket, callback: (error?: Error | null) => void) => {
    if (!client) return callback(null);
    options
      .onPublish({ topic: packet.topic, payload: Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload), clientId: client.id })
      .then(
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
    const own = client && subscription.topic === `tripline/${client.id}/alerts`;
    callback(null, own ? subscription : null);
  };
  aedes.on('clientError', (client: Client, error: Error) => options.logger.debug({ clientId: client.id, err: error.message }, 'mqtt client error'));
  aedes.on('connectionError', (client: Client, error: Error) => options.logger.debug({ err: error.message }, 'mqtt connection error'));

  const server: Server = createServer(aedes.handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  return {
    port,
    connectedClients: () => aedes.connectedClients,
    close: () =>
      new Promise<void>((resolve) => {
        aedes.close(() => server.close(() => resolve()));
      }),
  };
}
