import type { Logger } from 'pino';
import { syncLag, syncOnce, type TrackSource } from '../functions/syncSearch.js';
import type { SearchIndex } from '../ports/searchIndex.js';
import type { ChangeFeed } from '../ports/writeStore.js';
import type { Metrics } from './metrics.js';
import { Waker } from './waker.js';

/**
 * Keeps the search store in step with the write store: woken as soon as the worker commits
 * trip changes, and polling as a safety net. Resumes from the index's own cursor after a crash.
 */
export class SyncLoop {
  private running = false;
  private readonly waker = new Waker();
  private loop: Promise<void> | null = null;

  constructor(
    private readonly feed: ChangeFeed,
    private readonly index: SearchIndex,
    private readonly metrics: Metrics,
    private readonly logger: Logger,
    private readonly trackOf?: TrackSource,
    private readonly batchSize = 1000,
  ) {}

  start(): void {
    this.running = true;
    this.loop = this.run();
  }

  kick(): void {
    this.waker.wake();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.waker.wake();
    await this.loop;
  }

  async lag(): Promise<{ pendingChanges: number; lagMs: number }> {
    return syncLag(this.feed, this.index);
  }

  private async run(): Promise<void> {
    while (this.running) {
      let moved = 0;
      try {
        const started = performance.now();
        moved = await syncOnce(this.feed, this.index, this.batchSize, this.trackOf);
        if (moved > 0) this.metrics.stageSeconds.observe({ stage: 'sync' }, (performance.now() - started) / 1000);
        const lag = await this.lag();
        this.metrics.syncLagSeconds.set(lag.lagMs / 1000);
        this.metrics.syncPending.set(lag.pendingChanges);
      } catch (error) {
        this.logger.error({ err: error }, 'sync failed; will retry');
      }
      if (moved === 0 && this.running) await this.waker.sleep(250);
      // Catching up runs batch after batch: let HTTP and signals in between.
      else await new Promise((resolve) => setImmediate(resolve));
    }
  }

}
