import { connect, type NatsConnection } from '@nats-io/transport-node';

/** Where an adapter reaches NATS: a server URL (it then owns its connection) or a connection to share. */
export type NatsEndpoint = { url: string } | { connection: NatsConnection };

export interface OpenedConnection {
  nc: NatsConnection;
  /**
   * Resolves at once while connected, else at the reconnection; rejects after `timeoutMs`
   * without one. The client drops what is written while it is disconnected, so a request made
   * then would only time out: waiting for the reconnection lets it succeed instead.
   */
  connected: (timeoutMs: number) => Promise<void>;
  /** Closes the connection if this adapter opened it; a shared one stays open for its owner. */
  release: () => Promise<void>;
}

/** tripline's NATS connection: what every process and adapter that owns one opens. */
export function connectNats(url: string, name: string): Promise<NatsConnection> {
  return connect({
    servers: url,
    name,
    // A server restart must not end a long-lived process: reconnect forever, quickly.
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    // Otherwise every request builds two Error objects with stack traces up front, in case it
    // fails: a ninth of an ingest process's CPU at 1,000 messages a second (profiled).
    noAsyncTraces: true,
  });
}

export async function openConnection(endpoint: NatsEndpoint, name: string): Promise<OpenedConnection> {
  const owned = !('connection' in endpoint);
  const nc = 'connection' in endpoint ? endpoint.connection : await connectNats(endpoint.url, name);
  let up = true;
  let released = false;
  let waiters: Array<() => void> = [];
  void (async () => {
    // Ends when the connection closes; on a shared connection, at the first status after release.
    for await (const status of nc.status()) {
      if (released) break;
      if (status.type === 'disconnect') up = false;
      if (status.type === 'reconnect') {
        up = true;
        for (const wake of waiters.splice(0)) wake();
      }
    }
  })();
  return {
    nc,
    connected: (timeoutMs) => up ? Promise.resolve() : new Promise((resolve, reject) => {
      const wake = (): void => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        waiters = waiters.filter((waiter) => waiter !== wake);
        reject(new Error(`NATS unreachable for ${timeoutMs} ms`));
      }, timeoutMs);
      waiters.push(wake);
    }),
    release: async () => {
      released = true;
      if (owned && !nc.isClosed()) await nc.close();
    },
  };
}
