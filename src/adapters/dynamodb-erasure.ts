import { DeleteCommand, type DynamoDBDocumentClient, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { type InvoiceLineItem, invoicePk, SK_PREFIXES } from '../core/dynamo-items.js';
import { guestLineItem } from '../core/erasure.js';
import { mapLimit } from '../task-pool.js';
import { customerLinesQuery, type Item, queryAll, queryInvoiceLines } from './dynamodb.js';
import { AdapterError } from './errors.js';

/** A single put, delete or update of an erasure that DynamoDB refused (after the SDK's retries). */
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
 * line's item (put first, then the old one deleted, so a crash between leaves the line twice, never not
 * at all; a second run finds only the new one), and the (invoice, stock) membership items lose their
 * customer_id. Lines of other customers on the invoice, if any, are left alone.
 */
export async function eraseInvoiceCustomer(
  doc: DynamoDBDocumentClient,
  table: string,
  invoiceNo: string,
  customerId: number,
): Promise<InvoiceErasure> {
  const lines = (await queryInvoiceLines(doc, table, invoiceNo)).filter(
    (item) => item['customer_id'] === customerId,
  ) as unknown as InvoiceLineItem[];
  await mapLimit(lines, CONCURRENCY, async (item) => {
    const guest = guestLineItem(item);
    await send(table, () => doc.send(new PutCommand({ TableName: table, Item: guest })));
    if (guest.sk !== item.sk) {
      await send(table, () =>
        doc.send(new DeleteCommand({ TableName: table, Key: { pk: item.pk, sk: item.sk } })),
      );
    }
  });
  const stocks = (
    await queryAll(doc, {
      TableName: table,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': invoicePk(invoiceNo), ':prefix': SK_PREFIXES.stock },
    })
  ).filter((item) => item['customer_id'] === customerId);
  await mapLimit(stocks, CONCURRENCY, async (item) => {
    // An update, not a put: the item keeps every other attribute, whoever added it.
    await send(table, () =>
      doc.send(
        new UpdateCommand({
          TableName: table,
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

/** Deletes the given items of the customers table; deleting an item already gone is no error. */
export async function deleteCustomerItems(
  doc: DynamoDBDocumentClient,
  table: string,
  items: readonly Item[],
): Promise<number> {
  await mapLimit(items, CONCURRENCY, async (item) => {
    await send(table, () =>
      doc.send(new DeleteCommand({ TableName: table, Key: { pk: item['pk'], sk: item['sk'] } })),
    );
  });
  return items.length;
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
