import type { ReplayError } from './errors.js';
import { emptySummary, type ReplaySummary, type ReplayTimes } from './summary.js';

/**
 * Defaults of `ecomflow replay`. 5,000 rows/s is the pipeline's throughput goal, so a plain replay shows the
 * freshness a shop sees at that load rather than the queueing of an overload; `rate: 0` lifts the limit.
 * 1,000-row batches are 2 PutRecords calls each and ~100 KB bodies, far below the API's 5 MB cap.
 */
export const REPLAY_DEFAULTS = {
  rate: 5_000,
  batchRows: 1_000,
  inFlight: 4,
  /** Attempts of a POST that failed with a 5xx or a connection error; re-posting is safe (idempotent). */
  attempts: 3,
  /** Freshness probes running at once; a POST answered while all are busy is not sampled. */
  maxProbes: 8,
  /** The shortest wait between two GETs of a probe; it grows to 5% of the time waited (at most 250 ms). */
  probeIntervalMs: 25,
  probeTimeoutMs: 60_000,
  /** Invoices of the final batch probed to know when everything is visible... */
  drainProbes: 4,
  /** ...for at most this long after the last POST: a backlog behind an unlimited replay takes time. */
  drainTimeoutMs: 15 * 60_000,
} as const;

export type ProbeSettings = Pick<
  typeof REPLAY_DEFAULTS,
  'maxProbes' | 'probeIntervalMs' | 'probeTimeoutMs' | 'drainTimeoutMs'
>;

const REQUEST_TIMEOUT_MS = 60_000;

/**
 * The state one replay's posting and probing share: the API, the summary being counted, the clock marks,
 * and the first failure, which aborts every request and probe still under way.
 */
export class ReplaySession {
  readonly summary: ReplaySummary;
  readonly times: ReplayTimes = { firstPost: 0, lastAnswer: 0, lastVisible: 0, freshness: [] };
  private readonly abort = new AbortController();
  private firstFailure: ReplayError | null = null;

  constructor(
    readonly apiUrl: string,
    readonly apiKey: string,
    file: string,
    settings: ReplaySummary['settings'],
    readonly probes: ProbeSettings,
  ) {
    this.summary = emptySummary(file, settings);
  }

  get failure(): ReplayError | null {
    return this.firstFailure;
  }

  get aborted(): boolean {
    return this.abort.signal.aborted;
  }

  /** Records the first failure and aborts what is under way; later failures are consequences, not causes. */
  fail(error: ReplayError): void {
    if (this.firstFailure) return;
    this.firstFailure = error;
    this.abort.abort(error);
  }

  /** A request's signal: aborted with the replay, or after the request timeout. */
  signal(): AbortSignal {
    return AbortSignal.any([this.abort.signal, AbortSignal.timeout(REQUEST_TIMEOUT_MS)]);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A fetch failure's message with its cause (`fetch failed (ECONNREFUSED: ...)`). */
export function reason(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause as { code?: string; message?: string } | undefined;
  return cause?.code ? `${error.message} (${cause.code}: ${cause.message})` : error.message;
}
