/** A span of a kept trace, as `GET /v1/traces/{traceId}` returns it (a plain type: the dashboard reads it too). */
export interface SpanView {
  name: string;
  traceId: string;
  spanId: string;
  parentSpanId: string | null;
  startMs: number;
  endMs: number;
  durationMs: number;
  attributes: Record<string, string | number | boolean | Array<string | number | boolean | null>>;
  status: { code: 'unset' | 'ok' | 'error'; message?: string };
  links: Array<{ traceId: string; spanId: string }>;
}
