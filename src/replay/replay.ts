import { LineIdSet } from '../core/id-set.js';
import { TaskPool } from '../task-pool.js';
import { type Batch, batchBody, lastInvoices, newBatch } from './batch.js';
import { AckLog, postBatch } from './post.js';
import { FreshnessProbes, probeInvoice } from './probe.js';
import { readRows } from './read.js';
import { type ProbeSettings, REPLAY_DEFAULTS, ReplaySession } from './session.js';
import { finishSummary, type ReplaySummary } from './summary.js';
import { TokenBucket } from './token-bucket.js';

/** A batch body stays far below the API's 5 MB limit even when rows are long. */
const MAX_BATCH_CHARS = 2 * 1024 * 1024;

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
  probes?: Partial<ProbeSettings>;
  onProgress?: (progress: ReplayProgress) => void;
  /** Called once every row is posted, when the replay starts waiting for the last lines to show. */
  onDrain?: () => void;
}

export interface ReplayProgress {
  bytesRead: number;
  totalBytes: number;
  rowsSent: number;
}

/**
 * Streams a CSV (or .csv.gz) file through `POST /ingest` of a running stack, as a shop's traffic would
 * arrive: in CSV batches that repeat the file's header, paced by a token bucket, a few requests in flight.
 *
 * Freshness is measured exactly: each row goes through the cleaning core (the batch source's reader), so
 * the replay knows the line_id of every row it posts. After a POST is answered, the last invoice of its
 * batch is polled through `GET /invoices/{no}` until every line of that invoice the POST carried is
 * listed. Checking the ids rather than `line_count` stays exact when an invoice spans batches, or already
 * has lines from an earlier load. (Lines the stack already held are visible at once: replaying the same
 * file twice measures nothing the second time.)
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
  const inFlight = options.inFlight ?? REPLAY_DEFAULTS.inFlight;
  const session = new ReplaySession(
    options.apiUrl,
    options.apiKey,
    options.file,
    { rate: rate > 0 ? rate : null, batch_rows: batchRows, in_flight: inFlight },
    { ...REPLAY_DEFAULTS, ...options.probes },
  );
  const { summary, times } = session;
  const bucket = rate > 0 ? new TokenBucket(rate, batchRows) : null;
  const posts = new TaskPool(inFlight);
  const probes = new FreshnessProbes(session);
  const ackLog = options.ackLog ? new AckLog(options.ackLog) : null;
  const seen = new LineIdSet(1 << 16);

  let headerRaw = '';
  let batch = newBatch();
  let lastBatch: Batch | null = null;
  // Full batches, cut while a chunk is read; sent, paced, once the chunk is done.
  const full: Batch[] = [];

  const dispatch = async (sending: Batch) => {
    if (bucket) await bucket.take(sending.raws.length);
    await posts.run(async () => {
      if (session.failure) return;
      if (times.firstPost === 0) times.firstPost = performance.now();
      summary.rows += sending.raws.length;
      lastBatch = sending;
      await postBatch(session, sending, batchBody(headerRaw, sending), probes, ackLog);
    });
  };

  try {
    await readRows(options.file, options.limit ?? Number.POSITIVE_INFINITY, {
      header: (raw) => {
        headerRaw = raw;
      },
      row: (raw, line) => {
        batch.raws.push(raw);
        batch.chars += raw.length + 1;
        if (line === null) {
          batch.rejected++;
          summary.expected.rejected++;
        } else {
          summary.expected.accepted++;
          batch.lines.push(line);
          seen.add(line.lineId);
        }
        if (batch.raws.length >= batchRows || batch.chars >= MAX_BATCH_CHARS) {
          full.push(batch);
          batch = newBatch();
        }
      },
      afterChunk: async (bytesRead, totalBytes) => {
        while (full.length > 0 && !session.failure) await dispatch(full.shift()!);
        options.onProgress?.({ bytesRead, totalBytes, rowsSent: summary.rows });
      },
      stopped: () => session.failure !== null,
    });
    while (full.length > 0 && !session.failure) await dispatch(full.shift()!);
    if (!session.failure && batch.raws.length > 0) await dispatch(batch);
  } finally {
    await posts.drain();
  }

  // When everything is posted, the last invoices posted tell when everything is visible.
  const final = lastBatch as Batch | null;
  let drained = false;
  if (!session.failure && final) {
    options.onDrain?.();
    const visible = await Promise.all(
      lastInvoices(final, REPLAY_DEFAULTS.drainProbes).map((target) =>
        probeInvoice(session, target, times.lastAnswer, false),
      ),
    );
    drained = visible.length > 0 && visible.every(Boolean);
  }
  await probes.settle();
  await ackLog?.flush();
  return finishSummary(summary, times, {
    error: session.failure?.message ?? null,
    drained,
    distinctLines: seen.size,
  });
}
