import {
  FULL_REBUILD_SQL,
  findSqlRoot,
  loadWarehouseStatements,
  MARTS,
  type Mart,
  type ModelStatement,
  WAREHOUSE_MODELS,
} from './models.js';
import { stripComments } from './sql-text.js';
import { VIEW_COLUMNS } from './view-columns.js';

/**
 * The warehouse refresh: staging and the marts rebuilt from raw by the SQL in `warehouse/`, the same text
 * on the local PostgreSQL and on Redshift. Only the runner differs (`PgWarehouse` locally, the Redshift Data
 * API on AWS).
 */

/** Runs statements as one transaction: all of them commit, or none. */
export interface TransactionRunner {
  /** What the statements run on, for messages: a URL without its password, a workgroup name. */
  readonly target: string;
  /** @throws RefreshError naming the failed statement when the engine says which */
  runTransaction(statements: readonly ModelStatement[]): Promise<void>;
  /** Rows of one query; with it, the refresh first rebuilds marts an older release made (martsToRebuild). */
  queryRows?(sql: string): Promise<Record<string, unknown>[]>;
}

/** The marts' columns as the warehouse has them: information_schema, on PostgreSQL and Redshift alike. */
export const MART_COLUMNS_SQL =
  "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'marts'";

/**
 * The marts whose table has other columns than the mart declares (VIEW_COLUMNS): tables an older release
 * made, before a column was added (marts.cancellations' product_lines). `CREATE TABLE IF NOT EXISTS` keeps
 * such a table, and the INSERT would then fail on every refresh; a mart holds nothing the refresh does not
 * rebuild, so it is dropped and made again in the refresh's setup. A mart that does not exist yet is not
 * listed: the setup makes it anyway.
 * @example martsToRebuild([{ table_name: 'cancellations', column_name: 'month' }]) // ['cancellations']
 */
export function martsToRebuild(rows: readonly Record<string, unknown>[]): Mart[] {
  const found = new Map<string, Set<string>>();
  for (const row of rows) {
    const table = String(row['table_name']);
    const columns = found.get(table) ?? new Set<string>();
    columns.add(String(row['column_name']));
    found.set(table, columns);
  }
  return MARTS.filter((mart) => {
    const columns = found.get(mart);
    if (!columns) return false;
    const declared = VIEW_COLUMNS[mart].map(([name]) => name);
    return declared.length !== columns.size || declared.some((name) => !columns.has(name));
  });
}

/**
 * Taken first in the refresh transaction: a second refresh (the schedule overlapping a manual run) waits
 * here until the first commits, then works on its results. Without it, two refreshes could both insert
 * the same new lines into staging, or both rebuild a mart from a DELETE that missed the other's rows. On
 * Redshift, a LOCK first is also what keeps concurrent writers from failing with a serializable isolation
 * violation. Readers of the marts are not blocked.
 */
export const REFRESH_LOCK_SQL = 'LOCK TABLE staging.invoice_lines';

/** The two transactions of a refresh. */
export interface RefreshPlan {
  /**
   * `CREATE SCHEMA / TABLE IF NOT EXISTS` of every model: idempotent DDL, run first in its own
   * transaction so that the refresh transaction can start with the lock on a table that exists.
   */
  setup: ModelStatement[];
  /** The lock, then (for a full rebuild) the staged rows deleted, then every other statement in order. */
  refresh: ModelStatement[];
}

export interface RefreshOptions {
  /** Rebuild staging from all of raw, not only the lines it lacks (after raw was reloaded). */
  full?: boolean;
  /** The folder holding `warehouse/`; found from this module's location by default. */
  root?: string;
  /** Milliseconds clock, for the reported duration. */
  now?: () => number;
}

export interface RefreshResult {
  target: string;
  full: boolean;
  models: readonly string[];
  /** Marts dropped and made again first, because an older release made them with other columns. */
  rebuilt: readonly Mart[];
  /** Statements run, both transactions. */
  statements: number;
  ms: number;
}

const IDEMPOTENT_DDL = /^CREATE\s+(SCHEMA|TABLE)\s+IF\s+NOT\s+EXISTS\s/i;

/**
 * Splits the models' statements into the setup and refresh transactions.
 * @example (await planRefresh({ full: true })).refresh[1].sql === 'DELETE FROM staging.invoice_lines'
 */
export async function planRefresh(options: RefreshOptions = {}): Promise<RefreshPlan> {
  const statements = await loadWarehouseStatements(options.root ?? findSqlRoot());
  const setup: ModelStatement[] = [];
  const refresh: ModelStatement[] = [{ model: 'refresh', statement: 1, sql: REFRESH_LOCK_SQL }];
  if (options.full) {
    for (const [i, sql] of FULL_REBUILD_SQL.entries()) {
      refresh.push({ model: 'refresh', statement: i + 2, sql });
    }
  }
  for (const statement of statements) {
    const code = stripComments(statement.sql).trim();
    (IDEMPOTENT_DDL.test(code) ? setup : refresh).push(statement);
  }
  return { setup, refresh };
}

/**
 * Refreshes staging and the marts: idempotent (a second run changes nothing) and atomic (readers see the
 * old marts until the refresh transaction commits; a failure leaves everything as it was).
 *
 * @throws RefreshError from the runner
 * @example await refreshWarehouse(localRunner(new PgWarehouse(url)))
 */
export async function refreshWarehouse(
  runner: TransactionRunner,
  options: RefreshOptions = {},
): Promise<RefreshResult> {
  const now = options.now ?? Date.now;
  const started = now();
  const plan = await planRefresh(options);
  const rebuilt = runner.queryRows ? martsToRebuild(await runner.queryRows(MART_COLUMNS_SQL)) : [];
  const drops = rebuilt.map((mart, i) => ({
    model: `marts/${mart}`,
    statement: i + 1,
    sql: `DROP TABLE marts.${mart}`,
  }));
  await runner.runTransaction([...drops, ...plan.setup]);
  await runner.runTransaction(plan.refresh);
  return {
    target: runner.target,
    full: options.full ?? false,
    models: WAREHOUSE_MODELS,
    rebuilt,
    statements: drops.length + plan.setup.length + plan.refresh.length,
    ms: now() - started,
  };
}

/** The first line of code of a statement, for error messages. */
export function statementHeadline(sql: string): string {
  const code = stripComments(sql).trim();
  const line = code.split('\n')[0]!.trim();
  return line.length > 80 ? `${line.slice(0, 77)}...` : line;
}
