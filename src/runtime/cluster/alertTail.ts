import type { Logger } from 'pino';
import type { AlertFeed } from '../../ports/writeStore.js';
import type { AlertHub } from '../alertHub.js';
import { BackgroundLoop } from '../backgroundLoop.js';
import type { Metrics } from '../metrics.js';
import { streamAlert } from '../streamAlert.js';
import type { Tracing } from '../tracing.js';

/**
 * Feeds this API process's live streams (SSE) from the alert outbox. In cluster mode alerts are
 * committed by workers in other processes and dispatched by the sync process, so each API
 * process tails the outbox itself, from its head at start (a stream that reconnects with
 * Last-Event-ID replays older ones from the outbox). Woken by a cross-process signal, polling as
 * a safety net.
 */
export class AlertTail extends BackgroundLoop {
  private cursor = 0;

  constructor(
    private readonly feed: AlertFeed,
    private readonly hub: AlertHub,
    private readonly metrics: Metrics,
    private readonly logger: Logger,
    private readonly tracing: Tracing | undefined,
    private readonly pollMs = 250,
  ) {
    super();
  }

  async start(): Promise<void> {
    this.cursor = await this.feed.alertsHead();
    this.startLoop();
  }

  protected async run(): Promise<void> {
    while (this.running) {
      let moved = 0;
      try {
        const rows = await this.feed.alertsAfter(this.cursor, 500);
        for (const { seq, alert } of rows) {
          streamAlert(this.hub, alert, this.metrics, this.tracing);
          this.cursor = seq;
        }
        moved = rows.length;
      } catch (error) {
        this.logger.warn({ err: error }, 'alert stream tail failed; will retry');
      }
      if (moved === 0 && this.running) await this.waker.sleep(this.pollMs);
    }
  }
}
