/**
 * How long an MQTT connection waits before its next attempt: doubling from `minMs` to `maxMs`
 * (with ±20 % jitter, so processes do not come back in step) while attempts fail. A connection
 * closed for a message that could not be acknowledged does not count as recovered until a
 * message is acknowledged again, or a message refused for good would reconnect at full speed.
 */
export interface ReconnectBackoff {
  delayMs: () => number;
  /** An attempt starts: the next wait is longer. */
  attempted: () => void;
  connected: () => void;
  /** The connection is closed because a message could not be acknowledged. */
  refused: () => void;
  acknowledged: () => void;
}

export function createReconnectBackoff(minMs: number, maxMs: number): ReconnectBackoff {
  let failures = 0;
  let refusedSinceAck = false;
  return {
    delayMs: () => Math.round(Math.min(maxMs, minMs * 2 ** failures) * (0.8 + Math.random() * 0.4)),
    attempted: () => {
      // Capped so the exponent never overflows to Infinity.
      if (minMs * 2 ** failures < maxMs) failures++;
    },
    connected: () => {
      if (!refusedSinceAck) failures = 0;
    },
    refused: () => {
      refusedSinceAck = true;
    },
    acknowledged: () => {
      refusedSinceAck = false;
      failures = 0;
    },
  };
}
