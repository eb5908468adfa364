/**
 * One simulated device's MQTT connection, shared by the fleet simulator and replay: publishes
 * `{"points": [...]}` batches at QoS 1 as the device would, keeps a bounded window of publishes
 * awaiting their PUBACK (so "as fast as possible" is as fast as the broker acknowledges, without
 * piling up unbounded memory), and counts only what the broker acknowledged.
 */
import { connectAsync, type MqttClient } from 'mqtt';
import type { TelemetryPoint } from '../domain/point.js';
import { TOPICS, toWire } from '../functions/ingest/wireFormat.js';

export interface DevicePublisherOptions {
  brokerUrl: string;
  deviceId: string;
  username?: string;
  password?: string;
  /** Publishes sent but not yet acknowledged, per client. */
  maxInFlight?: number;
  /** Called on every PUBACK with the number of points the message carried. */
  onAck?: (points: number) => void;
  /** Stays under the broker's per-device rate limit (messages a second); unpaced when absent. */
  maxMessagesPerS?: number;
}

export class DevicePublisher {
  readonly acked = { messages: 0, points: 0 };
  private readonly inFlight = new Set<Promise<void>>();
  private failure: unknown;
  private nextSendAtMs = 0;

  private constructor(
    private readonly client: MqttClient,
    private readonly topic: string,
    private readonly maxInFlight: number,
    private readonly onAck?: (points: number) => void,
    private readonly minIntervalMs = 0,
  ) {}

  static async connect(opts: DevicePublisherOptions): Promise<DevicePublisher> {
    const client = await connectAsync(
      opts.brokerUrl,
      {
        clientId: opts.deviceId,
        ...(opts.username !== undefined ? { username: opts.username } : {}),
        ...(opts.password !== undefined ? { password: opts.password } : {}),
        connectTimeout: 10_000,
        reconnectPeriod: 1_000,
      },
      false, // fail on a refused or unreachable broker instead of retrying forever
    );
    const minIntervalMs = opts.maxMessagesPerS ? 1000 / opts.maxMessagesPerS : 0;
    return new DevicePublisher(client, TOPICS.telemetry(opts.deviceId), opts.maxInFlight ?? 100, opts.onAck, minIntervalMs);
  }

  /** Sends one batch; returns once it is in the window (not acknowledged). Throws an earlier failure. */
  async publish(points: readonly TelemetryPoint[], signal?: AbortSignal): Promise<void> {
    while (this.inFlight.size >= this.maxInFlight && !signal?.aborted) {
      await Promise.race([...this.inFlight, aborted(signal)]);
    }
    if (this.minIntervalMs > 0) {
      await sleep(this.nextSendAtMs - Date.now(), signal);
      this.nextSendAtMs = Math.max(Date.now(), this.nextSendAtMs) + this.minIntervalMs;
    }
    this.throwIfFailed();
    if (signal?.aborted) return;
    const payload = JSON.stringify({ points: points.map(toWire) });
    const sent: Promise<void> = this.client
      .publishAsync(this.topic, payload, { qos: 1 })
      .then(
        () => {
          this.acked.messages++;
          this.acked.points += points.length;
          this.onAck?.(points.length);
        },
        (err: unknown) => {
          this.failure ??= err;
        },
      )
      .finally(() => this.inFlight.delete(sent));
    this.inFlight.add(sent);
  }

  /** Waits for every PUBACK outstanding (or for abort), then reports any failure. */
  async drain(signal?: AbortSignal): Promise<void> {
    await Promise.race([Promise.all(this.inFlight), aborted(signal)]);
    if (!signal?.aborted) this.throwIfFailed();
  }

  /** force: drop what is in flight (on abort) instead of waiting for it. */
  async close(force = false): Promise<void> {
    await this.client.endAsync(force);
  }

  private throwIfFailed(): void {
    if (this.failure !== undefined) throw this.failure;
  }
}

const never = new Promise<void>(() => {});
const abortPromises = new WeakMap<AbortSignal, Promise<void>>();

/**
 * A promise that resolves when the signal aborts (never, without a signal). One per signal, so
 * racing it in a loop does not add a listener per iteration.
 */
export function aborted(signal?: AbortSignal): Promise<void> {
  if (!signal) return never;
  let promise = abortPromises.get(signal);
  if (!promise) {
    promise = signal.aborted
      ? Promise.resolve()
      : new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    abortPromises.set(signal, promise);
  }
  return promise;
}

/** Sleeps, waking early (without throwing) when the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0 || signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
