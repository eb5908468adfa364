/** The main thread's handle on the fleet worker: one promise per command. */
import { Worker } from 'node:worker_threads';
import type { FleetCommand, LoadReport } from './fleetWorker.js';
import { benchStartAbs } from './support.js';

export type { LoadReport };

export class Fleet {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  private readonly exited: Promise<void>;
  private readonly worker: Worker;

  constructor(seed: number) {
    this.worker = new Worker(new URL('./fleetWorker.js', import.meta.url), { workerData: { seed, benchStartAbs } });
    this.worker.on('message', (message: { id: number; result?: unknown; error?: string }) => {
      const waiting = this.pending.get(message.id);
      this.pending.delete(message.id);
      if (message.error !== undefined) waiting?.reject(new Error(`fleet worker: ${message.error}`));
      else waiting?.resolve(message.result);
    });
    this.exited = new Promise((resolve) => {
      this.worker.once('exit', () => {
        for (const waiting of this.pending.values()) waiting.reject(new Error('fleet worker exited'));
        resolve();
      });
      this.worker.once('error', (error) => {
        for (const waiting of this.pending.values()) waiting.reject(error);
      });
    });
  }

  private call<T>(command: FleetCommand): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.worker.postMessage({ id, command });
    });
  }

  /** passwords[i] signs ids[i] in (the platform's registered devices); none for a bare broker. */
  connect(url: string, ids: string[], label: string, passwords?: string[]): Promise<number> {
    return this.call({ cmd: 'connect', url, ids, label, ...(passwords ? { passwords } : {}) });
  }
  /** Builds every car's batches ahead of time, so building them is not timed. Returns the points. */
  prepareIngest(batches: number, pointsPerBatch: number): Promise<number> {
    return this.call({ cmd: 'prepareIngest', batches, pointsPerBatch });
  }
  /** Publishes the prepared batches; times are absolute (see absNow). */
  ingest(window: number): Promise<{ firstPublishAbs: number; allAckedAbs: number }> {
    return this.call({ cmd: 'ingest', window });
  }
  /** Every car publishes `points` moving fixes ending about now; returns the points sent once all are acknowledged. */
  openTrips(points: number): Promise<number> {
    return this.call({ cmd: 'open', points });
  }
  startLoad(periodMs: number, pointsPerBatch: number, clock: 'wall' | 'fast'): Promise<void> {
    return this.call({ cmd: 'startLoad', periodMs, pointsPerBatch, clock });
  }
  /** Stops the load and waits for its outstanding PUBACKs. */
  stopLoad(): Promise<LoadReport> {
    return this.call({ cmd: 'stopLoad' });
  }
  /** Every car publishes its ignition-off point; returns the points sent. */
  closeTrips(): Promise<number> {
    return this.call({ cmd: 'closeTrips' });
  }
  /** Disconnects every car and lets the worker exit. */
  async end(): Promise<void> {
    await this.call({ cmd: 'end' }).catch(() => undefined);
    await this.exited;
  }
}
