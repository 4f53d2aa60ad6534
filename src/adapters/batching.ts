import { mapLimit } from '../task-pool.js';
import { describeError, type EntryFailure } from './errors.js';
import { backoff, type RetryOptions } from './retry.js';

/** Splitting work into service-sized requests, and running them with bounded concurrency. */

export interface ChunkLimits {
  maxCount: number;
  maxBytes: number;
}

/**
 * Groups `indexes` in order into chunks of at most `maxCount` entries and `maxBytes` bytes.
 * An entry larger than `maxBytes` on its own must be filtered out by the caller first.
 *
 * @example chunkBySize([0, 1, 2], (i) => 2, { maxCount: 2, maxBytes: 10 }) // [[0, 1], [2]]
 */
export function chunkBySize(
  indexes: readonly number[],
  sizeOf: (index: number) => number,
  limits: ChunkLimits,
): number[][] {
  const chunks: number[][] = [];
  let current: number[] = [];
  let bytes = 0;
  for (const index of indexes) {
    const size = sizeOf(index);
    if (current.length > 0 && (current.length >= limits.maxCount || bytes + size > limits.maxBytes)) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(index);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/**
 * What a service said about one entry of a request: `null` when stored. `final` marks an entry the service
 * refused for what it is (a ValidationException), which no retry can store.
 */
export type EntryOutcome = { errorCode: string; errorMessage: string; final?: boolean } | null;

export interface EntryRetryOptions {
  /** Byte size of each entry, as the service counts it against its request limit. */
  sizes: readonly number[];
  limits: ChunkLimits;
  retry: RetryOptions;
  concurrency: number;
  /** Entries refused up front (too large, bad key): never sent. */
  refused?: ReadonlyMap<number, EntryFailure>;
  /** Sends one request; returns one outcome per entry of `chunk`, in order. */
  send: (chunk: readonly number[]) => Promise<readonly EntryOutcome[]>;
}

export interface EntryRetryResult {
  acknowledged: boolean[];
  /** Entries still not stored, by index, with the last reason. */
  failures: EntryFailure[];
  attempts: number;
  /** The last whole-request error, if any. */
  lastError: unknown;
}

/**
 * The retry loop of batch APIs that can partly fail (PutRecords, PutRecordBatch).
 *
 * Each round chunks the pending entries, sends the chunks, and keeps for the next round only the entries
 * that the service refused in its answer (FailedRecordCount, FailedPutCount, UnprocessedItems), so an
 * acknowledged entry is never sent twice. Whole requests are the SDK's to retry (sdkRetryStrategy in
 * aws.ts): a request error that escapes it is final, and its entries are reported, not resent. Rounds are
 * separated by jittered exponential backoff and bounded by `retry.maxAttempts`.
 */
export async function sendWithEntryRetries(options: EntryRetryOptions): Promise<EntryRetryResult> {
  const { sizes, retry } = options;
  const acknowledged: boolean[] = new Array(sizes.length).fill(false);
  const failures = new Map<number, EntryFailure>(options.refused ?? []);
  let pending = sizes.map((_, i) => i).filter((i) => !failures.has(i));
  let attempts = 0;
  let lastError: unknown;
  while (pending.length > 0 && attempts < retry.maxAttempts) {
    attempts++;
    if (attempts > 1) await backoff(attempts - 1, retry);
    const chunks = chunkBySize(pending, (i) => sizes[i]!, options.limits);
    const next: number[] = [];
    await mapLimit(chunks, options.concurrency, async (chunk) => {
      let outcomes: readonly EntryOutcome[];
      try {
        outcomes = await options.send(chunk);
      } catch (error) {
        lastError = error;
        const described = describeError(error);
        for (const index of chunk) failures.set(index, { index, ...described });
        return;
      }
      chunk.forEach((index, j) => {
        const outcome = j < outcomes.length ? outcomes[j]! : MISSING_RESULT;
        if (outcome === null) {
          acknowledged[index] = true;
          failures.delete(index);
        } else {
          failures.set(index, { index, errorCode: outcome.errorCode, errorMessage: outcome.errorMessage });
          if (!('final' in outcome && outcome.final)) next.push(index);
        }
      });
    });
    pending = next.sort((a, b) => a - b);
  }
  return {
    acknowledged,
    failures: [...failures.values()].sort((a, b) => a.index - b.index),
    attempts,
    lastError,
  };
}

const MISSING_RESULT = {
  errorCode: 'MissingResult',
  errorMessage: 'the response has no result for this entry',
} as const;
