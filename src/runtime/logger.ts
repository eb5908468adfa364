import { pino, type Logger } from 'pino';

/** Structured JSON logs on stderr, so stdout stays free for command output (tokens, --json results). */
export function createLogger(level: string, name = 'tripline'): Logger {
  return pino({ name, level }, pino.destination(2));
}
