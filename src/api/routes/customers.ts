import {
  customerLinesQuery,
  getLoyaltyBalanceItem,
  type Item,
  type ItemKey,
  queryAll,
  queryPages,
} from '../../adapters/dynamodb.js';
import { CUSTOMER_LINES_SK_END, customerPk, KEY_ATTRIBUTES } from '../../core/dynamo-items.js';
import { parseCustomerId as parseCustomerIdText } from '../../core/erasure.js';
import { decodeCursor, encodeCursor } from '../cursor.js';
import type { ApiDeps } from '../deps.js';
import { BadRequestError, NotFoundError } from '../errors.js';
import { type HttpResponse, json } from '../http.js';
import { type CustomerLine, customerInvoiceView, customerView, loyaltyView } from '../views.js';

/** A CustomerID as the path gives it: digits only, as the cleaning core stores it. */
export function parseCustomerId(raw: string): number {
  const id = parseCustomerIdText(raw);
  if (id === null) {
    throw new BadRequestError(
      'invalid_parameter',
      `customerId ${JSON.stringify(raw)} is not a customer number`,
    );
  }
  return id;
}

/**
 * GET /customers/{customerId}: country, first and last invoice date, invoice count and total spent,
 * computed from the customer's lines at read time (so re-delivered lines cannot inflate them), and the
 * loyalty balance the last refresh published (one GetItem, in parallel with the lines' Query).
 */
export async function getCustomer(rawId: string, deps: ApiDeps): Promise<HttpResponse> {
  const customerId = parseCustomerId(rawId);
  const table = deps.config.tables.customers;
  const [items, balance] = await Promise.all([
    customerLines(customerId, deps),
    getLoyaltyBalanceItem(deps.dynamo, table, customerId),
  ]);
  if (items.length === 0) throw new NotFoundError(`customer ${customerId} not found`);
  return json(200, customerView(customerId, items as unknown as CustomerLine[], loyaltyView(balance)));
}

function customerLines(customerId: number, deps: ApiDeps): Promise<Item[]> {
  return queryAll(deps.dynamo, {
    ...customerLinesQuery(deps.config.tables.customers, customerId),
    ProjectionExpression: '#no, #date, #country, #total',
    ExpressionAttributeNames: {
      '#no': 'invoice_no',
      '#date': 'invoice_date',
      '#country': 'country',
      '#total': 'line_total',
    },
  });
}

/**
 * GET /customers/{customerId}/invoices: the customer's invoices, newest first, `limit` a page.
 *
 * The table holds lines, and an invoice's lines are adjacent (their sort keys share `<date>#<invoice>#`).
 * An invoice is emitted only once its last line has been read (the next item belongs to another invoice,
 * or the partition ends), and the cursor is the key of that last line, so the next page starts exactly at
 * the next invoice: a page never splits an invoice, whatever DynamoDB's page boundaries.
 */
export async function getCustomerInvoices(
  rawId: string,
  limit: number,
  next: string | undefined,
  deps: ApiDeps,
): Promise<HttpResponse> {
  const customerId = parseCustomerId(rawId);
  const startKey = decodeCursor(next, KEY_ATTRIBUTES.pk, customerPk(customerId), [
    KEY_ATTRIBUTES.pk,
    KEY_ATTRIBUTES.sk,
  ]);
  // A key past the lines (the balance item's) is outside the Query's key condition: DynamoDB would refuse it.
  if (startKey && !(String(startKey[KEY_ATTRIBUTES.sk]) < CUSTOMER_LINES_SK_END)) {
    throw new BadRequestError('invalid_cursor', `next ${JSON.stringify(next)} is not a cursor of this list`);
  }
  const invoices: CustomerLine[][] = [];
  let current: { lines: CustomerLine[]; lastKey: ItemKey } | null = null;
  let cursor: ItemKey | undefined;
  const input = {
    ...customerLinesQuery(deps.config.tables.customers, customerId, startKey),
    // Enough lines for a page of typical invoices in one request; pages follow if not.
    Limit: Math.min(1_000, limit * 25 + 1),
  };
  scan: for await (const page of queryPages(deps.dynamo, input)) {
    for (const item of page.items) {
      const line = item as unknown as CustomerLine;
      if (current && sameInvoice(current.lines[0]!, line)) {
        current.lines.push(line);
      } else {
        if (current) {
          invoices.push(current.lines);
          if (invoices.length === limit) {
            cursor = current.lastKey;
            current = null;
            break scan;
          }
        }
        current = { lines: [line], lastKey: {} };
      }
      current.lastKey = keyOf(item);
    }
  }
  if (current) invoices.push(current.lines);
  if (invoices.length === 0 && !startKey) throw new NotFoundError(`customer ${customerId} not found`);
  return json(200, {
    customer_id: customerId,
    invoices: invoices.map(customerInvoiceView),
    next: cursor ? encodeCursor(cursor) : null,
  });
}

function sameInvoice(a: CustomerLine, b: CustomerLine): boolean {
  return a.invoice_no === b.invoice_no && a.invoice_date === b.invoice_date;
}

function keyOf(item: Item): ItemKey {
  return { [KEY_ATTRIBUTES.pk]: item[KEY_ATTRIBUTES.pk], [KEY_ATTRIBUTES.sk]: item[KEY_ATTRIBUTES.sk] };
}
