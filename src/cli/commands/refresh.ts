import { parseArgs } from 'node:util';
import { batchWrite, createDocumentClient } from '../../adapters/dynamodb.js';
import { PgWarehouse } from '../../adapters/pg-warehouse.js';
import { AnalyticsError } from '../../analytics/errors.js';
import { publishLoyaltyBalances } from '../../analytics/loyalty-publish.js';
import { MARTS } from '../../analytics/models.js';
import { pgRunner, redactUrl } from '../../analytics/pg-runner.js';
import { refreshWarehouse } from '../../analytics/refresh.js';
import {
  DEFAULT_WAREHOUSE_URL,
  localPipelineConfig,
  readStackSettings,
  resolveWarehouseUrl,
  STACK_VARIABLES,
} from '../../config/local.js';
import { readStackInfo, type StackInfo } from '../../local/stack.js';
import { CliError, UsageError } from '../errors.js';
import { HELP_OPTION, printUsage } from '../help.js';
import { formatCount } from '../progress.js';

export const refreshUsage = `ecomflow refresh [--url <postgres-url>] [--full]

Rebuilds staging and the marts (warehouse/*.sql) on the local warehouse, in one transaction; running it
twice changes nothing. The warehouse is --url, else $${STACK_VARIABLES.warehouseUrl}, else the running local
stack's, else ${DEFAULT_WAREHOUSE_URL}. --full rebuilds staging from all of
raw (after raw was reloaded). When the warehouse is the running local stack's, the loyalty balances are
then published to its DynamoDB, as the refresh function does on AWS after running the same SQL on
Redshift.`;

export async function refreshCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { ...HELP_OPTION, url: { type: 'string' }, full: { type: 'boolean' } },
  });
  if (values.help) return printUsage(refreshUsage);
  if (positionals.length > 0)
    throw new UsageError(`unexpected argument "${positionals[0]}"\n\n${refreshUsage}`);
  const settings = readStackSettings();
  const running = await readStackInfo(settings.home).catch(() => undefined);
  const { url, source } = resolveWarehouseUrl(values.url, settings, running?.warehouseUrl);
  const target = redactUrl(url);
  const warehouse = new PgWarehouse(url);
  try {
    const result = await refreshWarehouse(pgRunner(warehouse, target), { full: values.full ?? false });
    console.log(
      `refreshed ${target} (from ${source})${result.full ? ', staging rebuilt in full' : ''}: ` +
        `${result.statements} statements in ${result.ms} ms`,
    );
    for (const mart of MARTS) {
      const [row] = await warehouse.query<{ rows: string }>(`SELECT COUNT(*) AS rows FROM marts.${mart}`);
      console.log(`  marts.${mart.padEnd(24)} ${formatCount(Number(row?.rows ?? 0)).padStart(9)} rows`);
    }
    if (running && running.warehouseUrl === url) await publishLocally(warehouse, running);
  } catch (err) {
    const codes = [(err as { code?: unknown }).code, (err as { cause?: { code?: unknown } }).cause?.code];
    if (codes.includes('ECONNREFUSED')) {
      throw new CliError(`no warehouse answers at ${target} (${source}): start it with \`npm start\``);
    }
    if (err instanceof AnalyticsError) throw new CliError(err.message, { cause: err });
    throw err;
  } finally {
    await warehouse.close();
  }
}

/** The balances of the stack's warehouse to the stack's DynamoDB (the customers table on dynalite). */
async function publishLocally(warehouse: PgWarehouse, running: StackInfo): Promise<void> {
  const config = localPipelineConfig({ ...running.endpoints });
  const doc = createDocumentClient(config.aws);
  try {
    const published = await publishLoyaltyBalances(
      (sql) => warehouse.query(sql),
      (writes) => batchWrite(doc, config.tables, writes),
    );
    console.log(
      `published ${formatCount(published.balances)} loyalty balances to ${config.tables.customers} in ${published.ms} ms`,
    );
  } finally {
    doc.destroy();
  }
}
