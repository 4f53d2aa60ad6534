/**
 * Bounded concurrency with first-failure capture: at most `limit` tasks in flight; the first task that
 * throws stops new work from starting, and `drain()` rethrows it once every started task has settled.
 * One implementation for every producer that must not outrun its consumer (a replay's POSTs, a load's
 * BatchWriteItem requests, the lake's part uploads, a batch of Kinesis records).
 *
 * @example
 * const pool = new TaskPool(4);
 * for (const chunk of chunks) await pool.run(() => send(chunk)); // waits while 4 are in flight
 * await pool.drain();                                            // throws the first failure, if any
 */
export class TaskPool {
  private readonly running = new Set<Promise<void>>();
  private firstFailure: { error: unknown } | null = null;

  constructor(private readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1)
      throw new RangeError(`limit must be a whole number ≥ 1, not ${limit}`);
  }

  /** True once a task has thrown: producers stop reading input. */
  get failed(): boolean {
    return this.firstFailure !== null;
  }

  /** The number of tasks in flight. */
  get size(): number {
    return this.running.size;
  }

  /**
   * Starts `task` once fewer than `limit` are in flight. Resolves when it has started, not finished.
   * After a failure it starts nothing and resolves at once (check `failed`, then call `drain()`).
   */
  async run(task: () => Promise<void>): Promise<void> {
    while (this.running.size >= this.limit && !this.firstFailure) await Promise.race(this.running);
    if (this.firstFailure) return;
    const p: Promise<void> = task()
      .catch((error: unknown) => {
        this.firstFailure ??= { error };
      })
      .finally(() => this.running.delete(p));
    this.running.add(p);
  }

  /** Waits for every started task; throws the first failure. */
  async drain(): Promise<void> {
    while (this.running.size > 0) await Promise.all(this.running);
    if (this.firstFailure) throw this.firstFailure.error;
  }
}

/** Runs `work` over `items` with at most `limit` in flight; resolves when all have settled, or throws the first failure. */
export async function mapLimit<T>(
  items: readonly T[],
  limit: number,
  work: (item: T, index: number) => Promise<void>,
): Promise<void> {
  const pool = new TaskPool(Math.max(1, Math.min(limit, items.length || 1)));
  for (let i = 0; i < items.length && !pool.failed; i++) {
    const item = items[i]!;
    const index = i;
    await pool.run(() => work(item, index));
  }
  await pool.drain();
}
