/** How webhook deliveries are retried: exponential backoff with jitter, then a dead letter. */
export interface RetryPolicy {
  /** Tries in all, the first included. */
  maxAttempts: number;
  /** The wait after the first failure; doubled after each further one. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** Each wait is drawn in [delay × (1 − jitter), delay]: receivers coming back are not hit in lockstep. */
  jitter: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: 8, baseDelayMs: 1000, maxDelayMs: 300_000, jitter: 0.2 };

/**
 * After `attempts` failed tries: when to try again, or null when that was the last (a dead letter).
 * `random` is in [0, 1) (Math.random in production, fixed in tests).
 */
export function nextAttemptDelayMs(attempts: number, policy: RetryPolicy, random: number): number | null {
  if (attempts >= policy.maxAttempts) return null;
  const delay = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempts - 1));
  return Math.round(delay * (1 - policy.jitter * random));
}
