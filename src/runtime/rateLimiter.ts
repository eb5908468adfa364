/**
 * A token bucket per device: `ratePerS` messages a second on average, bursts up to `burst`.
 * Tokens may be reserved ahead (the balance goes negative), so a caller can hold a message until
 * its turn instead of refusing it. Buckets idle long enough to be full again are forgotten, so
 * memory follows active devices.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; atMs: number }>();
  private lastSweepMs = 0;

  constructor(
    private readonly ratePerS: number,
    private readonly burst: number,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Reserves one token: how long to wait until it is due (0: now), or null when that would be
   * longer than `maxWaitMs` (nothing is reserved then). A rate of 0 means unlimited.
   */
  reserve(key: string, maxWaitMs = 0): number | null {
    if (this.ratePerS <= 0) return 0;
    const nowMs = this.now();
    this.sweep(nowMs);
    const bucket = this.buckets.get(key) ?? { tokens: this.burst, atMs: nowMs };
    bucket.tokens = Math.min(this.burst, bucket.tokens + ((nowMs - bucket.atMs) / 1000) * this.ratePerS);
    bucket.atMs = nowMs;
    this.buckets.set(key, bucket);
    const waitMs = bucket.tokens >= 1 ? 0 : ((1 - bucket.tokens) / this.ratePerS) * 1000;
    if (waitMs > maxWaitMs) return null;
    bucket.tokens -= 1;
    return waitMs;
  }

  /** Forgets buckets that have refilled completely; one still paying off reservations is kept. */
  private sweep(nowMs: number): void {
    if (nowMs - this.lastSweepMs < (this.burst / this.ratePerS) * 1000) return;
    this.lastSweepMs = nowMs;
    for (const [key, bucket] of this.buckets) {
      if (bucket.tokens + ((nowMs - bucket.atMs) / 1000) * this.ratePerS >= this.burst) this.buckets.delete(key);
    }
  }
}
