import { timestampText } from '../adapters/pg-warehouse.js';
import { REFRESH_LOCK_SQL } from '../analytics/refresh.js';
import { guestLineId } from '../core/erasure.js';

/**
 * The warehouse side of an erasure: the customer's rows of `"raw".invoice_lines` and
 * `staging.invoice_lines` become guest rows in place (customer_id NULL, line_id re-keyed), in one
 * transaction. The marts are rebuilt afterwards by the refresh. Common SQL of PostgreSQL and Redshift; the
 * customer id and the line ids are bound as parameters (into a temporary table the UPDATEs join), never
 * spliced into the text.
 */

/** The tables holding lines with a customer_id, in the order they are rewritten. */
export const ERASURE_TABLES = { raw: '"raw".invoice_lines', staging: 'staging.invoice_lines' } as const;

/**
 * The refresh's record of the raw rows it has applied, by line_id (warehouse/staging/invoice_lines.sql). It
 * has no customer_id, but an old line_id is a hash over the CustomerID, so its rows are re-keyed too: left
 * alone they would keep recoverable ids, and the refresh would take the re-keyed raw rows for new ones.
 */
export const STORED_ROWS_TABLE = 'staging.stored_rows';

/** A statement and its parameters (`$1`, `$2`, … in the text). */
export interface BoundStatement {
  sql: string;
  params?: unknown[];
}

/**
 * What the erasure needs of a warehouse: PgWarehouse locally (`pgErasureWarehouse`), a Redshift Data API
 * session on AWS (`redshiftErasureWarehouse`, src/adapters/redshift-erasure.ts).
 */
export interface ErasureWarehouse {
  query<T extends Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  /**
   * On one session: runs `prepare` (parameterised statements that fill a temporary table), then
   * `transaction` (statements without parameters) as one transaction; returns the row count of each of the
   * transaction's statements. The transaction takes no parameters because BatchExecuteStatement, the Data
   * API's one multi-statement transaction, has none: every value it needs is in the temporary table, bound
   * when `prepare` filled it.
   */
  rekey(prepare: readonly BoundStatement[], transaction: readonly string[]): Promise<number[]>;
}

/** PgWarehouse as the erasure's warehouse: `prepare` and the transaction on one connection, in one transaction. */
export function pgErasureWarehouse(pg: {
  query<T extends Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  transaction(statements: readonly BoundStatement[]): Promise<number[]>;
}): ErasureWarehouse {
  return {
    query: (sql, params) => pg.query(sql, params),
    async rekey(prepare, transaction) {
      const counts = await pg.transaction([...prepare, ...transaction.map((sql) => ({ sql }))]);
      return counts.slice(prepare.length);
    },
  };
}

/**
 * The session's table of (customer, old line_id, new line_id) that the UPDATEs join. Its column names differ
 * from the line tables' so that the UPDATEs' unqualified column names are never ambiguous: Redshift allows
 * no alias on an UPDATE's target table.
 */
export const ERASURE_KEYS_TABLE = 'erasure_keys';

/** Key rows an INSERT: 2n + 1 parameters and about 20 bytes of text each, far under either engine's limits. */
export const REKEY_CHUNK = 200;

/**
 * The statements that fill the keys table with `pairs` (old id, new id) of `customerId`: the table made,
 * then INSERTs of REKEY_CHUNK pairs each, the customer id and the line ids bound as parameters.
 */
export function keyTableStatements(
  customerId: number,
  pairs: readonly (readonly [string, string])[],
): BoundStatement[] {
  const out: BoundStatement[] = [
    {
      sql: `CREATE TEMPORARY TABLE ${ERASURE_KEYS_TABLE} (erased_customer_id BIGINT NOT NULL, old_line_id VARCHAR(64) NOT NULL, new_line_id VARCHAR(64) NOT NULL)`,
    },
  ];
  for (let i = 0; i < pairs.length; i += REKEY_CHUNK) {
    const params: unknown[] = [customerId];
    const tuples: string[] = [];
    for (const [from, to] of pairs.slice(i, i + REKEY_CHUNK)) {
      params.push(from, to);
      tuples.push(`($1, $${params.length - 1}, $${params.length})`);
    }
    out.push({
      sql: `INSERT INTO ${ERASURE_KEYS_TABLE} (erased_customer_id, old_line_id, new_line_id) VALUES ${tuples.join(', ')}`,
      params,
    });
  }
  return out;
}

/**
 * The UPDATE that re-keys the rows of `table` named in the keys table: the customer's rows, their
 * customer_id cleared, or, for a table without the column (`withCustomer` false), the rows with those ids.
 */
export function rekeySql(table: string, withCustomer: boolean): string {
  const k = ERASURE_KEYS_TABLE;
  return withCustomer
    ? `UPDATE ${table} SET customer_id = NULL, line_id = ${k}.new_line_id FROM ${k} WHERE line_id = ${k}.old_line_id AND customer_id = ${k}.erased_customer_id`
    : `UPDATE ${table} SET line_id = ${k}.new_line_id FROM ${k} WHERE line_id = ${k}.old_line_id`;
}

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
    // ISO text from PgWarehouse; `YYYY-MM-DD HH:MM:SS` as the Data API sends a TIMESTAMP. The line_id hashes
    // the ISO form, as the cleaning wrote it.
    const invoiceDate = timestampText(String(row.invoice_date));
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
 * Whether a failed query says its table does not exist: PostgreSQL's undefined_table (42P01), or the same
 * error as Redshift's Data API reports it, in text only.
 */
function isMissingTable(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  return e.code === '42P01' || /relation "?[\w."]+"? does not exist/i.test(e.message ?? '');
}

/**
 * Re-keys the customer's rows in raw and staging (and the refresh's record of raw rows, STORED_ROWS_TABLE),
 * in one transaction that first takes the refresh's lock: a refresh between the two updates would copy a
 * raw row into staging under the id staging does not have yet, and count it twice. The keys go into a
 * temporary table first, so the transaction's statements carry no values. Running it again finds nothing
 * to change.
 */
export async function eraseFromWarehouse(
  warehouse: ErasureWarehouse,
  customerId: number,
): Promise<{ rawRows: number; stagingRows: number; storedRows: number }> {
  const raw = await customerRows(warehouse, ERASURE_TABLES.raw, customerId);
  const staging = await customerRows(warehouse, ERASURE_TABLES.staging, customerId).catch((err: unknown) => {
    // No refresh has run yet, so there is no staging to erase from.
    if (isMissingTable(err)) return null;
    throw err;
  });
  const pairs = [...new Map([...raw.pairs, ...(staging?.pairs ?? [])]).entries()];
  if (pairs.length === 0) return { rawRows: 0, stagingRows: 0, storedRows: 0 };
  const transaction = [
    ...(staging ? [REFRESH_LOCK_SQL] : []),
    rekeySql(ERASURE_TABLES.raw, true),
    ...(staging ? [rekeySql(ERASURE_TABLES.staging, true), rekeySql(STORED_ROWS_TABLE, false)] : []),
    `DROP TABLE ${ERASURE_KEYS_TABLE}`,
  ];
  const counts = await warehouse.rekey(keyTableStatements(customerId, pairs), transaction);
  const at = (i: number) => Math.max(0, counts[i] ?? 0);
  const lock = staging ? 1 : 0;
  return {
    rawRows: at(lock),
    stagingRows: staging ? at(lock + 1) : 0,
    storedRows: staging ? at(lock + 2) : 0,
  };
}
