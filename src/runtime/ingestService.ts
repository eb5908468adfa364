import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { PublishInput, PublishVerdict } from '../adapters/mqtt/aedesBroker.js';
import { parseTelemetry, type RejectReason } from '../functions/ingest/parseTelemetry.js';
import type { EventBus } from '../ports/eventBus.js';
import type { Metrics } from './metrics.js';
import type { RateLimiter } from './rateLimiter.js';
import { contextFromTraceparent, headersOf, otelContext, TENANT_ATTRIBUTE, trace, type Tracing } from './tracing.js';

export interface IngestServiceOptions {
  bus: EventBus;
  metrics: Metrics;
  logger: Logger;
  maxPayloadBytes: number;
  maxBusBacklog: number;
  backlog: () => number;
  rateLimiter: RateLimiter;
  /** The longest a QoS 1 message over the device's rate waits for its turn before it is refused. */
  maxThrottleMs: number;
  tracing: Tracing;
}

/**
 * Glue between the broker and the bus: parse, count, then append and wait for durability.
 * When the bus backlog is over its limit, acknowledgements wait, so devices' in-flight
 * windows fill and they stop sending: back-pressure reaches the broker instead of memory.
 */
export function createIngestService(options: IngestServiceOptions) {
  const { bus, metrics, logger } = options;
  return async function onPublish(input: PublishInput): Promise<PublishVerdict> {
    const started = performance.now();
    const receivedAtMs = Date.now();
    metrics.messagesReceived.inc();
    // QoS 0 has no acknowledgement to withhold, so over the rate it is dropped. At QoS 1 the
    // PUBACK waits for the device's turn: Aedes reads nothing more from that one socket meanwhile,
    // so the device slows down without reconnecting. Past the longest wait it is refused (the
    // connection closes and the device resends later).
    const waitMs = options.rateLimiter.reserve(input.clientId, input.qos === 0 ? 0 : options.maxThrottleMs);
    if (waitMs === null) {
      metrics.messagesRejected.inc({ reason: 'rate_limited' });
      return input.qos === 0 ? 'drop' : 'refuse';
    }
    if (waitMs > 0) {
      metrics.messagesThrottled.inc();
      await sleep(waitMs);
      if (!input.connected()) {
        // Gone while waiting: it can no longer be acknowledged, and the device will send it again.
        metrics.messagesRejected.inc({ reason: 'rate_limited' });
        return 'refuse';
      }
    }
    const identity = input.identity;
    const outcome = parseTelemetry(
      // Received when let in, after any throttling wait: the device's rate holds for what reaches the bus.
      { topic: input.topic, payload: input.payload, publisherId: input.clientId, receivedAtMs: Date.now() },
      { maxPayloadBytes: options.maxPayloadBytes, resolveDevice: (deviceId) => (deviceId === identity.deviceId ? identity : null) },
    );
    // One trace per message: it starts here, or continues the device's own traceparent (an MQTT 5
    // user property first, then the payload's).
    const parent = outcome.ok ? (contextFromTraceparent(input.traceparent) ?? contextFromTraceparent(outcome.traceparent)) : undefined;
    const span = options.tracing.start('ingest', parent, {
      [TENANT_ATTRIBUTE]: identity.tenantId,
      'tripline.device_id': identity.deviceId,
      'messaging.system': 'mqtt',
      'messaging.destination.name': input.topic.slice(0, 200),
      'messaging.operation.type': 'receive',
      'tripline.qos': input.qos,
    }, receivedAtMs);
    if (!outcome.ok) {
      metrics.messagesRejected.inc({ reason: outcome.reason });
      span.setAttribute('tripline.reject_reason', outcome.reason);
      span.setStatus({ code: 2, message: outcome.reason });
      otelContext.with(trace.setSpan(otelContext.active(), span), () =>
        logger.debug({ clientId: input.clientId, reason: outcome.reason, detail: outcome.detail }, 'message rejected'));
      span.end();
      return REFUSED.has(outcome.reason) ? 'refuse' : 'drop';
    }
    span.setAttribute('tripline.points', outcome.message.points.length);
    try {
      // A message whose connection is gone will be delivered again: stop waiting for it.
      while (options.backlog() > options.maxBusBacklog && input.connected()) await sleep(50);
      if (!input.connected()) throw new Error('connection closed while the bus was full');
      const append = options.tracing.start('bus.append', trace.setSpan(otelContext.active(), span), {
        [TENANT_ATTRIBUTE]: identity.tenantId,
        'tripline.device_id': identity.deviceId,
      });
      try {
        // The message carries the append span's context: the worker's spans continue from it.
        await bus.append([outcome.message], append.isRecording() ? headersOf(append) : undefined);
      } catch (error) {
        append.setStatus({ code: 2, message: error instanceof Error ? error.message : String(error) });
        throw error;
      } finally {
        append.end();
      }
    } catch (error) {
      span.setStatus({ code: 2, message: 'bus append failed' });
      span.end();
      throw error;
    }
    span.end();
    metrics.messagesAccepted.inc();
    metrics.pointsReceived.inc(outcome.message.points.length);
    metrics.stageSeconds.observe({ stage: 'ingest' }, (performance.now() - started) / 1000);
    return 'accept';
  };
}

/**
 * Publishing outside one's own ingest topics closes the connection: acknowledging would let
 * Aedes forward the message, for example onto another device's downlink topic. A fault of ours
 * (internal_error) is not acknowledged either, so the device keeps the message until it is fixed.
 */
const REFUSED = new Set<RejectReason>(['unknown_topic', 'invalid_device_id', 'forbidden_topic', 'internal_error']);
