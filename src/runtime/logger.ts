import { pino, type Logger } from 'pino';
import { activeTraceIds } from './tracing.js';

/**
 * Structured JSON logs on stderr, so stdout stays free for command output (tokens, --json
 * results). A line logged while a span is active carries its `trace_id` and `span_id`.
 */
export function createLogger(level: string, name = 'tripline', destination = pino.destination(2)): Logger {
  return pino({ name, level, mixin: activeTraceIds }, destination);
}
