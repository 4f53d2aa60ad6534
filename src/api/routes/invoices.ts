import { queryInvoiceLines, queryInvoiceStockLines } from '../../adapters/dynamodb.js';
import { lineFromItem } from '../../core/dynamo-items.js';
import type { ApiDeps } from '../deps.js';
import { NotFoundError } from '../errors.js';
import { type HttpResponse, json, keyParameter } from '../http.js';
import { invoiceView } from '../views.js';

/** GET /invoices/{invoiceNo}: the invoice's summary and every line. 404 when no line is stored. */
export async function getInvoice(rawInvoiceNo: string, deps: ApiDeps): Promise<HttpResponse> {
  const invoiceNo = keyParameter('invoiceNo', rawInvoiceNo);
  const items = await queryInvoiceLines(deps.dynamo, deps.config.tables.invoices, invoiceNo);
  if (items.length === 0) throw new NotFoundError(`invoice ${JSON.stringify(invoiceNo)} not found`);
  return json(200, invoiceView(items.map(lineFromItem)));
}

/**
 * GET /invoices/{invoiceNo}/items/{stockCode}: every line of the stock code on the invoice. There can be
 * several (9,694 such pairs in the real data), each its own item keyed by line_id.
 */
export async function getInvoiceItems(
  rawInvoiceNo: string,
  rawStockCode: string,
  deps: ApiDeps,
): Promise<HttpResponse> {
  const invoiceNo = keyParameter('invoiceNo', rawInvoiceNo);
  const stockCode = keyParameter('stockCode', rawStockCode);
  const items = await queryInvoiceStockLines(deps.dynamo, deps.config.tables.invoices, invoiceNo, stockCode);
  if (items.length === 0) {
    throw new NotFoundError(
      `stock code ${JSON.stringify(stockCode)} is not on invoice ${JSON.stringify(invoiceNo)}`,
    );
  }
  const lines = items.map(lineFromItem);
  return json(200, { invoice_no: invoiceNo, stock_code: stockCode, line_count: lines.length, lines });
}
