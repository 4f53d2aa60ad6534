import { parseArgs } from 'node:util';
import { readStackSettings } from '../../config/local.js';
import { readStackInfo } from '../../local/stack.js';
import { REPLAY_ERROR_CODES, ReplayError } from '../../replay/errors.js';
import { replay } from '../../replay/replay.js';
import { REPLAY_DEFAULTS } from '../../replay/session.js';
import type { ReplaySummary } from '../../replay/summary.js';
import { CliError, UsageError } from '../errors.js';
import { HELP_OPTION, printUsage } from '../help.js';
import { formatCount, ProgressBar } from '../progress.js';

export const replayUsage = `ecomflow replay <file> [--rate rows/s] [--batch rows] [--in-flight n] [--limit rows] [--ack-log file] [--json]

Streams a CSV (.csv or .csv.gz; - reads standard input) through POST /ingest of the running local stack, as a
shop's traffic would arrive: --rate rows a second (${REPLAY_DEFAULTS.rate}; 0 for as fast as the API answers),
in batches of --batch rows (${REPLAY_DEFAULTS.batchRows}) that repeat the file's header, --in-flight requests at once
(${REPLAY_DEFAULTS.inFlight}).
Prints the throughput and the freshness (POST until its lines show in GET /invoices/{no}) as p50 and p99.
--ack-log appends "line_id<TAB>invoice_no" for each row the API acknowledged. --json prints the summary.`;

/** `ecomflow replay`: exits non-zero when the replay stopped early (the summary says why). */
export async function replayCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      ...HELP_OPTION,
      rate: { type: 'string' },
      batch: { type: 'string' },
      'in-flight': { type: 'string' },
      limit: { type: 'string' },
      'ack-log': { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  if (values.help) return printUsage(replayUsage);
  if (positionals.length !== 1) throw new UsageError(`expected one file to replay\n\n${replayUsage}`);
  const rate = wholeNumber('--rate', values.rate, REPLAY_DEFAULTS.rate, 0);
  const batchRows = wholeNumber('--batch', values.batch, REPLAY_DEFAULTS.batchRows, 1);
  const inFlight = wholeNumber('--in-flight', values['in-flight'], REPLAY_DEFAULTS.inFlight, 1);
  const limit = values.limit === undefined ? undefined : wholeNumber('--limit', values.limit, 0, 1);

  const info = await readStackInfo(readStackSettings().home).catch((err: Error) => {
    throw new CliError(err.message, { cause: err });
  });
  await fetch(`${info.apiUrl}/health`, { signal: AbortSignal.timeout(5_000) }).catch(() => {
    throw new CliError(
      `the local stack is not running at ${info.apiUrl}: start it with \`npm start\` (or set ECOMFLOW_HOME)`,
      { code: 'not_running' },
    );
  });

  const bar = new ProgressBar('replay');
  let barOpen = true;
  const closeBar = () => {
    if (barOpen) bar.done();
    barOpen = false;
  };
  let summary: ReplaySummary;
  try {
    summary = await replay({
      file: positionals[0]!,
      apiUrl: info.apiUrl,
      apiKey: info.apiKey,
      rate,
      batchRows,
      inFlight,
      ...(limit === undefined ? {} : { limit }),
      ...(values['ack-log'] ? { ackLog: values['ack-log'] } : {}),
      onProgress: (p) => bar.update(p.bytesRead, p.totalBytes, p.rowsSent),
      onDrain: () => {
        closeBar();
        console.error(
          'ecomflow replay: every row is posted; waiting until the last ones show in GET /invoices',
        );
      },
    });
  } catch (err) {
    if (err instanceof ReplayError && err.code === REPLAY_ERROR_CODES.bad_input) {
      throw new CliError(err.message, { cause: err });
    }
    throw err;
  } finally {
    closeBar();
  }
  console.log(values.json ? JSON.stringify(summary) : formatSummary(summary));
  if (summary.error) throw new CliError(`stopped early: ${summary.error}`);
}

/** The summary as a few readable lines. */
export function formatSummary(s: ReplaySummary): string {
  const seconds = (ms: number | null) => (ms === null ? '-' : `${(ms / 1000).toFixed(2)} s`);
  const e2e = s.end_to_end
    ? `${formatCount(s.end_to_end.rows_per_s)} rows/s end to end (${s.end_to_end.seconds.toFixed(1)} s until every line was visible)`
    : 'end to end: not every line was seen';
  const f = s.freshness;
  return [
    `replayed ${formatCount(s.rows)} rows of ${s.file} in ${formatCount(s.requests)} POSTs: ${e2e}`,
    `  ingest      ${formatCount(s.ingest.rows_per_s)} rows/s (${s.ingest.seconds.toFixed(1)} s; rate ${s.settings.rate === null ? 'unlimited' : `${formatCount(s.settings.rate)} rows/s`}, ${s.settings.batch_rows} rows a batch, ${s.settings.in_flight} in flight, ${s.retries} retries)`,
    `  rows        ${formatCount(s.accepted)} accepted, ${formatCount(s.rejected)} rejected (the core expected ${formatCount(s.expected.accepted)} and ${formatCount(s.expected.rejected)}; ${formatCount(s.expected.distinct_lines)} distinct lines)`,
    `  freshness   p50 ${seconds(f.p50_ms)}  p99 ${seconds(f.p99_ms)}  max ${seconds(f.max_ms)}  (POST until GET /invoices/{no} shows its lines; ${f.probes} probes, ${f.timed_out} timed out, ${f.skipped} not sampled)`,
    ...(s.error ? [`  stopped     ${s.error}`] : []),
  ].join('\n');
}

function wholeNumber(flag: string, text: string | undefined, fallback: number, min: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < min) {
    throw new UsageError(`${flag} must be a whole number of at least ${min}, not "${text}"`);
  }
  return value;
}
