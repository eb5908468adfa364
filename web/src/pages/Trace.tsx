import { useEffect, useState } from 'preact/hooks';
import { api } from '../api';
import { usePage } from '../page';
import { Link } from '../router';
import type { Span } from '../types';

/** One trace (`GET /v1/traces/{traceId}`): its spans as a waterfall, in start order. */
export function TracePage({ traceId }: { traceId: string }) {
  usePage(`Trace ${traceId.slice(0, 8)}`);
  const [spans, setSpans] = useState<Span[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api<{ spans: Span[] }>(`/v1/traces/${encodeURIComponent(traceId)}`).then((trace) => setSpans(trace.spans), (failure: Error) => setError(failure.message));
  }, [traceId]);
  const start = spans && spans.length > 0 ? Math.min(...spans.map((s) => s.startMs)) : 0;
  const end = spans && spans.length > 0 ? Math.max(...spans.map((s) => s.endMs)) : 1;
  const total = Math.max(end - start, 0.001);
  const depth = (span: Span): number => {
    let level = 0;
    let parent = span.parentSpanId;
    while (parent && level < 20) {
      const found = spans?.find((s) => s.spanId === parent);
      if (!found) break;
      level++;
      parent = found.parentSpanId;
    }
    return level;
  };
  const tripId = spans?.flatMap((s) => (typeof s.attributes['tripline.trip_id'] === 'string' ? [s.attributes['tripline.trip_id']] : []))[0];
  return (
    <div class="page">
      <div class="page-heading">
        <h1 tabIndex={-1}>Trace <span class="mono">{traceId}</span></h1>
        <p class="muted">How one device message went through the pipeline. {spans ? `${spans.length} spans over ${total.toFixed(1)} ms.` : ''} {tripId ? <Link href={`/trips/${encodeURIComponent(tripId)}`}>Its trip</Link> : null}</p>
      </div>
      {error ? <p class="error" role="alert">{error}</p> : null}
      {spans ? (
        <div class="table-scroll">
          <table class="waterfall">
            <caption class="visually-hidden">Spans of the trace, with their start after the first span and their duration</caption>
            <thead><tr><th scope="col">Span</th><th scope="col">Starts after</th><th scope="col">Duration</th><th scope="col">Status</th><th scope="col" class="bar-col">Timeline</th></tr></thead>
            <tbody>
              {spans.map((span) => (
                <tr key={span.spanId}>
                  <th scope="row" style={{ paddingLeft: `${0.5 + depth(span) * 1.2}rem` }}>
                    <details>
                      <summary>{span.name}</summary>
                      <dl class="attributes">{Object.entries(span.attributes).map(([key, value]) => <><dt key={key}>{key}</dt><dd>{String(value)}</dd></>)}</dl>
                    </details>
                  </th>
                  <td class="num">{(span.startMs - start).toFixed(2)} ms</td>
                  <td class="num">{span.durationMs.toFixed(2)} ms</td>
                  <td>{span.status.code}{span.status.message ? `: ${span.status.message}` : ''}</td>
                  <td class="bar-col" aria-hidden="true">
                    <div class="bar-track"><div class={`bar bar-${span.status.code}`} style={{ left: `${((span.startMs - start) / total) * 100}%`, width: `${Math.max(0.5, (span.durationMs / total) * 100)}%` }} /></div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : !error ? <p>Loading…</p> : null}
    </div>
  );
}
