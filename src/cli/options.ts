import { setMaxListeners } from 'node:events';
import { InvalidArgumentError } from 'commander';

/** Commander parsers that reject bad values with a message naming the expectation. */
export function positiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a positive number');
  return n;
}

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

/** Stops long work cleanly on Ctrl-C or SIGTERM. */
export function abortOnSignals(): AbortSignal {
  const controller = new AbortController();
  setMaxListeners(0, controller.signal); // every simulated car listens for the stop
  const abort = () => controller.abort();
  process.once('SIGINT', abort);
  process.once('SIGTERM', abort);
  return controller.signal;
}
