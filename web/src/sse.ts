import type { Alert } from './types';

export type StreamStatus = 'connecting' | 'open' | 'closed' | 'error';

/**
 * The tenant's live alerts (`GET /v1/alerts/stream`). EventSource cannot send an Authorization
 * header, and the API takes tokens only there (never in a URL, where logs would keep them), so
 * this reads the Server-Sent Events over fetch streaming, and reconnects after a drop with
 * Last-Event-ID so nothing raised meanwhile is missed.
 */
export function streamAlerts(token: () => string | null, onAlert: (alert: Alert) => void, onStatus: (status: StreamStatus) => void): () => void {
  const controller = new AbortController();
  let lastEventId: string | null = null;
  let stopped = false;

  const connect = async (): Promise<void> => {
    while (!stopped) {
      const bearer = token();
      if (!bearer) {
        onStatus('closed');
        return;
      }
      onStatus('connecting');
      try {
        const headers: Record<string, string> = { authorization: `Bearer ${bearer}`, accept: 'text/event-stream' };
        if (lastEventId) headers['last-event-id'] = lastEventId;
        const response = await fetch('/v1/alerts/stream', { headers, signal: controller.signal, cache: 'no-store' });
        if (response.status === 401 || response.status === 403) {
          onStatus('error');
          return;
        }
        if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
        onStatus('open');
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value.replace(/\r\n?/g, '\n');
          let end: number;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const event = parseBlock(block);
            if (!event) continue;
            if (event.id) lastEventId = event.id;
            if (event.event === 'alert') {
              try {
                onAlert(JSON.parse(event.data) as Alert);
              } catch {
                // A malformed event is skipped; the stream goes on.
              }
            }
          }
        }
      } catch {
        if (stopped) return;
      }
      if (stopped) return;
      onStatus('error');
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
  };
  void connect();
  return () => {
    stopped = true;
    controller.abort();
    onStatus('closed');
  };
}

function parseBlock(block: string): { event: string; id: string; data: string } | null {
  const event = { event: 'message', id: '', data: '' };
  let hasData = false;
  for (const line of block.split('\n')) {
    if (!line || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') event.event = value;
    else if (field === 'id') event.id = value;
    else if (field === 'data') {
      event.data += (hasData ? '\n' : '') + value;
      hasData = true;
    }
  }
  return hasData ? event : null;
}
