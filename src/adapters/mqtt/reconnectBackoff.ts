import type { MqttClient } from 'mqtt';

export interface ReconnectBackoff {
  /** The connection is about to be closed because a message could not be acknowledged. */
  refused: () => void;
  acknowledged: () => void;
}

/**
 * Makes an mqtt.js client wait longer between failing attempts: doubling from `minMs` to `maxMs`,
 * with ±20 % jitter so processes do not come back in step (mqtt.js itself retries at a fixed
 * `reconnectPeriod`, which it reads each time it schedules an attempt). A connection closed for
 * a message it could not acknowledge does not count as recovered until a message is
 * acknowledged again, or a message refused for good would cycle the connection at full speed.
 */
export function attachReconnectBackoff(client: MqttClient, minMs: number, maxMs: number): ReconnectBackoff {
  let failures = 0;
  let refusedSinceAck = false;
  const apply = (): void => {
    client.options.reconnectPeriod = Math.round(Math.min(maxMs, minMs * 2 ** failures) * (0.8 + Math.random() * 0.4));
  };
  apply();
  client.on('reconnect', () => {
    // Capped so the exponent never overflows.
    if (minMs * 2 ** failures < maxMs) failures++;
    apply();
  });
  client.on('connect', () => {
    if (!refusedSinceAck) failures = 0;
    apply();
  });
  return {
    refused: () => {
      refusedSinceAck = true;
      apply();
    },
    acknowledged: () => {
      if (!refusedSinceAck && failures === 0) return;
      refusedSinceAck = false;
      failures = 0;
      apply();
    },
  };
}
