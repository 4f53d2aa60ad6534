import { createReadStream } from 'node:fs';
import { appendFile, open, stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { cleanRow, isRejection } from '../core/clean.js';
import { CsvParser, type CsvRecord } from '../core/csv.js';
import { StreamDecoder } from '../core/decode.js';
import { HeaderError } from '../core/errors.js';
import { type ColumnIndex, resolveHeader } from '../core/header.js';
import { LineIdSet } from '../core/id-set.js';
import { REPLAY_ERROR_CODES, ReplayError } from './errors.js';
import { TokenBucket } from './token-bucket.js';

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

/** A batch body stays far below the API's 5 MB limit even when rows are long. */
const MAX_BATCH_CHARS = 2 * 1024 * 1024;
const REQUEST_TIMEOUT_MS = 60_000;

export interface ReplayOptions {
  file: string;
  apiUrl: string;
  apiKey: string;
  /** Rows a second; 0 for as fast as the API answers. */
  rate?: number;
  batchRows?: number;
  /** POSTs in flight at once. */
  inFlight?: number;
  /** Replay only the first `limit` data rows. */
  limit?: number;
  /** Appends `line_id<TAB>invoice_no` for every row of every batch the API acknowledged with 202. */
  ackLog?: string;
  /** Overrides of the probing defaults (tests make them short). */
  probes?: Partial<
    Pick<typeof REPLAY_DEFAULTS, 'maxProbes' | 'probeIntervalMs' | 'probeTimeoutMs' | 'drainTimeoutMs'>
  >;
  onProgress?: (progress: ReplayProgress) => void;
  /** Called once every row is posted, when the replay starts waiting for the last lines to show. */
  onDrain?: () => void;
}

export interface ReplayProgress {
  bytesRead: number;
  totalBytes: number;
  rowsSent: number;
}

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

interface Batch {
  raws: string[];
  chars: number;
  /** line_id and invoice of each row the core accepts. */
  lines: { lineId: string; invoiceNo: string }[];
  rejected: number;
}

/**
 * Streams a CSV (or .csv.gz) file through `POST /ingest` of a running stack, as a shop's traffic would
 * arrive: in CSV batches that repeat the file's header, paced by a token bucket, a few requests in flight.
 *
 * Freshness is measured exactly: each row goes through the cleaning core (`cleanRow` with the header's
 * column index), so the replay knows the line_id of every row it posts. After a POST is answered, the last
 * invoice of its batch is polled through `GET /invoices/{no}` until every line of that invoice the POST
 * carried is listed. Checking the ids rather than `line_count` stays exact when an invoice spans batches,
 * or already has lines from an earlier load. (Lines the stack already held are visible at once: replaying
 * the same file twice measures nothing the second time.)
 *
 * A 5xx or a connection error is retried (re-posting is safe: lines are idempotent by line_id); when the
 * retries run out, or the API refuses a request, the replay stops sending, waits for the requests in
 * flight and resolves with `error` set: it never hangs on a stack that went away.
 *
 * @throws ReplayError when the file cannot be read or its header lacks required columns
 * @example const summary = await replay({ file: 'data.csv.gz', apiUrl, apiKey, rate: 0 });
 */
export async function replay(options: ReplayOptions): Promise<ReplaySummary> {
  const rate = options.rate ?? REPLAY_DEFAULTS.rate;
  const batchRows = options.batchRows ?? REPLAY_DEFAULTS.batchRows;
  const inFlightLimit = options.inFlight ?? REPLAY_DEFAULTS.inFlight;
  const probeSettings = { ...REPLAY_DEFAULTS, ...options.probes };
  const bucket = rate > 0 ? new TokenBucket(rate, batchRows) : null;
  const headers = { 'content-type': 'text/csv; charset=utf-8', 'x-api-key': options.apiKey };
  // Aborts probes and requests once the replay has failed.
  const abort = new AbortController();

  const seen = new LineIdSet(1 << 16);
  const summary: ReplaySummary = {
    file: options.file,
    rows: 0,
    requests: 0,
    retries: 0,
    accepted: 0,
    rejected: 0,
    expected: { accepted: 0, rejected: 0, distinct_lines: 0 },
    settings: { rate: rate > 0 ? rate : null, batch_rows: batchRows, in_flight: inFlightLimit },
    ingest: { seconds: 0, rows_per_s: 0 },
    end_to_end: null,
    freshness: { probes: 0, timed_out: 0, skipped: 0, p50_ms: null, p99_ms: null, max_ms: null },
    error: null,
  };
  let failure: ReplayError | null = null;
  const fail = (error: ReplayError) => {
    if (failure) return;
    failure = error;
    abort.abort(error);
  };

  let firstPost = 0;
  let lastAnswer = 0;
  const freshness: number[] = [];
  let lastVisible = 0;
  const probes = new Set<Promise<boolean>>();
  let ackChain: Promise<void> = Promise.resolve();

  /**
   * Polls until the invoice lists every id in `expected`; records the time since `postedAt`. Resolves to
   * whether they were seen.
   */
  const probe = async (
    invoiceNo: string,
    expected: string[],
    postedAt: number,
    sample: boolean,
  ): Promise<boolean> => {
    const url = `${options.apiUrl}/invoices/${encodeURIComponent(invoiceNo)}`;
    const deadline = postedAt + (sample ? probeSettings.probeTimeoutMs : probeSettings.drainTimeoutMs);
    let unreachable = 0;
    while (!abort.signal.aborted) {
      let response: Response;
      try {
        response = await fetch(url, {
          headers: { 'x-api-key': options.apiKey },
          signal: AbortSignal.any([abort.signal, AbortSignal.timeout(REQUEST_TIMEOUT_MS)]),
        });
        unreachable = 0;
      } catch (error) {
        if (abort.signal.aborted) return false;
        if (++unreachable >= REPLAY_DEFAULTS.attempts) {
          fail(
            new ReplayError(
              REPLAY_ERROR_CODES.unavailable,
              `GET /invoices/${invoiceNo} failed ${unreachable} times, last: ${reason(error)}`,
              { cause: error },
            ),
          );
          return false;
        }
        await new Promise((resolve) => setTimeout(resolve, 250 * unreachable));
        continue;
      }
      {
        const body = (await response.json().catch(() => ({}))) as { lines?: { line_id?: string }[] };
        const now = performance.now();
        if (response.status === 200 && listsAll(body.lines ?? [], expected)) {
          if (sample) freshness.push(now - postedAt);
          lastVisible = Math.max(lastVisible, now);
          return true;
        }
        if (response.status !== 200 && response.status !== 404) {
          fail(
            new ReplayError(
              REPLAY_ERROR_CODES.refused,
              `GET /invoices/${invoiceNo} answered ${response.status}: ${JSON.stringify(body)}`,
            ),
          );
          return false;
        }
      }
      if (performance.now() >= deadline) {
        if (sample) summary.freshness.timed_out++;
        return false;
      }
      // Poll often while the wait is short and less as it grows: the error stays within ~5% of the
      // figure, and a backlog is not made worse by the probes' own reads.
      const waited = performance.now() - postedAt;
      const interval = Math.min(250, Math.max(probeSettings.probeIntervalMs, waited * 0.05));
      await new Promise((resolve) => setTimeout(resolve, interval));
    }
    return false;
  };
  const startProbe = (invoiceNo: string, expected: string[], postedAt: number, sample: boolean) => {
    const p = probe(invoiceNo, expected, postedAt, sample).finally(() => probes.delete(p));
    probes.add(p);
  };

  /** One batch through POST /ingest, retried on 5xx and connection errors. */
  const post = async (batch: Batch, body: string) => {
    for (let attempt = 1; ; attempt++) {
      if (failure) return;
      const postedAt = performance.now();
      let status: number;
      let result: { accepted?: number; rejected?: number; error?: string; message?: string };
      try {
        const response = await fetch(`${options.apiUrl}/ingest`, {
          method: 'POST',
          headers,
          body,
          signal: AbortSignal.any([abort.signal, AbortSignal.timeout(REQUEST_TIMEOUT_MS)]),
        });
        status = response.status;
        result = (await response.json().catch(() => ({}))) as typeof result;
      } catch (error) {
        if (failure) return;
        if (attempt >= REPLAY_DEFAULTS.attempts) {
          fail(
            new ReplayError(
              REPLAY_ERROR_CODES.unavailable,
              `POST /ingest failed ${attempt} times, last: ${reason(error)}`,
              { cause: error },
            ),
          );
          return;
        }
        summary.retries++;
        await new Promise((resolve) => setTimeout(resolve, 250 * attempt));
        continue;
      }
      lastAnswer = performance.now();
      if (status === 202) {
        summary.requests++;
        summary.accepted += result.accepted ?? 0;
        summary.rejected += result.rejected ?? 0;
        if (options.ackLog && batch.lines.length > 0) {
          const text = batch.lines.map((l) => `${l.lineId}\t${l.invoiceNo}\n`).join('');
          const file = options.ackLog;
          ackChain = ackChain.then(() => appendFile(file, text));
        }
        const last = lastInvoices(batch, 1)[0];
        if (last) {
          if (probes.size < probeSettings.maxProbes) {
            summary.freshness.probes++;
            startProbe(last.invoiceNo, last.lineIds, postedAt, true);
          } else {
            summary.freshness.skipped++;
          }
        }
        return;
      }
      if (status === 400 && result.error === 'no_valid_rows') {
        // Every row of the batch was invalid: an answer, not a failure (the rows are quarantined).
        summary.requests++;
        summary.rejected += result.rejected ?? 0;
        return;
      }
      if (status >= 500 && attempt < REPLAY_DEFAULTS.attempts) {
        summary.retries++;
        await new Promise((resolve) => setTimeout(resolve, 250 * attempt));
        continue;
      }
      fail(
        new ReplayError(
          status >= 500 ? REPLAY_ERROR_CODES.unavailable : REPLAY_ERROR_CODES.refused,
          `POST /ingest answered ${status}${attempt > 1 ? ` after ${attempt} attempts` : ''}: ${result.message ?? JSON.stringify(result)}`,
        ),
      );
      return;
    }
  };

  const inFlight = new Set<Promise<void>>();
  let header: CsvRecord | null = null;
  let columns: ColumnIndex | null = null;
  let batch = newBatch();
  let lastBatch: Batch | null = null;

  const dispatch = async () => {
    const sending = batch;
    batch = newBatch();
    if (bucket) await bucket.take(sending.raws.length);
    while (inFlight.size >= inFlightLimit) await Promise.race(inFlight);
    if (failure) return;
    if (firstPost === 0) firstPost = performance.now();
    summary.rows += sending.raws.length;
    lastBatch = sending;
    const body = `${header!.raw}\n${sending.raws.join('\n')}\n`;
    const p = post(sending, body).finally(() => inFlight.delete(p));
    inFlight.add(p);
  };

  const add = (record: CsvRecord) => {
    batch.raws.push(record.raw);
    batch.chars += record.raw.length + 1;
    const result = record.malformed ? null : cleanRow(record.fields, columns!, record.line, record.raw);
    if (result === null || isRejection(result)) {
      batch.rejected++;
      summary.expected.rejected++;
      return;
    }
    summary.expected.accepted++;
    batch.lines.push({ lineId: result.line_id, invoiceNo: result.invoice_no });
    seen.add(result.line_id);
  };

  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  let read = 0;
  try {
    reading: for await (const chunk of readCsvRecords(options.file)) {
      for (const record of chunk.records) {
        if (!header) {
          header = record;
          columns = headerColumns(options.file, record);
          continue;
        }
        if (read >= limit) break reading;
        read++;
        add(record);
        if (batch.raws.length >= batchRows || batch.chars >= MAX_BATCH_CHARS) await dispatch();
        if (failure) break reading;
      }
      options.onProgress?.({
        bytesRead: chunk.bytesRead,
        totalBytes: chunk.totalBytes,
        rowsSent: summary.rows,
      });
    }
    if (!failure && batch.raws.length > 0) await dispatch();
  } finally {
    await Promise.all(inFlight);
  }
  if (!header) throw new ReplayError(REPLAY_ERROR_CODES.bad_input, `${options.file}: the file is empty`);

  // When everything is posted, the last invoices posted tell when everything is visible.
  const final = lastBatch as Batch | null;
  let drained = false;
  if (!failure && final) {
    options.onDrain?.();
    const visible = await Promise.all(
      lastInvoices(final, REPLAY_DEFAULTS.drainProbes).map((last) =>
        probe(last.invoiceNo, last.lineIds, lastAnswer, false),
      ),
    );
    drained = visible.length > 0 && visible.every(Boolean);
  }
  await Promise.all(probes);
  await ackChain;

  const ingestSeconds = firstPost > 0 ? (lastAnswer - firstPost) / 1000 : 0;
  summary.ingest = {
    seconds: ingestSeconds,
    rows_per_s: ingestSeconds > 0 ? summary.rows / ingestSeconds : 0,
  };
  if (!failure && drained) {
    const seconds = (lastVisible - firstPost) / 1000;
    summary.end_to_end = { seconds, rows_per_s: summary.rows / seconds };
  }
  summary.expected.distinct_lines = seen.size;
  freshness.sort((a, b) => a - b);
  summary.freshness.p50_ms = percentile(freshness, 0.5);
  summary.freshness.p99_ms = percentile(freshness, 0.99);
  summary.freshness.max_ms = freshness.at(-1) ?? null;
  summary.error = (failure as ReplayError | null)?.message ?? null;
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

function newBatch(): Batch {
  return { raws: [], chars: 0, lines: [], rejected: 0 };
}

/** The last `n` invoices of a batch with their line ids in the batch, the last invoice first. */
function lastInvoices(batch: Batch, n: number): { invoiceNo: string; lineIds: string[] }[] {
  const out: { invoiceNo: string; lineIds: string[] }[] = [];
  for (let i = batch.lines.length - 1; i >= 0; i--) {
    const { invoiceNo, lineId } = batch.lines[i]!;
    let entry = out.find((e) => e.invoiceNo === invoiceNo);
    if (!entry) {
      // Lines of an invoice need not be contiguous: keep scanning for the chosen ones.
      if (out.length >= n) continue;
      entry = { invoiceNo, lineIds: [] };
      out.push(entry);
    }
    entry.lineIds.push(lineId);
  }
  return out;
}

function listsAll(lines: readonly { line_id?: string }[], ids: readonly string[]): boolean {
  const listed = new Set(lines.map((l) => l.line_id));
  return ids.every((id) => listed.has(id));
}

function headerColumns(file: string, header: CsvRecord): ColumnIndex {
  try {
    return resolveHeader(header.fields);
  } catch (error) {
    if (error instanceof HeaderError) {
      throw new ReplayError(REPLAY_ERROR_CODES.bad_input, `${file}: ${error.message}`, { cause: error });
    }
    throw error;
  }
}

function reason(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause as { code?: string; message?: string } | undefined;
  return cause?.code ? `${error.message} (${cause.code}: ${cause.message})` : error.message;
}

/**
 * The CSV records of a `.csv` or `.csv.gz` file (gzip is told by its magic bytes), a chunk at a time, with
 * the bytes read so far for a progress bar.
 */
async function* readCsvRecords(
  path: string,
): AsyncGenerator<{ records: CsvRecord[]; bytesRead: number; totalBytes: number }> {
  let totalBytes: number;
  let gzip: boolean;
  try {
    totalBytes = (await stat(path)).size;
    const handle = await open(path, 'r');
    const magic = Buffer.alloc(2);
    await handle.read(magic, 0, 2, 0);
    await handle.close();
    gzip = magic[0] === 0x1f && magic[1] === 0x8b;
  } catch (error) {
    throw new ReplayError(REPLAY_ERROR_CODES.bad_input, `cannot read ${path}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const file = createReadStream(path, { highWaterMark: 1 << 20 });
  let input: Readable = file;
  if (gzip) {
    const gunzip = createGunzip();
    file.on('error', (err) => gunzip.destroy(err));
    input = file.pipe(gunzip);
  }
  const decoder = new StreamDecoder('auto');
  const parser = new CsvParser();
  try {
    for await (const chunk of input) {
      const records: CsvRecord[] = [];
      parser.push(decoder.write(chunk as Buffer), records);
      yield { records, bytesRead: file.bytesRead, totalBytes };
    }
    const records: CsvRecord[] = [];
    parser.push(decoder.end(), records);
    parser.end(records);
    yield { records, bytesRead: totalBytes, totalBytes };
  } finally {
    file.destroy();
  }
}
