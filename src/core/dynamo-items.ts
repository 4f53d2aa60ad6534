/**
 * DynamoDB items derived from clean lines: the single definition of the two tables' keys.
 *
 * Design (see docs/dynamodb.md):
 *
 * **invoices** table, keys `pk` (hash) and `sk` (range), all strings:
 * - one *line item* per clean line: `pk = INV#<invoice_no>`, `sk = LINE#<stock_code>#<line_id>`, with every
 *   field of the line. Keying by `line_id` (not by InvoiceNo and StockCode) keeps every line of a stock code
 *   on an invoice, which the original design collapsed to one; `begins_with(sk, 'LINE#<stock>#')` answers
 *   GET /invoices/{no}/items/{stock}, and `begins_with(sk, 'LINE#')` the whole invoice.
 * - one *membership item* per (invoice, stock code): `pk = INV#<invoice_no>`, `sk = STOCK#<stock_code>`,
 *   projected into the `by_stock` index by `gsi1pk = STOCK#<stock_code>`, `gsi1sk = <invoice_date>#<invoice_no>`,
 *   so the index lists the invoices that contain a stock code, each once, newest first.
 *
 * **customers** table, keys `pk` and `sk`: one item per line of a known customer,
 * `pk = CUST#<customer_id>`, `sk = <invoice_date>#<invoice_no>#<line_id>`. An invoice's lines are adjacent and
 * sorted by date, so one Query lists a customer's invoices newest first. Guests (no CustomerID) have no items.
 * Beside the lines, one *loyalty balance item* per customer, `sk = POINTS`, put by the refresh: line sort
 * keys start with a date (a digit), so `sk < CUSTOMER_LINES_SK_END` keeps the line queries off it.
 *
 * Every item is a plain put of values that depend only on the line, so re-delivering or re-posting a line
 * writes the same item again: idempotent under at-least-once delivery. Nothing is incremented; customer
 * aggregates (first and last invoice, invoice count, total spent) are computed from a Query when read.
 *
 * Key parts escape `%` and `#` (`%25`, `%23`), so a value containing `#` cannot make one prefix match another
 * value's keys.
 */
import { type CleanLine, COLUMN_NAMES } from './schema.js';

/** The logical tables; their physical names come from configuration. */
export const TABLES = { invoices: 'invoices', customers: 'customers' } as const;
export type LogicalTable = (typeof TABLES)[keyof typeof TABLES];

/** The invoices table's global secondary index listing invoices by stock code. */
export const BY_STOCK_INDEX = 'by_stock';

/** Attribute names of the keys, shared by both tables and the index. */
export const KEY_ATTRIBUTES = { pk: 'pk', sk: 'sk', gsi1pk: 'gsi1pk', gsi1sk: 'gsi1sk' } as const;

/** What an item is, stored in `kind`. */
export const ITEM_KINDS = {
  line: 'line',
  stock: 'stock',
  customerLine: 'customer_line',
  head: 'head',
  loyaltyBalance: 'loyalty_balance',
} as const;
export type ItemKind = (typeof ITEM_KINDS)[keyof typeof ITEM_KINDS];

export const SK_PREFIXES = { line: 'LINE#', stock: 'STOCK#' } as const;

/** The sort key of a customer's loyalty balance item. */
export const LOYALTY_BALANCE_SK = 'POINTS';

/**
 * Every customer line's sort key is below it (they start with the invoice date's year, a digit), and every
 * other item of a customer is at or above it (its sort key starts with a capital letter): the bound of the
 * line queries' key condition `sk < :end`.
 */
export const CUSTOMER_LINES_SK_END = 'A';

/**
 * The sort key of an invoice's head item: its newest change (src/core/changes.ts). Between `LINE#` and
 * `STOCK#`, so the queries by either prefix never read it.
 */
export const HEAD_SK = 'HEAD';

/**
 * DynamoDB's key-size limits, in UTF-8 bytes. The contract's field bounds keep every key built here far
 * under them, even when each byte of a value is escaped to three (a test checks the worst case).
 */
export const DYNAMODB_KEY_LIMITS = { partitionKeyBytes: 2048, sortKeyBytes: 1024 } as const;

/** Escapes the separator (and the escape character) inside a key part: `A#1` becomes `A%231`. */
export function keyPart(value: string): string {
  return value.replace(/[%#]/g, (c) => (c === '%' ? '%25' : '%23'));
}

/** `INV#<invoice_no>` */
export function invoicePk(invoiceNo: string): string {
  return `INV#${keyPart(invoiceNo)}`;
}

/** The sort-key prefix of every line of `stockCode` on an invoice: `LINE#<stock_code>#`. */
export function lineSkPrefix(stockCode: string): string {
  return `${SK_PREFIXES.line}${keyPart(stockCode)}#`;
}

/** `STOCK#<stock_code>`: the membership item's sort key and the index's partition key. */
export function stockKey(stockCode: string): string {
  return `${SK_PREFIXES.stock}${keyPart(stockCode)}`;
}

/** `CUST#<customer_id>` */
export function customerPk(customerId: number | string): string {
  return `CUST#${customerId}`;
}

/** `<invoice_date>#<invoice_no>`: sorts by date, then invoice. */
export function invoiceSortKey(invoiceDate: string, invoiceNo: string): string {
  return `${invoiceDate}#${keyPart(invoiceNo)}`;
}

export interface Keys {
  pk: string;
  sk: string;
}

/** A line on the invoices table: the line's fields plus its keys. */
export interface InvoiceLineItem extends CleanLine, Keys {
  kind: typeof ITEM_KINDS.line;
}

/** One per (invoice, stock code), indexed by `by_stock`. */
export interface InvoiceStockItem extends Keys {
  kind: typeof ITEM_KINDS.stock;
  gsi1pk: string;
  gsi1sk: string;
  invoice_no: string;
  stock_code: string;
  invoice_date: string;
  customer_id: number | null;
  country: string;
}

/** The fields of a line that the customer views need: all a customers-table item holds besides its keys. */
export type CustomerLineFields = Pick<
  CleanLine,
  'line_id' | 'invoice_no' | 'invoice_date' | 'country' | 'quantity' | 'line_total' | 'is_cancellation'
>;

/** A line on the customers table. */
export interface CustomerLineItem extends Keys, CustomerLineFields {
  kind: typeof ITEM_KINDS.customerLine;
}

/**
 * An invoice's newest change, once it has one (a PUT or DELETE /invoices/{no}): `pk = INV#<invoice_no>`,
 * `sk = HEAD`. The transformer writes it with a condition on `version`, so a change never overwrites a
 * newer one, and reads it to drop writes older than it.
 */
export interface InvoiceHeadItem extends Keys {
  kind: typeof ITEM_KINDS.head;
  invoice_no: string;
  version: number;
  change: 'replace' | 'delete';
  request_id: string;
  /** How many lines the invoice has after the change. */
  lines: number;
  /** When the transformer applied it, ISO 8601. */
  applied_at: string;
}

/** A customer's loyalty balance, as the refresh publishes it from marts.loyalty_balances. */
export interface LoyaltyBalanceItem extends Keys {
  kind: typeof ITEM_KINDS.loyaltyBalance;
  customer_id: number;
  points: number;
  as_of: string;
}

export type TableItem =
  | InvoiceLineItem
  | InvoiceStockItem
  | CustomerLineItem
  | InvoiceHeadItem
  | LoyaltyBalanceItem;

/** A put of one item on one logical table. */
export interface ItemWrite {
  table: LogicalTable;
  item: TableItem;
}

/** A delete of one item, by its keys. */
export interface ItemDelete {
  table: LogicalTable;
  key: Keys;
  delete: true;
}

/** What `batchWrite` sends: puts and deletes. */
export type TableWrite = ItemWrite | ItemDelete;

/** The head item's keys. */
export function headKey(invoiceNo: string): Keys {
  return { pk: invoicePk(invoiceNo), sk: HEAD_SK };
}

/** The keys a write targets. */
export function keysOf(write: TableWrite): Keys {
  return 'delete' in write ? write.key : write.item;
}

export function invoiceLineItem(line: CleanLine): InvoiceLineItem {
  return {
    pk: invoicePk(line.invoice_no),
    sk: `${lineSkPrefix(line.stock_code)}${line.line_id}`,
    kind: ITEM_KINDS.line,
    ...line,
  };
}

export function invoiceStockItem(line: CleanLine): InvoiceStockItem {
  return {
    pk: invoicePk(line.invoice_no),
    sk: stockKey(line.stock_code),
    kind: ITEM_KINDS.stock,
    gsi1pk: stockKey(line.stock_code),
    gsi1sk: invoiceSortKey(line.invoice_date, line.invoice_no),
    invoice_no: line.invoice_no,
    stock_code: line.stock_code,
    invoice_date: line.invoice_date,
    customer_id: line.customer_id,
    country: line.country,
  };
}

/** The customer's copy of a line; null for a guest line. */
export function customerLineItem(line: CleanLine): CustomerLineItem | null {
  if (line.customer_id === null) return null;
  return {
    pk: customerPk(line.customer_id),
    sk: `${invoiceSortKey(line.invoice_date, line.invoice_no)}#${line.line_id}`,
    kind: ITEM_KINDS.customerLine,
    line_id: line.line_id,
    invoice_no: line.invoice_no,
    invoice_date: line.invoice_date,
    country: line.country,
    quantity: line.quantity,
    line_total: line.line_total,
    is_cancellation: line.is_cancellation,
  };
}

/** The balance item of a customer: a plain put of the balance, so publishing it twice changes nothing. */
export function loyaltyBalanceItem(balance: {
  customer_id: number;
  points: number;
  as_of: string;
}): LoyaltyBalanceItem {
  return {
    pk: customerPk(balance.customer_id),
    sk: LOYALTY_BALANCE_SK,
    kind: ITEM_KINDS.loyaltyBalance,
    customer_id: balance.customer_id,
    points: balance.points,
    as_of: balance.as_of,
  };
}

/**
 * Every item a clean line puts: its line item, its (invoice, stock) membership item and, for a known
 * customer, its customer item.
 */
export function itemsForLine(line: CleanLine): ItemWrite[] {
  const writes: ItemWrite[] = [
    { table: TABLES.invoices, item: invoiceLineItem(line) },
    { table: TABLES.invoices, item: invoiceStockItem(line) },
  ];
  const customer = customerLineItem(line);
  if (customer) writes.push({ table: TABLES.customers, item: customer });
  return writes;
}

/**
 * A key that identifies the item a write targets. BatchWriteItem refuses two writes to one key in a
 * request, so writes are deduplicated by it (lines of one invoice share membership items).
 */
export function writeKey(write: TableWrite): string {
  const { pk, sk } = keysOf(write);
  return `${write.table}\u0000${pk}\u0000${sk}`;
}

/** The clean line stored in a line item: its contract fields, without keys or kind. */
export function lineFromItem(item: object): CleanLine {
  const values = item as Readonly<Record<string, unknown>>;
  return Object.fromEntries(COLUMN_NAMES.map((name) => [name, values[name] ?? null])) as unknown as CleanLine;
}
