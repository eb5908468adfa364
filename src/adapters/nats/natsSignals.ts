import type { NatsConnection, Subscription } from '@nats-io/transport-node';

/**
 * Wake-ups between processes over core NATS (no JetStream, nothing stored): a worker that
 * committed trip changes or alerts tells sync, the alert dispatcher and API processes to look
 * now instead of at their next poll. Losing one is harmless: the poll is the safety net.
 */
export class NatsSignals {
  private readonly subscriptions: Subscription[] = [];

  constructor(private readonly nc: NatsConnection, private readonly prefix = 'tripline.signal') {}

  notify(name: 'trips' | 'alerts'): void {
    if (!this.nc.isClosed()) this.nc.publish(`${this.prefix}.${name}`);
  }

  on(name: 'trips' | 'alerts', listener: () => void): void {
    const subscription = this.nc.subscribe(`${this.prefix}.${name}`, { callback: (error) => (error ? undefined : listener()) });
    this.subscriptions.push(subscription);
  }

  close(): void {
    for (const subscription of this.subscriptions) subscription.unsubscribe();
  }
}
