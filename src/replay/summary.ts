/** What `ecomflow replay --json` prints. Times in milliseconds unless named otherwise. */
export interface ReplaySummary {
  file: string;
  /** Data rows read and posted. */
  rows: number;
  /** POSTs answered; `retries` counts the extra attempts. */
  requests: number;
  retries: number;
  accepted: number;
  rejected: number;
  /** What the cleaning core predicted for the rows posted: the API must agree. */
  expected: { accepted: number; rejected: number; distinct_lines: number };
  settings: { rate: number | null; batch_rows: number; in_flight: number };
  /** From the first POST to the last answer. */
  ingest: { seconds: number; rows_per_s: number };
  /** From the first POST until the last batch's lines were visible through GET; null if never seen. */
  end_to_end: { seconds: number; rows_per_s: number } | null;
  /** Time from a POST until the lines of its last invoice are visible through GET /invoices/{no}. */
  freshness: {
    probes: number;
    timed_out: number;
    skipped: number;
    p50_ms: number | null;
    p99_ms: number | null;
    max_ms: number | null;
  };
  /** Why the replay stopped early; null when every row was posted. */
  error: string | null;
}

/** A summary with nothing counted yet. */
export function emptySummary(file: string, settings: ReplaySummary['settings']): ReplaySummary {
  return {
    file,
    rows: 0,
    requests: 0,
    retries: 0,
    accepted: 0,
    rejected: 0,
    expected: { accepted: 0, rejected: 0, distinct_lines: 0 },
    settings,
    ingest: { seconds: 0, rows_per_s: 0 },
    end_to_end: null,
    freshness: { probes: 0, timed_out: 0, skipped: 0, p50_ms: null, p99_ms: null, max_ms: null },
    error: null,
  };
}

/** The clock marks of a replay (`performance.now()`), and the freshness samples. */
export interface ReplayTimes {
  firstPost: number;
  lastAnswer: number;
  lastVisible: number;
  freshness: number[];
}

/**
 * Fills in the figures once the replay is over: ingest throughput, end to end (only when every row was
 * posted and the last ones were seen), and the freshness percentiles.
 */
export function finishSummary(
  summary: ReplaySummary,
  times: ReplayTimes,
  outcome: { error: string | null; drained: boolean; distinctLines: number },
): ReplaySummary {
  const ingestSeconds = times.firstPost > 0 ? (times.lastAnswer - times.firstPost) / 1000 : 0;
  summary.ingest = {
    seconds: ingestSeconds,
    rows_per_s: ingestSeconds > 0 ? summary.rows / ingestSeconds : 0,
  };
  if (!outcome.error && outcome.drained) {
    const seconds = (times.lastVisible - times.firstPost) / 1000;
    summary.end_to_end = { seconds, rows_per_s: summary.rows / seconds };
  }
  summary.expected.distinct_lines = outcome.distinctLines;
  const freshness = [...times.freshness].sort((a, b) => a - b);
  summary.freshness.p50_ms = percentile(freshness, 0.5);
  summary.freshness.p99_ms = percentile(freshness, 0.99);
  summary.freshness.max_ms = freshness.at(-1) ?? null;
  summary.error = outcome.error;
  return summary;
}

/**
 * The value below which a fraction `p` of sorted `values` lie (nearest rank); null for none.
 * @example percentile([1, 2, 3, 4], 0.5) // 2
 */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.ceil(p * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}
