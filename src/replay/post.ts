import { appendFile } from 'node:fs/promises';
import { type Batch, lastInvoices } from './batch.js';
import { REPLAY_ERROR_CODES, ReplayError } from './errors.js';
import type { FreshnessProbes } from './probe.js';
import { isRetryable, retryDelayMs } from './retry.js';
import { REPLAY_DEFAULTS, type ReplaySession, reason, sleep } from './session.js';

/** Appends `line_id<TAB>invoice_no` of acknowledged batches to a file, one append after the other. */
export class AckLog {
  private chain: Promise<void> = Promise.resolve();

  constructor(private readonly file: string) {}

  append(batch: Batch): void {
    if (batch.lines.length === 0) return;
    const text = batch.lines.map((l) => `${l.lineId}\t${l.invoiceNo}\n`).join('');
    this.chain = this.chain.then(() => appendFile(this.file, text));
  }

  /** Waits until every append is written. */
  flush(): Promise<void> {
    return this.chain;
  }
}

/**
 * Posts one batch through `POST /ingest`, retried on a 5xx or a connection error (re-posting is safe:
 * lines are idempotent by line_id). A 202 is counted, logged to `ackLog` and sampled for freshness; a
 * 400 `no_valid_rows` is an answer, not a failure. Anything else, or the retries running out, fails the
 * session. Never throws.
 */
export async function postBatch(
  session: ReplaySession,
  batch: Batch,
  body: string,
  probes: FreshnessProbes,
  ackLog: AckLog | null,
): Promise<void> {
  const { summary, times } = session;
  const headers = { 'content-type': 'text/csv; charset=utf-8', 'x-api-key': session.apiKey };
  for (let attempt = 1; ; attempt++) {
    if (session.failure) return;
    const postedAt = performance.now();
    let status: number;
    let retryAfter: string | null;
    let result: { accepted?: number; rejected?: number; error?: string; message?: string };
    try {
      const response = await fetch(`${session.apiUrl}/ingest`, {
        method: 'POST',
        headers,
        body,
        signal: session.signal(),
      });
      status = response.status;
      retryAfter = response.headers.get('retry-after');
      result = (await response.json().catch(() => ({}))) as typeof result;
    } catch (error) {
      if (session.failure) return;
      if (attempt >= REPLAY_DEFAULTS.attempts) {
        session.fail(
          new ReplayError(
            REPLAY_ERROR_CODES.unavailable,
            `POST /ingest failed ${attempt} times, last: ${reason(error)}`,
            { cause: error },
          ),
        );
        return;
      }
      summary.retries++;
      await sleep(retryDelayMs(null, attempt));
      continue;
    }
    times.lastAnswer = performance.now();
    if (status === 202) {
      summary.requests++;
      summary.accepted += result.accepted ?? 0;
      summary.rejected += result.rejected ?? 0;
      ackLog?.append(batch);
      const last = lastInvoices(batch, 1)[0];
      if (last) probes.sample(last, postedAt);
      return;
    }
    if (status === 400 && result.error === 'no_valid_rows') {
      // Every row of the batch was invalid: an answer, not a failure (the rows are quarantined).
      summary.requests++;
      summary.rejected += result.rejected ?? 0;
      return;
    }
    if (isRetryable(status) && attempt < REPLAY_DEFAULTS.attempts) {
      summary.retries++;
      await sleep(retryDelayMs(retryAfter, attempt));
      continue;
    }
    session.fail(
      new ReplayError(
        isRetryable(status) ? REPLAY_ERROR_CODES.unavailable : REPLAY_ERROR_CODES.refused,
        `POST /ingest answered ${status}${attempt > 1 ? ` after ${attempt} attempts` : ''}: ${result.message ?? JSON.stringify(result)}`,
      ),
    );
    return;
  }
}
