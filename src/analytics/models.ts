import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { ANALYTICS_ERROR_CODES, AnalyticsError, SqlFileError } from './errors.js';
import { splitStatements } from './sql-text.js';

/**
 * The warehouse models in dependency order: raw (created if missing), staging, then the marts. The
 * refresh runs them in this order, in one transaction. Each name is a file under `warehouse/`.
 */
export const WAREHOUSE_MODELS = [
  'raw/invoice_lines',
  'staging/invoice_lines',
  'staging/product_descriptions',
  'marts/daily_revenue',
  'marts/daily_country_revenue',
  'marts/monthly_country_revenue',
  'marts/product_sales',
  'marts/product_country_sales',
  'marts/top_products',
  'marts/customer_rfm',
  'marts/cancellations',
  'marts/loyalty_points',
  'marts/loyalty_balances',
] as const;
export type WarehouseModel = (typeof WAREHOUSE_MODELS)[number];

/**
 * Queries on the warehouse that are not models (the refresh does not run them): the audit's per-day
 * figures and its count of lines waiting for a refresh. Each name is a file under `warehouse/`.
 */
export const WAREHOUSE_QUERIES = ['audit/invoice_days', 'audit/unrefreshed'] as const;
export type WarehouseQuery = (typeof WAREHOUSE_QUERIES)[number];

/** One warehouse query's text, without its leading comment. */
export async function loadWarehouseQuery(
  name: WarehouseQuery,
  root: string = findSqlRoot(),
): Promise<string> {
  const path = join(root, 'warehouse', `${name}.sql`);
  const statements = splitStatements(await readSqlFile(path));
  if (statements.length !== 1) {
    throw new SqlFileError(path, `${path}: expected one query, found ${statements.length} statements`);
  }
  return dropLeadingComments(statements[0]!);
}

/**
 * The marts analysts read, in dependency order (loyalty_balances reads loyalty_points); each is a warehouse
 * table `marts.<name>` and an Athena view `<name>`.
 */
export const MARTS = [
  'daily_revenue',
  'daily_country_revenue',
  'monthly_country_revenue',
  'product_sales',
  'product_country_sales',
  'top_products',
  'customer_rfm',
  'cancellations',
  'loyalty_points',
  'loyalty_balances',
] as const;
export type Mart = (typeof MARTS)[number];

/**
 * The Athena views in dependency order: the deduplicated lines, the product names, then one view per mart.
 * Each name is a file under `glue/views/`.
 */
export const LAKE_VIEWS = ['invoice_lines', 'product_descriptions', ...MARTS] as const;
export type LakeView = (typeof LAKE_VIEWS)[number];

/** The lake's physical table (the Glue table on AWS): every delivered copy of every line. */
export const LAKE_RAW_TABLE = 'invoice_lines_raw';

/** The view analysts query for lines: each line_id once, over the physical table `invoice_lines_raw`. */
export const LINE_TABLE_VIEW: LakeView = 'invoice_lines';

/** Named Athena queries for common questions, files under `glue/queries/`. */
export const LAKE_QUERIES = [
  'last_month_unit_sales_by_product',
  'revenue_by_country',
  'customer_history',
  'lines_on_a_day',
  'customers_by_segment',
  'quarantine_by_reason',
  'audit_days',
] as const;
export type LakeQuery = (typeof LAKE_QUERIES)[number];

/**
 * Run first by a full rebuild, so staging is rebuilt from everything raw holds: the staged lines, and the
 * record of which raw rows were applied (warehouse/staging/invoice_lines.sql).
 */
export const FULL_REBUILD_SQL = [
  'DELETE FROM staging.invoice_lines',
  'DELETE FROM staging.stored_rows',
] as const;

/** One statement of a model, numbered from 1 within its file. */
export interface ModelStatement {
  model: string;
  statement: number;
  sql: string;
}

/**
 * The folder holding `warehouse/` (and, in the repository, `glue/`): the first ancestor of `from` with a
 * `warehouse/marts` folder. The same search works from `src/analytics` (tests, tsx), from `dist/analytics`
 * (the CLI) and from the refresh function's bundle, which ships `warehouse/**` beside it.
 *
 * @throws AnalyticsError when no ancestor has it
 */
export function findSqlRoot(from: string = import.meta.dirname): string {
  let dir = resolve(from);
  for (;;) {
    if (existsSync(join(dir, 'warehouse', 'marts'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) {
      throw new AnalyticsError(
        ANALYTICS_ERROR_CODES.sql_root_not_found,
        `no folder holding warehouse/marts above ${from}`,
      );
    }
    dir = parent;
  }
}

/** Reads one SQL file. @throws SqlFileError naming the path */
export async function readSqlFile(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (cause) {
    throw new SqlFileError(path, `cannot read ${path}: ${(cause as Error).message}`, { cause });
  }
}

/** The statements of the warehouse models, in refresh order. */
export async function loadWarehouseStatements(
  root: string = findSqlRoot(),
  models: readonly string[] = WAREHOUSE_MODELS,
): Promise<ModelStatement[]> {
  const out: ModelStatement[] = [];
  for (const model of models) {
    const sql = await readSqlFile(join(root, 'warehouse', `${model}.sql`));
    splitStatements(sql).forEach((text, i) => {
      out.push({ model, statement: i + 1, sql: text });
    });
  }
  return out;
}

/** One Athena view: its name, the `CREATE OR REPLACE VIEW` statement, and the `SELECT` alone. */
export interface ViewDefinition {
  name: string;
  /** The whole statement, as run in the Athena console. */
  createSql: string;
  /** The query after `AS`, as a Glue view stores it. */
  selectSql: string;
}

const CREATE_VIEW = /^CREATE\s+OR\s+REPLACE\s+VIEW\s+("?)([a-z_][a-z0-9_]*)\1\s+AS\s+/i;

/**
 * Parses a view file: exactly one `CREATE OR REPLACE VIEW <name> AS <select>` statement (comments before
 * it allowed), whose name matches the file name.
 *
 * @throws SqlFileError when the file holds anything else
 */
export function parseViewFile(path: string, expectedName: string, sql: string): ViewDefinition {
  const statements = splitStatements(sql);
  const [statement] = statements;
  if (statements.length !== 1 || !statement) {
    throw new SqlFileError(
      path,
      `${path}: expected one CREATE OR REPLACE VIEW, found ${statements.length} statements`,
    );
  }
  const body = dropLeadingComments(statement);
  const match = CREATE_VIEW.exec(body);
  if (!match) throw new SqlFileError(path, `${path}: expected CREATE OR REPLACE VIEW ${expectedName} AS ...`);
  if (match[2] !== expectedName) {
    throw new SqlFileError(path, `${path}: the view is named "${match[2]}", not "${expectedName}"`);
  }
  return { name: expectedName, createSql: body, selectSql: body.slice(match[0].length) };
}

/** The Athena views, in dependency order. */
export async function loadLakeViews(root: string = findSqlRoot()): Promise<ViewDefinition[]> {
  const views: ViewDefinition[] = [];
  for (const name of LAKE_VIEWS) views.push(await loadLakeView(name, root));
  return views;
}

/** One Athena view, from `glue/views/<name>.sql`. */
export async function loadLakeView(name: LakeView, root: string = findSqlRoot()): Promise<ViewDefinition> {
  const path = join(root, 'glue', 'views', `${name}.sql`);
  return parseViewFile(path, name, await readSqlFile(path));
}

/** One named query: the file name, its first comment line as description, and the query. */
export interface NamedQueryDefinition {
  name: string;
  description: string;
  sql: string;
}

/** The named queries; each file holds one statement, led by a comment that describes it. */
export async function loadLakeQueries(root: string = findSqlRoot()): Promise<NamedQueryDefinition[]> {
  const queries: NamedQueryDefinition[] = [];
  for (const name of LAKE_QUERIES) queries.push(await loadLakeQuery(name, root));
  return queries;
}

/** One named query, from `glue/queries/<name>.sql`. */
export async function loadLakeQuery(
  name: LakeQuery,
  root: string = findSqlRoot(),
): Promise<NamedQueryDefinition> {
  const path = join(root, 'glue', 'queries', `${name}.sql`);
  const text = await readSqlFile(path);
  const statements = splitStatements(text);
  if (statements.length !== 1) {
    throw new SqlFileError(path, `${path}: expected one query, found ${statements.length} statements`);
  }
  const description = /^--\s*(.+)$/m.exec(text)?.[1]?.trim() ?? name;
  return { name, description, sql: dropLeadingComments(statements[0]!) };
}

/** The statement without the comment lines (and blank lines) before its first line of code. */
export function dropLeadingComments(statement: string): string {
  const lines = statement.split('\n');
  let first = 0;
  while (first < lines.length && /^\s*(--.*)?$/.test(lines[first]!)) first++;
  return lines.slice(first).join('\n').trim();
}
