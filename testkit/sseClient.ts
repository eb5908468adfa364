export interface SseEvent {
  event: string;
  id: string;
  data: string;
  receivedAtMs: number;
}

export interface SseClient {
  status: number;
  events: SseEvent[];
  close: () => void;
}

/** A real Server-Sent Events client over fetch streaming, as a dashboard would hold one open. */
export async function openSse(url: string, token: string, lastEventId?: string): Promise<SseClient> {
  const controller = new AbortController();
  const headers: Record<string, string> = { authorization: `Bearer ${token}`, accept: 'text/event-stream' };
  if (lastEventId) headers['last-event-id'] = lastEventId;
  const response = await fetch(url, { headers, signal: controller.signal });
  const events: SseEvent[] = [];
  if (response.ok && response.body) {
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    void (async () => {
      let buffer = '';
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return;
          buffer += value;
          let end: number;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const event: SseEvent = { event: 'message', id: '', data: '', receivedAtMs: Date.now() };
            let hasData = false;
            for (const line of block.split('\n')) {
              if (line.startsWith(':')) continue;
              const [field, ...rest] = line.split(':');
              const value = rest.join(':').replace(/^ /, '');
              if (field === 'event') event.event = value;
              else if (field === 'id') event.id = value;
              else if (field === 'data') {
                event.data += (hasData ? '\n' : '') + value;
                hasData = true;
              }
            }
            if (hasData) events.push(event);
          }
        }
      } catch {
        // Aborted by close().
      }
    })();
  }
  return { status: response.status, events, close: () => controller.abort() };
}
