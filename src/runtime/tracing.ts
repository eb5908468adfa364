import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  context, propagation, ROOT_CONTEXT, SpanStatusCode, trace, TraceFlags,
  type Attributes, type Context, type Span, type SpanContext, type Tracer,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider, BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler,
  type ReadableSpan, type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';

/** Bus message headers: the W3C trace context of the message (and room for more). */
export type TraceHeaders = Record<string, string>;

/** The span attribute naming the tenant a span worked for: traces are served only to that tenant. */
export const TENANT_ATTRIBUTE = 'tripline.tenant_id';

const propagator = new W3CTraceContextPropagator();
const headerGetter = { keys: (carrier: TraceHeaders) => Object.keys(carrier), get: (carrier: TraceHeaders, key: string) => carrier[key] };
const headerSetter = { set: (carrier: TraceHeaders, key: string, value: string) => { carrier[key] = value; } };

let contextManagerInstalled = false;
/** One AsyncLocalStorage context manager per process, so `context.active()` (and the log mixin) sees the span being worked on. */
function installContextManager(): void {
  if (contextManagerInstalled) return;
  contextManagerInstalled = true;
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
}

const MAX_SPANS_PER_TRACE = 1_000;

export type { SpanView } from './spanView.js';
import type { SpanView } from './spanView.js';

/**
 * Keeps the spans of the most recent traces in memory, bounded both in traces and in spans:
 * the oldest trace goes first. Backs the embedded `GET /v1/traces/{traceId}`.
 */
export class RecentTraces implements SpanProcessor {
  private readonly traces = new Map<string, ReadableSpan[]>();
  private spanCount = 0;

  constructor(private readonly maxTraces = 1_000, private readonly maxSpans = 10_000) {}

  onStart(): void {}

  onEnd(span: ReadableSpan): void {
    const traceId = span.spanContext().traceId;
    let spans = this.traces.get(traceId);
    if (!spans) {
      this.traces.set(traceId, (spans = []));
    }
    // A device that reuses one traceparent for every message makes one long trace: it keeps its first spans and cannot evict everything else.
    if (spans.length >= MAX_SPANS_PER_TRACE) return;
    spans.push(span);
    this.spanCount++;
    while (this.traces.size > this.maxTraces || this.spanCount > this.maxSpans) {
      const oldest = this.traces.keys().next();
      if (oldest.done) break;
      this.spanCount -= this.traces.get(oldest.value)!.length;
      this.traces.delete(oldest.value);
    }
  }

  /** The spans of a trace done for `tenantId`, in start order; spans of other tenants (or none) are never shown. */
  get(traceId: string, tenantId: string): SpanView[] {
    const spans = this.traces.get(traceId) ?? [];
    return spans
      .filter((span) => span.attributes[TENANT_ATTRIBUTE] === tenantId)
      .map(viewOf)
      .sort((a, b) => a.startMs - b.startMs);
  }

  size(): { traces: number; spans: number } {
    return { traces: this.traces.size, spans: this.spanCount };
  }

  async forceFlush(): Promise<void> {}
  async shutdown(): Promise<void> {
    this.traces.clear();
    this.spanCount = 0;
  }
}

function viewOf(span: ReadableSpan): SpanView {
  const startMs = hrToMs(span.startTime);
  const endMs = hrToMs(span.endTime);
  const code = span.status.code === SpanStatusCode.ERROR ? 'error' : span.status.code === SpanStatusCode.OK ? 'ok' : 'unset';
  return {
    name: span.name,
    traceId: span.spanContext().traceId,
    spanId: span.spanContext().spanId,
    parentSpanId: span.parentSpanContext?.spanId ?? null,
    startMs,
    endMs,
    durationMs: endMs - startMs,
    attributes: definedAttributes(span.attributes),
    status: span.status.message ? { code, message: span.status.message } : { code },
    links: span.links.map((link) => ({ traceId: link.context.traceId, spanId: link.context.spanId })),
  };
}

function definedAttributes(attributes: Attributes): SpanView['attributes'] {
  const defined: SpanView['attributes'] = {};
  for (const [key, value] of Object.entries(attributes)) if (value !== undefined) defined[key] = value as SpanView['attributes'][string];
  return defined;
}

function hrToMs([seconds, nanos]: [number, number]): number {
  return seconds * 1000 + nanos / 1e6;
}

export interface TracingOptions {
  /** The stores' database system, for their spans (default sqlite). */
  dbSystem?: string;
  /** OTEL_SERVICE_NAME, default "tripline". */
  serviceName?: string;
  /** Share of new traces recorded (parent-based: a device's sampled traceparent is always followed). */
  sampleRatio?: number;
  /** OTEL_EXPORTER_OTLP_ENDPOINT (or _TRACES_ENDPOINT): also export every span over OTLP/HTTP. */
  otlpEndpoint?: string | undefined;
  maxTraces?: number;
  maxSpans?: number;
}

/**
 * One process's tracing: a tracer provider of its own (tests run several platforms in one
 * process, so nothing is registered globally but the context manager), the in-memory store of
 * recent traces, and an OTLP exporter when an endpoint is configured.
 */
export class Tracing {
  readonly tracer: Tracer;
  /** `db.system.name` of the stores' spans: the composition root knows which backends it picked. */
  readonly dbSystem: string;
  readonly recent: RecentTraces;
  private readonly provider: BasicTracerProvider;

  constructor(options: TracingOptions = {}) {
    installContextManager();
    this.dbSystem = options.dbSystem ?? 'sqlite';
    this.recent = new RecentTraces(options.maxTraces, options.maxSpans);
    const processors: SpanProcessor[] = [this.recent];
    if (options.otlpEndpoint) processors.push(new BatchSpanProcessor(new OTLPTraceExporter(otlpExporterConfig(options.otlpEndpoint))));
    this.provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: options.serviceName ?? 'tripline' }),
      sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(options.sampleRatio ?? 1) }),
      spanProcessors: processors,
    });
    this.tracer = this.provider.getTracer('tripline');
  }

  /** Starts a span under `parent` (a context, or none for a new trace). */
  start(name: string, parent: Context | undefined, attributes?: Attributes, startTime?: number): Span {
    return this.tracer.startSpan(name, { attributes, ...(startTime !== undefined ? { startTime } : {}) }, parent ?? ROOT_CONTEXT);
  }

  /** A span that starts and ends at given times (epoch ms): for work already done, such as one commit shared by many messages. */
  record(name: string, parent: Context, startMs: number, endMs: number, attributes?: Attributes, error?: unknown): Span {
    const span = this.tracer.startSpan(name, { attributes, startTime: startMs }, parent);
    if (error) span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
    span.end(endMs);
    return span;
  }

  async shutdown(): Promise<void> {
    await this.provider.shutdown();
  }
}

/** The OTLP endpoint from the standard variables, or undefined. */
export function otlpEndpointFromEnv(env: NodeJS.ProcessEnv): string | undefined {
  return env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_EXPORTER_OTLP_ENDPOINT || undefined;
}

function otlpExporterConfig(endpoint: string): { url: string } {
  // OTEL_EXPORTER_OTLP_ENDPOINT is a base URL (the signal path is appended); the _TRACES_ one is used as is.
  if (process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return { url: endpoint };
  return { url: `${endpoint.replace(/\/+$/, '')}/v1/traces` };
}

/** The context a W3C `traceparent` continues, or undefined when it is missing or malformed (a new trace starts then). */
export function contextFromTraceparent(traceparent: string | undefined, tracestate?: string): Context | undefined {
  if (!traceparent) return undefined;
  const carrier: TraceHeaders = tracestate ? { traceparent, tracestate } : { traceparent };
  const extracted = propagator.extract(ROOT_CONTEXT, carrier, headerGetter);
  return trace.getSpanContext(extracted) ? extracted : undefined;
}

/** The context carried in bus headers, or undefined. */
export function contextFromHeaders(headers: TraceHeaders | undefined): Context | undefined {
  return headers?.traceparent ? contextFromTraceparent(headers.traceparent, headers.tracestate) : undefined;
}

/** The W3C headers naming `span` as the parent of what comes next. */
export function headersOf(span: Span): TraceHeaders {
  const carrier: TraceHeaders = {};
  propagator.inject(trace.setSpan(ROOT_CONTEXT, span), carrier, headerSetter);
  return carrier;
}

/** Whether a carried context asks for recording (the sampled flag). */
export function isSampled(ctx: Context | undefined): ctx is Context {
  const spanContext: SpanContext | undefined = ctx ? trace.getSpanContext(ctx) : undefined;
  return spanContext !== undefined && (spanContext.traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED;
}

/** For the log mixin: the ids of the span active in this async context. */
export function activeTraceIds(): { trace_id: string; span_id: string } | Record<string, never> {
  const span = trace.getSpan(context.active());
  if (!span) return {};
  const { traceId, spanId } = span.spanContext();
  return { trace_id: traceId, span_id: spanId };
}

export { context as otelContext, propagation, trace };
