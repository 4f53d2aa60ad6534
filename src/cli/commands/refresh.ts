import { parseArgs } from 'node:util';
import { PgWarehouse } from '../../adapters/pg-warehouse.js';
import { AnalyticsError } from '../../analytics/errors.js';
import { MARTS } from '../../analytics/models.js';
import { pgRunner, redactUrl } from '../../analytics/pg-runner.js';
import { refreshWarehouse } from '../../analytics/refresh.js';
import {
  DEFAULT_WAREHOUSE_URL,
  LOCAL_RESOURCES,
  readStackSettings,
  resolveWarehouseUrl,
  STACK_VARIABLES,
} from '../../config/local.js';
import { type LocalRefreshResult, refreshLocalStack } from '../../local/live-refresh.js';
import { readStackInfo } from '../../local/stack.js';
import { CliError, UsageError } from '../errors.js';
import { HELP_OPTION, printUsage } from '../help.js';
import { formatCount } from '../progress.js';

export const refreshUsage = `ecomflow refresh [--url <postgres-url>] [--full]

Rebuilds staging and the marts (warehouse/*.sql) on the local warehouse, in one transaction; running it
twice changes nothing. The warehouse is --url, else $${STACK_VARIABLES.warehouseUrl}, else the running local
stack's, else ${DEFAULT_WAREHOUSE_URL}. --full rebuilds staging from all of
raw (after raw was reloaded). When the warehouse is the running local stack's, the loyalty balances are
then published to its DynamoDB and the dashboard snapshot written to its S3, as the refresh function does
on AWS after running the same SQL on Redshift (the stack also does all of it by itself when lines arrive,
every $${STACK_VARIABLES.refreshIntervalMs} ms).`;

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
    const full = values.full ?? false;
    // The running stack's warehouse is refreshed as the stack refreshes itself (src/local/live-refresh.ts).
    const local =
      running && running.warehouseUrl === url
        ? await refreshLocalStack({ warehouse, target, endpoints: running.endpoints }, { full })
        : undefined;
    const result = local?.refresh ?? (await refreshWarehouse(pgRunner(warehouse, target), { full }));
    console.log(
      `refreshed ${target} (from ${source})${result.full ? ', staging rebuilt in full' : ''}: ` +
        `${result.statements} statements in ${result.ms} ms`,
    );
    for (const mart of MARTS) {
      const [row] = await warehouse.query<{ rows: string }>(`SELECT COUNT(*) AS rows FROM marts.${mart}`);
      console.log(`  marts.${mart.padEnd(24)} ${formatCount(Number(row?.rows ?? 0)).padStart(9)} rows`);
    }
    if (local) printPublished(local);
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

/** What the stack's refresh published beside the marts. */
function printPublished(local: LocalRefreshResult): void {
  console.log(
    `published ${formatCount(local.loyalty.balances)} loyalty balances to ${LOCAL_RESOURCES.customersTable} in ${local.loyalty.ms} ms`,
  );
  console.log(`wrote the dashboard snapshot to ${local.snapshotUri}`);
}
