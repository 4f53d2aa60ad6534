/**
 * Bounded retries with exponential backoff and full jitter: the SDK's whole-request retries
 * (sdkRetryStrategy in aws.ts) and the adapters' rounds for entries a service refused (batching.ts).
 *
 * Full jitter (a uniform delay in `[0, min(cap, base * 2^attempt))`) spreads retries of many concurrent
 * callers apart, which is what a throttled stream or table needs.
 */

export interface RetryOptions {
  /** Attempts in all, the first included. At least 1. */
  maxAttempts: number;
  /** Delay scale of the first retry, in milliseconds. */
  baseDelayMs: number;
  /** Upper bound of any one delay, in milliseconds. */
  maxDelayMs: number;
  /** Injectable for tests. */
  sleep?: (ms: number) => Promise<void>;
  /** Injectable for tests; returns a number in [0, 1). */
  random?: () => number;
}

export const DEFAULT_RETRY: RetryOptions = { maxAttempts: 5, baseDelayMs: 50, maxDelayMs: 2_000 };

/** The delay before retry number `retry` (1 for the first retry). */
export function backoffDelay(retry: number, options: RetryOptions): number {
  const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** (retry - 1));
  return Math.floor((options.random ?? Math.random)() * ceiling);
}

/** Waits before retry number `retry`. */
export function backoff(retry: number, options: RetryOptions): Promise<void> {
  const ms = backoffDelay(retry, options);
  return (options.sleep ?? sleep)(ms);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Merges partial options over the defaults, keeping `maxAttempts` at least 1. */
export function retryOptions(partial: Partial<RetryOptions> = {}): RetryOptions {
  const merged = { ...DEFAULT_RETRY, ...partial };
  return { ...merged, maxAttempts: Math.max(1, Math.floor(merged.maxAttempts)) };
}
