import type { Logger } from 'pino';
import { syncLag, syncOnce, type SyncObserver, type TrackSource } from '../functions/syncSearch.js';
import type { SearchIndex } from '../ports/searchIndex.js';
import type { ChangeFeed } from '../ports/writeStore.js';
import type { Metrics } from './metrics.js';
import { contextFromTraceparent, isSampled, TENANT_ATTRIBUTE, trace, type Tracing } from './tracing.js';
import { BackgroundLoop } from './backgroundLoop.js';
import { ROOT_CONTEXT, type Span } from '@opentelemetry/api';

/**
 * Keeps the search store in step with the write store: woken as soon as the worker commits
 * trip changes, and polling as a safety net. Resumes from the index's own cursor after a crash.
 */
export class SyncLoop extends BackgroundLoop {
  constructor(
    private readonly feed: ChangeFeed,
    private readonly index: SearchIndex,
    private readonly metrics: Metrics,
    private readonly logger: Logger,
    private readonly trackOf?: TrackSource,
    private readonly batchSize = 1000,
    tracing?: Tracing,
  ) {
    super();
    this.observer = tracing ? traceSync(tracing) : undefined;
  }

  private readonly observer: SyncObserver | undefined;

  start(): void {
    this.startLoop();
  }

  async lag(): Promise<{ pendingChanges: number; lagMs: number }> {
    return syncLag(this.feed, this.index);
  }

  protected async run(): Promise<void> {
    while (this.running) {
      let moved = 0;
      try {
        const started = performance.now();
        moved = await syncOnce(this.feed, this.index, this.batchSize, this.trackOf, this.observer);
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

/**
 * For each change that carries trace contexts (from the outbox row), a `sync.apply` span in each
 * of those traces, and under it a `searchIndex.apply` span for the search store's transaction.
 */
function traceSync(tracing: Tracing): SyncObserver {
  return {
    begin(changes) {
      const traced: Array<{ span: Span; tenantId: string; tripId: string }> = [];
      for (const change of changes) {
        for (const traceparent of change.traceparents ?? []) {
          const parent = contextFromTraceparent(traceparent);
          if (!isSampled(parent)) continue;
          const attributes = { [TENANT_ATTRIBUTE]: change.trip.tenantId, 'tripline.trip_id': change.tripId, 'tripline.trip_version': change.version, 'tripline.outbox_seq': change.seq };
          traced.push({ span: tracing.start('sync.apply', parent, { ...attributes, 'tripline.batch_size': changes.length }), tenantId: change.trip.tenantId, tripId: change.tripId });
        }
      }
      const indexSpans: Span[] = [];
      const fail = (span: Span, error: unknown) => span.setStatus({ code: 2, message: error instanceof Error ? error.message : String(error) });
      return {
        indexing() {
          for (const { span, tenantId, tripId } of traced) {
            indexSpans.push(tracing.start('searchIndex.apply', trace.setSpan(ROOT_CONTEXT, span), { [TENANT_ATTRIBUTE]: tenantId, 'tripline.trip_id': tripId, 'db.system.name': tracing.dbSystem }));
          }
        },
        done(error) {
          for (const span of [...indexSpans, ...traced.map((t) => t.span)]) {
            if (error) fail(span, error);
            span.end();
          }
        },
      };
    },
  };
}
