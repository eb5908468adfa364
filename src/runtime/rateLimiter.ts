/**
 * A token bucket per device: `ratePerS` messages a second on average, bursts up to `burst`.
 * Buckets idle long enough to be full again are forgotten, so memory follows active devices.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; atMs: number }>();
  private lastSweepMs = 0;

  constructor(
    private readonly ratePerS: number,
    private readonly burst: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Takes one token; false when the device is over its rate. A rate of 0 means unlimited. */
  take(key: string): boolean {
    if (this.ratePerS <= 0) return true;
    const nowMs = this.now();
    this.sweep(nowMs);
    const bucket = this.buckets.get(key) ?? { tokens: this.burst, atMs: nowMs };
    bucket.tokens = Math.min(this.burst, bucket.tokens + ((nowMs - bucket.atMs) / 1000) * this.ratePerS);
    bucket.atMs = nowMs;
    this.buckets.set(key, bucket);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  private sweep(nowMs: number): void {
    const refillMs = (this.burst / this.ratePerS) * 1000;
    if (nowMs - this.lastSweepMs < refillMs) return;
    this.lastSweepMs = nowMs;
    for (const [key, bucket] of this.buckets) if (nowMs - bucket.atMs >= refillMs) this.buckets.delete(key);
  }
}
