import { type ItemKey, queryPages, stockInvoicesQuery } from '../../adapters/dynamodb.js';
import { KEY_ATTRIBUTES, stockKey } from '../../core/dynamo-items.js';
import { decodeCursor, encodeCursor } from '../cursor.js';
import type { ApiDeps } from '../deps.js';
import { NotFoundError } from '../errors.js';
import { type HttpResponse, json, keyParameter } from '../http.js';
import type { StockInvoiceView } from '../views.js';

/**
 * GET /stock/{stockCode}/invoices: the invoices that contain the stock code, newest first, from the
 * `by_stock` index. The index holds one membership item per (invoice, stock code), so each invoice appears
 * once. One more item than the page is read, so `next` is null on the last page.
 */
export async function getStockInvoices(
  rawStockCode: string,
  limit: number,
  next: string | undefined,
  deps: ApiDeps,
): Promise<HttpResponse> {
  const stockCode = keyParameter('stockCode', rawStockCode);
  const { pk, sk, gsi1pk, gsi1sk } = KEY_ATTRIBUTES;
  // A query on an index pages by the index's key and the table's.
  const startKey = decodeCursor(next, gsi1pk, stockKey(stockCode), [gsi1pk, gsi1sk, pk, sk]);
  const items = [];
  for await (const page of queryPages(
    deps.dynamo,
    stockInvoicesQuery(deps.config.tables.invoices, stockCode, limit + 1, startKey),
  )) {
    items.push(...page.items);
    if (items.length > limit) break;
  }
  if (items.length === 0 && !startKey)
    throw new NotFoundError(`stock code ${JSON.stringify(stockCode)} not found`);
  const shown = items.slice(0, limit);
  const last = shown[shown.length - 1];
  const cursor: ItemKey | undefined =
    items.length > limit && last
      ? { [pk]: last[pk], [sk]: last[sk], [gsi1pk]: last[gsi1pk], [gsi1sk]: last[gsi1sk] }
      : undefined;
  const invoices: StockInvoiceView[] = shown.map((item) => ({
    invoice_no: item['invoice_no'] as string,
    invoice_date: item['invoice_date'] as string,
    customer_id: (item['customer_id'] as number | null | undefined) ?? null,
    country: item['country'] as string,
  }));
  return json(200, { stock_code: stockCode, invoices, next: cursor ? encodeCursor(cursor) : null });
}
