import { type ItemWrite, loyaltyBalanceItem, TABLES } from '../core/dynamo-items.js';
import type { LoyaltyBalance } from '../core/loyalty.js';
import { ANALYTICS_ERROR_CODES, AnalyticsError } from './errors.js';

/**
 * Publishing the loyalty balances to DynamoDB after a refresh, so that GET /customers/{id} (which reads
 * only DynamoDB) shows them: one item per customer, `pk = CUST#<id>`, `sk = POINTS`, written as plain puts
 * of values that depend only on the mart. Publishing twice writes the same items again; a balance that
 * went down (a late cancellation) is overwritten by the next publish. docs/loyalty.md has the costs.
 */

/** The balances to publish, in the warehouse's SQL (PostgreSQL and Redshift alike). */
export const LOYALTY_BALANCES_QUERY =
  'SELECT customer_id, points, CAST(as_of AS VARCHAR) AS as_of FROM marts.loyalty_balances ORDER BY customer_id';

/** Runs one query on the warehouse and returns its rows (the Data API's queryRows, or PgWarehouse.query). */
export type RowReader = (sql: string) => Promise<readonly Record<string, unknown>[]>;

/** Puts items (the adapters' batchWrite, bound to the customers table). */
export type ItemPutter = (writes: readonly ItemWrite[]) => Promise<{ written: number }>;

export interface PublishResult {
  balances: number;
  written: number;
  ms: number;
}

/**
 * A warehouse TIMESTAMP as text (`2011-12-09 12:50:00`, as both engines cast it) in the contract's ISO
 * form, `2011-12-09T12:50:00Z`, the form of every date the API returns.
 */
export function isoTimestamp(text: string): string {
  const match = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})/.exec(text);
  if (!match) {
    throw new AnalyticsError(
      ANALYTICS_ERROR_CODES.loyalty_row_invalid,
      `marts.loyalty_balances: as_of "${text}" is not a timestamp`,
    );
  }
  return `${match[1]}T${match[2]}Z`;
}

/** The balances of marts.loyalty_balances, typed. */
export async function readLoyaltyBalances(read: RowReader): Promise<LoyaltyBalance[]> {
  const rows = await read(LOYALTY_BALANCES_QUERY);
  return rows.map((row) => ({
    customer_id: Number(row['customer_id']),
    points: Number(row['points']),
    as_of: isoTimestamp(String(row['as_of'])),
  }));
}

/**
 * Reads every balance and puts it. All of them, not only the changed ones: the puts are idempotent and a
 * full publish also repairs an item a failed earlier publish left stale, for about 4,400 writes a refresh
 * on the Online Retail data (docs/loyalty.md weighs it against publishing changes only).
 *
 * @example await publishLoyaltyBalances((sql) => warehouse.query(sql), (w) => batchWrite(doc, tables, w))
 */
export async function publishLoyaltyBalances(
  read: RowReader,
  put: ItemPutter,
  now: () => number = Date.now,
): Promise<PublishResult> {
  const started = now();
  const balances = await readLoyaltyBalances(read);
  const writes = balances.map((b) => ({ table: TABLES.customers, item: loyaltyBalanceItem(b) }));
  const { written } = writes.length > 0 ? await put(writes) : { written: 0 };
  return { balances: balances.length, written, ms: now() - started };
}
