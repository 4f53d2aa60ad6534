/**
 * A token bucket that paces a producer to `rate` units a second, with bursts of at most `capacity`.
 *
 * `take(n)` may run the bucket into debt: the caller waits until the debt is paid back, so a steady
 * producer taking `n` at a time is released every `n / rate` seconds, and never faster than `rate` on
 * average. Meant for one producer taking in sequence.
 *
 * @example
 * const bucket = new TokenBucket(5_000, 1_000); // 5,000 rows/s, one 1,000-row batch at once
 * for (const batch of batches) { await bucket.take(batch.length); send(batch); }
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    readonly rate: number,
    readonly capacity: number,
    private readonly now: () => number = () => performance.now(),
    private readonly sleep: (ms: number) => Promise<void> = (ms) =>
      new Promise((resolve) => setTimeout(resolve, ms)),
  ) {
    if (!(rate > 0)) throw new RangeError(`rate must be positive, not ${rate}`);
    if (!(capacity > 0)) throw new RangeError(`capacity must be positive, not ${capacity}`);
    this.tokens = capacity;
    this.last = now();
  }

  /** Takes `n` tokens, waiting for them when the bucket holds fewer. */
  async take(n: number): Promise<void> {
    const now = this.now();
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.last) / 1000) * this.rate);
    this.last = now;
    this.tokens -= n;
    if (this.tokens < 0) await this.sleep((-this.tokens / this.rate) * 1000);
  }
}
