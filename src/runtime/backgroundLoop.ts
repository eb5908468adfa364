import { Waker } from './waker.js';

/**
 * A loop that runs in the background until stopped: `kick` wakes it as soon as there is work
 * (it sleeps on its waker otherwise), and `stop` waits for the pass under way to finish.
 */
export abstract class BackgroundLoop {
  protected running = false;
  protected readonly waker = new Waker();
  private loop: Promise<void> = Promise.resolve();

  /** Runs until `running` turns false, sleeping on `waker` between passes. */
  protected abstract run(): Promise<void>;

  protected startLoop(): void {
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
}
