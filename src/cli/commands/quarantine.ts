import { parseArgs } from 'node:util';
import { type LakeQuery, loadLakeQuery } from '../../analytics/models.js';
import { readStackSettings } from '../../config/local.js';
import { QUARANTINE_TABLE, type QuarantineRecord } from '../../core/quarantine.js';
import { planRecheck } from '../../core/recheck.js';
import { LocalLake } from '../../local/lake.js';
import { readStackInfo, type StackInfo } from '../../local/stack.js';
import { dayOption } from '../day.js';
import { CliError, UsageError } from '../errors.js';
import { formatCount } from '../progress.js';
import { formatTable } from '../table.js';

export const quarantineUsage = `ecomflow quarantine [recheck] [--json] [--reason R] [--source api|stream|batch] [--day YYYY-MM-DD]

Counts the local stack's quarantined rows by day, source and reason (the named query
quarantine_by_reason, as on Athena). --json prints the rows themselves, with their origin and message,
filtered by --reason, --source and --day. The same rows are the table "quarantine" of \`ecomflow query\`.

recheck runs the (filtered) quarantined rows through today's rules and posts those that clean now through
POST /ingest, the path of new rows; line_id makes a second recheck store nothing twice. A CSV row is read
with the "Online Retail" header (the quarantine keeps the record, not its file's header).`;

/** The named query that counts the quarantine: one SQL text here and on Athena. */
const COUNT_QUERY: LakeQuery = 'quarantine_by_reason';

export async function quarantineCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      json: { type: 'boolean' },
      reason: { type: 'string' },
      source: { type: 'string' },
      day: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(quarantineUsage);
    return;
  }
  const [action, ...extra] = positionals;
  if ((action !== undefined && action !== 'recheck') || extra.length > 0) {
    throw new UsageError(
      `unexpected argument "${action === 'recheck' ? extra[0] : action}"\n\n${quarantineUsage}`,
    );
  }
  const day = dayOption('day', values.day);
  const info = await readStackInfo(readStackSettings().home).catch((err: Error) => {
    throw new CliError(err.message, { cause: err });
  });
  const lake = await LocalLake.open(info.lakeGlob, info.quarantineGlob);
  try {
    const filters = [
      ['reason', values.reason],
      ['source', values.source],
      ['quarantine_date', day],
    ].flatMap(([column, value]) =>
      value === undefined ? [] : [`${column} = '${value.replace(/'/g, "''")}'`],
    );
    const selected = () =>
      lake.query(
        `SELECT * FROM ${QUARANTINE_TABLE}${filters.length > 0 ? ` WHERE ${filters.join(' AND ')}` : ''} ORDER BY quarantined_at, line`,
      );
    if (action === 'recheck') {
      const rows = (await selected()) as unknown as QuarantineRecord[];
      const result = await recheck(rows, info);
      console.log(values.json ? JSON.stringify(result) : describeRecheck(rows.length, result));
      return;
    }
    if (values.json) {
      console.log(JSON.stringify(await selected()));
      return;
    }
    const query = await loadLakeQuery(COUNT_QUERY);
    const counts = await lake.query(query.sql);
    const total = counts.reduce((n, r) => n + Number(r['quarantined']), 0);
    console.log(`${formatCount(total)} quarantined rows`);
    if (counts.length > 0) console.log(formatTable(counts));
  } finally {
    lake.close();
  }
}

interface RecheckResult {
  rechecked: number;
  cleanNow: number;
  accepted: number;
  stillRefused: Partial<Record<string, number>>;
  skipped: { stream_reason: number; needs_header: number };
}

/** Posts what cleans now through the API, in bodies of at most RECHECK_BATCH rows. */
async function recheck(rows: readonly QuarantineRecord[], info: StackInfo): Promise<RecheckResult> {
  const plan = planRecheck(rows);
  let accepted = 0;
  const post = async (contentType: string, body: string) => {
    const response = await fetch(`${info.apiUrl}/ingest`, {
      method: 'POST',
      headers: { 'content-type': contentType, 'x-api-key': info.apiKey },
      body,
    }).catch((cause: Error) => {
      throw new CliError(`the API at ${info.apiUrl} does not answer: ${cause.message}`, { cause });
    });
    const answer = (await response.json().catch(() => ({}))) as { accepted?: number; message?: string };
    if (response.status !== 202) {
      throw new CliError(`POST /ingest answered ${response.status}: ${answer.message ?? 'no message'}`);
    }
    accepted += answer.accepted ?? 0;
  };
  for (let i = 0; i < plan.csv.records.length; i += RECHECK_BATCH) {
    const records = plan.csv.records.slice(i, i + RECHECK_BATCH);
    await post('text/csv; charset=utf-8', `${plan.csv.header}\n${records.join('\n')}\n`);
  }
  for (let i = 0; i < plan.json.length; i += RECHECK_BATCH) {
    await post('application/json', JSON.stringify(plan.json.slice(i, i + RECHECK_BATCH)));
  }
  return {
    rechecked: rows.length,
    cleanNow: plan.csv.records.length + plan.json.length,
    accepted,
    stillRefused: plan.stillRefused,
    skipped: plan.skipped,
  };
}

const RECHECK_BATCH = 1_000;

function describeRecheck(total: number, r: RecheckResult): string {
  const refused = Object.entries(r.stillRefused)
    .map(([reason, n]) => `${reason} ${formatCount(n ?? 0)}`)
    .join(', ');
  return [
    `rechecked ${formatCount(total)} quarantined rows: ${formatCount(r.cleanNow)} clean now, ${formatCount(r.accepted)} accepted by POST /ingest`,
    `  still refused: ${refused || 'none'}`,
    `  not rechecked: ${formatCount(r.skipped.stream_reason)} with a stream reason, ${formatCount(r.skipped.needs_header)} needing their file's header`,
  ].join('\n');
}
