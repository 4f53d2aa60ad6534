import { REFRESH_LOCK_SQL } from '../analytics/refresh.js';
import { guestLineId } from '../core/erasure.js';

/**
 * The warehouse side of an erasure: the customer's rows of `"raw".invoice_lines` and
 * `staging.invoice_lines` become guest rows in place (customer_id NULL, line_id re-keyed), in one
 * transaction. The marts are rebuilt afterwards by the refresh. Common SQL of PostgreSQL and Redshift; the
 * customer id and the line ids are bound as parameters, never spliced into the text.
 */

/** The tables holding lines with a customer_id, in the order they are rewritten. */
export const ERASURE_TABLES = { raw: '"raw".invoice_lines', staging: 'staging.invoice_lines' } as const;

/**
 * The refresh's record of the raw rows it has applied, by line_id (warehouse/staging/invoice_lines.sql). It
 * has no customer_id, but an old line_id is a hash over the CustomerID, so its rows are re-keyed too: left
 * alone they would keep recoverable ids, and the refresh would take the re-keyed raw rows for new ones.
 */
export const STORED_ROWS_TABLE = 'staging.stored_rows';

/** What the erasure needs of a warehouse (PgWarehouse locally; a Data API session on Redshift). */
export interface ErasureWarehouse {
  query<T extends Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  /** Runs the statements in one transaction; each one's row count. */
  transaction(statements: readonly { sql: string; params?: unknown[] }[]): Promise<number[]>;
}

/** Old line_id to new per UPDATE: 2n + 1 parameters a statement, far under either engine's limit. */
export const REKEY_CHUNK = 200;

interface KeyRow extends Record<string, unknown> {
  line_id: string;
  invoice_no: string;
  stock_code: string;
  description: string | null;
  quantity: number | string;
  invoice_date: string;
  unit_price: number | string;
  country: string;
}

/**
 * The statements that re-key `pairs` (old id, new id) in `table`: of the customer's rows, clearing their
 * customer_id (`$1`), or, for a table without the column (`customerId` null), of the rows with those ids.
 */
export function rekeyStatements(
  table: string,
  customerId: number | null,
  pairs: readonly (readonly [string, string])[],
): { sql: string; params: unknown[] }[] {
  const out: { sql: string; params: unknown[] }[] = [];
  for (let i = 0; i < pairs.length; i += REKEY_CHUNK) {
    const chunk = pairs.slice(i, i + REKEY_CHUNK);
    const params: unknown[] = customerId === null ? [] : [customerId];
    const whens: string[] = [];
    const olds: string[] = [];
    for (const [from, to] of chunk) {
      params.push(from, to);
      whens.push(`WHEN $${params.length - 1} THEN $${params.length}`);
      olds.push(`$${params.length - 1}`);
    }
    const rekey = `line_id = CASE line_id ${whens.join(' ')} END`;
    const ids = `line_id IN (${olds.join(', ')})`;
    out.push({
      sql:
        customerId === null
          ? `UPDATE ${table} SET ${rekey} WHERE ${ids}`
          : `UPDATE ${table} SET customer_id = NULL, ${rekey} WHERE customer_id = $1 AND ${ids}`,
      params,
    });
  }
  return out;
}

/** The columns of the customer's rows that their new line_id is computed from; `$1` is the customer id. */
export function customerRowsSql(table: string): string {
  return `SELECT line_id, invoice_no, stock_code, description, quantity, invoice_date, unit_price, country FROM ${table} WHERE customer_id = $1`;
}

/** The customer's distinct (old, new) line ids in a table, and its rows and their days. */
async function customerRows(
  warehouse: ErasureWarehouse,
  table: string,
  customerId: number,
): Promise<{ pairs: [string, string][]; rows: number; days: Set<string> }> {
  const rows = await warehouse.query<KeyRow>(customerRowsSql(table), [customerId]);
  const pairs = new Map<string, string>();
  const days = new Set<string>();
  for (const row of rows) {
    const invoiceDate = String(row.invoice_date);
    days.add(invoiceDate.slice(0, 10));
    pairs.set(
      row.line_id,
      guestLineId({
        invoice_no: row.invoice_no,
        stock_code: row.stock_code,
        description: row.description,
        quantity: Number(row.quantity),
        invoice_date: invoiceDate,
        unit_price: Number(row.unit_price),
        country: row.country,
      }),
    );
  }
  return { pairs: [...pairs.entries()], rows: rows.length, days };
}

/** The days (`YYYY-MM-DD`) of the customer's lines in raw: where the lake must be rewritten too. */
export async function warehouseCustomerDays(
  warehouse: ErasureWarehouse,
  customerId: number,
): Promise<Set<string>> {
  return (await customerRows(warehouse, ERASURE_TABLES.raw, customerId)).days;
}

/**
 * Re-keys the customer's rows in raw and staging (and the refresh's record of raw rows, STORED_ROWS_TABLE), in one transaction that first takes the refresh's lock:
 * a refresh between the two updates would copy a raw row into staging under the id staging does not have
 * yet, and count it twice. Running it again finds nothing to change.
 */
export async function eraseFromWarehouse(
  warehouse: ErasureWarehouse,
  customerId: number,
): Promise<{ rawRows: number; stagingRows: number; storedRows: number }> {
  const raw = await customerRows(warehouse, ERASURE_TABLES.raw, customerId);
  const staging = await customerRows(warehouse, ERASURE_TABLES.staging, customerId).catch(
    (err: { code?: string }) => {
      // PostgreSQL's undefined_table: no refresh has run yet, so there is no staging to erase from.
      if (err.code === '42P01') return null;
      throw err;
    },
  );
  const rawStatements = rekeyStatements(ERASURE_TABLES.raw, customerId, raw.pairs);
  const stagingStatements = staging ? rekeyStatements(ERASURE_TABLES.staging, customerId, staging.pairs) : [];
  const storedStatements = staging
    ? rekeyStatements(STORED_ROWS_TABLE, null, [...new Map([...raw.pairs, ...staging.pairs]).entries()])
    : [];
  const statements = [...rawStatements, ...stagingStatements, ...storedStatements];
  if (statements.length === 0) return { rawRows: 0, stagingRows: 0, storedRows: 0 };
  const counts = await warehouse.transaction([
    ...(staging ? [{ sql: REFRESH_LOCK_SQL }] : []),
    ...statements,
  ]);
  const lock = staging ? 1 : 0;
  const sum = (from: number, n: number) => counts.slice(from, from + n).reduce((total, c) => total + c, 0);
  return {
    rawRows: sum(lock, rawStatements.length),
    stagingRows: sum(lock + rawStatements.length, stagingStatements.length),
    storedRows: sum(lock + rawStatements.length + stagingStatements.length, storedStatements.length),
  };
}
