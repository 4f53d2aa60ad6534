import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { type InvoiceLineItem, ITEM_KINDS, type Keys, TABLES } from '../core/dynamo-items.js';
import { guestLineItem } from '../core/erasure.js';
import { mapLimit } from '../task-pool.js';
import {
  batchWrite,
  customerLinesQuery,
  type Item,
  queryAll,
  queryInvoiceItems,
  type TableNames,
} from './dynamodb.js';
import { AdapterError } from './errors.js';

/** A single update of an erasure that DynamoDB refused (after the SDK's retries). */
export class DynamoItemWriteError extends AdapterError {
  constructor(table: string, cause: unknown) {
    super('table_write_failed', 'dynamodb', table, `a write to ${table} failed: ${String(cause)}`, { cause });
    this.name = 'DynamoItemWriteError';
  }
}

/** Requests in flight at once: an erasure touches hundreds of items, not millions. */
const CONCURRENCY = 8;

/** What re-keying one invoice changed. */
export interface InvoiceErasure {
  lineItems: number;
  stockItems: number;
}

/** The customer's items on the customers table (their keys, invoice numbers and dates). */
export function customerItems(
  doc: DynamoDBDocumentClient,
  table: string,
  customerId: number,
): Promise<Item[]> {
  return queryAll(doc, customerLinesQuery(table, customerId, undefined, true));
}

/**
 * Turns the customer's lines on one invoice into guest lines: each line item is replaced by its guest
 * line's item (all puts first, then the old keys deleted, so a crash between leaves a line twice, never not
 * at all; a second run finds only the new one), and the (invoice, stock) membership items lose their
 * customer_id. Lines of other customers on the invoice, if any, are left alone. One Query reads the
 * invoice's lines and memberships together.
 * @throws DynamoWriteError when a batch of puts or deletes is not stored after its retries
 */
export async function eraseInvoiceCustomer(
  doc: DynamoDBDocumentClient,
  tables: TableNames,
  invoiceNo: string,
  customerId: number,
): Promise<InvoiceErasure> {
  const items = (await queryInvoiceItems(doc, tables.invoices, invoiceNo)).filter(
    (item) => item['customer_id'] === customerId,
  );
  const lines = items.filter((item) => item['kind'] === ITEM_KINDS.line) as unknown as InvoiceLineItem[];
  const guests = lines.map(guestLineItem);
  await batchWrite(
    doc,
    tables,
    guests.map((item) => ({ table: TABLES.invoices, item })),
  );
  await batchWrite(
    doc,
    tables,
    lines
      .filter((line, i) => guests[i]!.sk !== line.sk)
      .map((line) => ({ table: TABLES.invoices, key: { pk: line.pk, sk: line.sk }, delete: true as const })),
  );
  const stocks = items.filter((item) => item['kind'] === ITEM_KINDS.stock);
  await mapLimit(stocks, CONCURRENCY, async (item) => {
    // An update, not a put: the item keeps every other attribute, whoever added it.
    await send(tables.invoices, () =>
      doc.send(
        new UpdateCommand({
          TableName: tables.invoices,
          Key: { pk: item['pk'], sk: item['sk'] },
          UpdateExpression: 'SET customer_id = :none',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':none': null },
        }),
      ),
    );
  });
  return { lineItems: lines.length, stockItems: stocks.length };
}

/**
 * Deletes items of the customers table by their keys, in batches; deleting an item already gone is no
 * error. Returns how many keys it was given.
 * @throws DynamoWriteError when a batch is not stored after its retries
 */
export async function deleteCustomerItems(
  doc: DynamoDBDocumentClient,
  tables: TableNames,
  keys: readonly Keys[],
): Promise<number> {
  await batchWrite(
    doc,
    tables,
    keys.map((key) => ({ table: TABLES.customers, key: { pk: key.pk, sk: key.sk }, delete: true as const })),
  );
  return keys.length;
}

async function send(table: string, request: () => Promise<unknown>): Promise<void> {
  try {
    await request();
  } catch (cause) {
    // A membership item removed since it was read (an invoice deleted meanwhile) has nothing to clear.
    if ((cause as Error).name === 'ConditionalCheckFailedException') return;
    throw new DynamoItemWriteError(table, cause);
  }
}
