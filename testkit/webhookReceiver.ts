import { createServer, type IncomingHttpHeaders } from 'node:http';

export interface ReceivedWebhook {
  headers: IncomingHttpHeaders;
  body: string;
  receivedAtMs: number;
  /** The status this receiver answered with. */
  status: number;
}

export interface WebhookReceiver {
  url: string;
  received: ReceivedWebhook[];
  /** Waits for a request matching `match` (already received or still to come). */
  next: (match?: (request: ReceivedWebhook) => boolean, timeoutMs?: number) => Promise<ReceivedWebhook>;
  close: () => Promise<void>;
}

/** A real local HTTP server standing in for an insurer's webhook endpoint; `respond` picks each status (default 200). */
export async function startWebhookReceiver(respond: (request: Omit<ReceivedWebhook, 'status'>, index: number) => number = () => 200): Promise<WebhookReceiver> {
  const received: ReceivedWebhook[] = [];
  const waiters = new Set<() => void>();
  const server = createServer((request, response) => {
    const parts: Buffer[] = [];
    request.on('data', (part: Buffer) => parts.push(part));
    request.on('end', () => {
      const partial = { headers: request.headers, body: Buffer.concat(parts).toString('utf8'), receivedAtMs: Date.now() };
      const status = respond(partial, received.length);
      received.push({ ...partial, status });
      response.writeHead(status, { 'content-type': 'text/plain' }).end(status < 300 ? 'ok' : 'no');
      for (const wake of waiters) wake();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    next: (match = () => true, timeoutMs = 10_000) =>
      new Promise((resolve, reject) => {
        const check = (): boolean => {
          const found = received.find(match);
          if (!found) return false;
          clearTimeout(timer);
          waiters.delete(wake);
          resolve(found);
          return true;
        };
        const wake = (): void => void check();
        const timer = setTimeout(() => {
          waiters.delete(wake);
          reject(new Error(`no matching webhook request within ${timeoutMs} ms`));
        }, timeoutMs);
        if (!check()) waiters.add(wake);
      }),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
