import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Item, TableNames } from '../adapters/dynamodb.js';
import { customerItems, deleteCustomerItems, eraseInvoiceCustomer } from '../adapters/dynamodb-erasure.js';
import { customerPk, LOYALTY_BALANCE_SK } from '../core/dynamo-items.js';
import {
  customerHash,
  type ErasureRecord,
  type ErasureTouched,
  erasureRecord,
  erasureRecordKey,
  erasureId as newErasureId,
} from '../core/erasure.js';
import type { LakeStore } from '../lake/compact.js';
import { ERASURE_STEPS, ErasureError, type ErasureStep } from './errors.js';
import { eraseFromLake } from './lake.js';
import { type ErasureWarehouse, eraseFromWarehouse, warehouseCustomerDays } from './warehouse.js';

/** Every store an erasure rewrites, and where its record goes. */
export interface ErasureStores {
  dynamodb: { doc: DynamoDBDocumentClient; tables: TableNames };
  lake: { store: LakeStore; prefix: string };
  warehouse: ErasureWarehouse;
  /** Rebuilds staging's dependants, the marts (refreshWarehouse with the store's runner). */
  refresh(): Promise<unknown>;
  /** Keeps the record (a JSON object under erasures/ in the raw bucket). */
  writeRecord(key: string, record: ErasureRecord): Promise<void>;
  /** The secret key of the customer hash (docs/erasure.md, "The key"). */
  key: Uint8Array;
}

export interface EraseOptions {
  /** Given by the caller that already answered with it (the API's 202); a new one otherwise. */
  erasureId?: string;
  requestedAt?: Date;
  now?: () => Date;
}

/** The result: the record kept, and where. */
export interface ErasureResult {
  record: ErasureRecord;
  recordKey: string;
  ms: number;
}

function keysOfItem(item: Item): { pk: string; sk: string } {
  return { pk: String(item['pk']), sk: String(item['sk']) };
}

/**
 * Erases a customer from every store: their lines stay, as the guest lines they would have been without a
 * CustomerID, and nothing keeps the id. The order makes every step safe to run again after a crash:
 * 1. the work list: the customer's items in the customers table (their invoices and days) and the days of
 *    their rows in the warehouse's raw table;
 * 2. DynamoDB's invoices table: each of their line items replaced by the guest line's item (put, then
 *    delete), the membership items' customer_id cleared;
 * 3. the lake: each day rewritten by compaction with the erasing transform, and read back;
 * 4. the warehouse: raw and staging re-keyed in one transaction, then the marts rebuilt by the refresh;
 * 5. last, the customer items: as long as they exist, a second run finds the same invoices and days;
 * 6. the record, with the id's keyed hash and counts only.
 *
 * @throws ErasureError naming the step that failed; running the erasure again goes on from there
 * @example await eraseCustomer(stores, 17850)
 */
export async function eraseCustomer(
  stores: ErasureStores,
  customerId: number,
  options: EraseOptions = {},
): Promise<ErasureResult> {
  const now = options.now ?? (() => new Date());
  const requestedAt = options.requestedAt ?? now();
  const id = options.erasureId ?? newErasureId(requestedAt);
  const started = performance.now();
  const step = async <T>(name: ErasureStep, run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (cause) {
      if (cause instanceof ErasureError) throw cause;
      throw new ErasureError(id, name, (cause as Error).message, { cause });
    }
  };
  // First: a key that cannot hash stops the erasure before any store is touched.
  const hash = await step(ERASURE_STEPS.find, async () => customerHash(stores.key, customerId));
  const { tables, doc } = stores.dynamodb;

  const { items, days } = await step(ERASURE_STEPS.find, async () => {
    const found: Item[] = await customerItems(doc, tables.customers, customerId);
    const all = await warehouseCustomerDays(stores.warehouse, customerId);
    for (const item of found) all.add(String(item['invoice_date']).slice(0, 10));
    return { items: found, days: all };
  });
  const invoices = [...new Set(items.map((item) => String(item['invoice_no'])))];

  const touched: ErasureTouched = {
    dynamodb: { customerItems: 0, lineItems: 0, stockItems: 0 },
    lake: { days: 0, lines: 0 },
    warehouse: { rawRows: 0, stagingRows: 0, storedRows: 0, martsRefreshed: false },
  };
  await step(ERASURE_STEPS.dynamodbLines, async () => {
    for (const invoiceNo of invoices) {
      const done = await eraseInvoiceCustomer(doc, tables, invoiceNo, customerId);
      touched.dynamodb.lineItems += done.lineItems;
      touched.dynamodb.stockItems += done.stockItems;
    }
  });
  await step(ERASURE_STEPS.lake, async () => {
    const lake = await eraseFromLake(stores.lake.store, stores.lake.prefix, customerId, days);
    touched.lake = { days: lake.days, lines: lake.lines };
    if (lake.left.length > 0) {
      throw new Error(`${lake.left.length} day(s) of the lake still hold the customer after every rewrite`);
    }
  });
  await step(ERASURE_STEPS.warehouse, async () => {
    const done = await eraseFromWarehouse(stores.warehouse, customerId);
    touched.warehouse.rawRows = done.rawRows;
    touched.warehouse.stagingRows = done.stagingRows;
    touched.warehouse.storedRows = done.storedRows;
  });
  await step(ERASURE_STEPS.refresh, async () => {
    await stores.refresh();
    touched.warehouse.martsRefreshed = true;
  });
  await step(ERASURE_STEPS.dynamodbCustomer, async () => {
    // With their items, the loyalty balance the last refresh published (the line queries never read it);
    // the refresh just run no longer has the customer, so nothing puts it back.
    const balance = { pk: customerPk(customerId), sk: LOYALTY_BALANCE_SK };
    await deleteCustomerItems(doc, tables, [...items.map((item) => keysOfItem(item)), balance]);
    touched.dynamodb.customerItems = items.length;
  });

  const record = erasureRecord({
    erasureId: id,
    customerHash: hash,
    requestedAt,
    finishedAt: now(),
    touched,
  });
  const recordKey = erasureRecordKey(id);
  await step(ERASURE_STEPS.record, () => stores.writeRecord(recordKey, record));
  return { record, recordKey, ms: performance.now() - started };
}
