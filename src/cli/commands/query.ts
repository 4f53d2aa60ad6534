import { parseArgs } from 'node:util';
import { PgWarehouse } from '../../adapters/pg-warehouse.js';
import { createLakeViews } from '../../analytics/lake-views.js';
import { readStackSettings } from '../../config/local.js';
import { LocalLake } from '../../local/lake.js';
import { readStackInfo } from '../../local/stack.js';
import { CliError, UsageError } from '../errors.js';
import { HELP_OPTION, printUsage } from '../help.js';
import { formatTable } from '../table.js';

export const queryUsage = `ecomflow query [--json] "<SQL>"   Athena-dialect SQL on DuckDB over the local lake (table invoice_lines)`;
export const sqlUsage = `ecomflow sql [--json] "<SQL>"     SQL on the local warehouse (the embedded PostgreSQL)`;

/** The SQL and `--json`, or null after `--help` printed the usage. */
function parse(argv: string[], usage: string): { sql: string; json: boolean } | null {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { ...HELP_OPTION, json: { type: 'boolean' } },
  });
  if (values.help) {
    printUsage(usage);
    return null;
  }
  if (positionals.length !== 1) throw new UsageError(`expected one SQL statement in quotes\n\n${usage}`);
  return { sql: positionals[0]!, json: values.json ?? false };
}

function print(rows: Record<string, unknown>[], json: boolean): void {
  // With --json, stdout carries the JSON array and nothing else.
  console.log(json ? JSON.stringify(rows) : formatTable(rows));
}

export async function queryCommand(argv: string[]): Promise<void> {
  const args = parse(argv, queryUsage);
  if (!args) return;
  const { sql, json } = args;
  const info = await readStackInfo(readStackSettings().home).catch((err: Error) => {
    throw new CliError(err.message, { cause: err });
  });
  const lake = await LocalLake.open(info.lakeGlob, info.quarantineGlob);
  try {
    // The Athena views (daily_revenue, top_products, ...) exist locally too, over the same lake.
    await createLakeViews(lake);
    print(await lake.query(sql).catch(failed), json);
  } finally {
    lake.close();
  }
}

export async function sqlCommand(argv: string[]): Promise<void> {
  const args = parse(argv, sqlUsage);
  if (!args) return;
  const { sql, json } = args;
  const info = await readStackInfo(readStackSettings().home).catch((err: Error) => {
    throw new CliError(err.message, { cause: err });
  });
  const warehouse = new PgWarehouse(info.warehouseUrl);
  try {
    print(
      await warehouse.query(sql).catch((err: Error & { code?: string }) => {
        if (err.code === 'ECONNREFUSED')
          throw new CliError(
            `the local warehouse is not running at ${info.warehouseUrl}: start it with \`npm start\``,
            { code: 'not_running' },
          );
        return failed(err);
      }),
      json,
    );
  } finally {
    await warehouse.close();
  }
}

function failed(err: Error): never {
  throw new CliError(`query failed: ${err.message}`);
}
