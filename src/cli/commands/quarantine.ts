import { parseArgs } from 'node:util';
import { findSqlRoot, loadLakeQueries } from '../../analytics/models.js';
import { readStackSettings } from '../../config/local.js';
import { QUARANTINE_TABLE } from '../../core/quarantine.js';
import { LocalLake } from '../../local/lake.js';
import { readStackInfo } from '../../local/stack.js';
import { CliError, UsageError } from '../errors.js';
import { formatCount } from '../progress.js';
import { formatTable } from '../table.js';

export const quarantineUsage = `ecomflow quarantine [--json] [--reason R] [--source api|stream|batch] [--day YYYY-MM-DD]

Counts the local stack's quarantined rows by day, source and reason (the named query
quarantine_by_reason, as on Athena). --json prints the rows themselves, with their origin and message,
filtered by --reason, --source and --day. The same rows are the table "quarantine" of \`ecomflow query\`.`;

/** The named query that counts the quarantine: one SQL text here and on Athena. */
const COUNT_QUERY = 'quarantine_by_reason';

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
  if (positionals.length > 0)
    throw new UsageError(`unexpected argument "${positionals[0]}"\n\n${quarantineUsage}`);
  if (values.day !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(values.day)) {
    throw new UsageError(`--day must be YYYY-MM-DD, not "${values.day}"`);
  }
  const info = await readStackInfo(readStackSettings().home).catch((err: Error) => {
    throw new CliError(err.message, { cause: err });
  });
  const lake = await LocalLake.open(info.lakeGlob, info.quarantineGlob);
  try {
    if (values.json) {
      const filters = [
        ['reason', values.reason],
        ['source', values.source],
        ['quarantine_date', values.day],
      ].flatMap(([column, value]) =>
        value === undefined ? [] : [`${column} = '${value.replace(/'/g, "''")}'`],
      );
      const rows = await lake.query(
        `SELECT * FROM ${QUARANTINE_TABLE}${filters.length > 0 ? ` WHERE ${filters.join(' AND ')}` : ''} ORDER BY quarantined_at, line`,
      );
      console.log(JSON.stringify(rows));
      return;
    }
    const query = (await loadLakeQueries(findSqlRoot())).find((q) => q.name === COUNT_QUERY)!;
    const counts = await lake.query(query.sql);
    const total = counts.reduce((n, r) => n + Number(r['quarantined']), 0);
    console.log(`${formatCount(total)} quarantined rows`);
    if (counts.length > 0) console.log(formatTable(counts));
  } finally {
    lake.close();
  }
}
