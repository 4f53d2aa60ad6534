import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  BatchWriteCommand,
  DynamoDBDocumentClient,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
  type QueryCommandOutput,
  ScanCommand,
  type ScanCommandOutput,
} from '@aws-sdk/lib-dynamodb';
import type { AwsConfig } from '../config/aws.js';
import {
  BY_STOCK_INDEX,
  CUSTOMER_LINES_SK_END,
  customerPk,
  headKey,
  type InvoiceHeadItem,
  ITEM_KINDS,
  invoicePk,
  keysOf,
  LOYALTY_BALANCE_SK,
  type LogicalTable,
  lineSkPrefix,
  SK_PREFIXES,
  stockKey,
  type TableWrite,
  writeKey,
} from '../core/dynamo-items.js';
import { mapLimit } from '../task-pool.js';
import { baseClientConfig, type ClientOptions } from './aws.js';
import { type EntryOutcome, sendWithEntryRetries } from './batching.js';
import { DynamoReadError, DynamoWriteError } from './errors.js';
import { backoff, type RetryOptions, retryOptions } from './retry.js';

/** BatchWriteItem takes at most 25 writes, BatchGetItem 100 keys. */
export const DYNAMODB_LIMITS = { maxWritesPerBatch: 25, maxKeysPerBatchGet: 100 } as const;

/** The error DynamoDB answers when a write's condition is false. */
const CONDITIONAL_CHECK_FAILED = 'ConditionalCheckFailedException';

/** The error DynamoDB answers for a request it refuses for what it is, not for load. */
const VALIDATION_EXCEPTION = 'ValidationException';
/** Writes of a refused request sent alone at once, to find the invalid one. */
const ISOLATION_CONCURRENCY = 4;

/** Physical table names by logical table. */
export type TableNames = Readonly<Record<LogicalTable, string>>;

/** An item as stored: attribute name to value. */
export type Item = Record<string, unknown>;
/** A `LastEvaluatedKey` / `ExclusiveStartKey`. */
export type ItemKey = Record<string, unknown>;

/** A document client (plain JavaScript values in and out) over a DynamoDB client. */
export function createDocumentClient(aws: AwsConfig, options: ClientOptions = {}): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(new DynamoDBClient(baseClientConfig(aws, 'dynamodb', options)), {
    marshallOptions: { removeUndefinedValues: true },
  });
}

export interface BatchWriteOptions extends Partial<RetryOptions> {
  concurrency?: number;
}

/**
 * Puts (and deletes) items with `BatchWriteItem`, 25 writes a request, retrying `UnprocessedItems` with a jittered
 * exponential backoff.
 *
 * Writes to the same key are merged first (the last wins): DynamoDB rejects a whole request that touches a
 * key twice, and the lines of one invoice share their membership items.
 *
 * A request DynamoDB refuses as invalid is split into single writes, so one invalid item (an over-long key)
 * does not keep the other 24 from being stored.
 *
 * @throws DynamoWriteError after `maxAttempts` rounds, naming (by input index) the writes that may not be
 *   stored (`unprocessed`, worth retrying) and the writes DynamoDB refused as invalid (`invalid`, never
 *   stored). A write merged with others is reported through every input index that targeted its key.
 */
export async function batchWrite(
  doc: DynamoDBDocumentClient,
  tables: TableNames,
  writes: readonly TableWrite[],
  options: BatchWriteOptions = {},
): Promise<{ written: number; attempts: number }> {
  const byKey = new Map<string, { write: TableWrite; indexes: number[] }>();
  writes.forEach((write, index) => {
    const key = writeKey(write);
    const entry = byKey.get(key);
    if (entry) {
      entry.write = write;
      entry.indexes.push(index);
    } else byKey.set(key, { write, indexes: [index] });
  });
  const unique = [...byKey.values()];

  const send = async (chunk: readonly number[]): Promise<EntryOutcome[]> => {
    const requestItems: Record<
      string,
      ({ PutRequest: { Item: Item } } | { DeleteRequest: { Key: ItemKey } })[]
    > = {};
    for (const i of chunk) {
      const write = unique[i]!.write;
      const name = tables[write.table];
      const requests = requestItems[name] ?? [];
      requests.push(
        'delete' in write
          ? { DeleteRequest: { Key: { pk: write.key.pk, sk: write.key.sk } } }
          : { PutRequest: { Item: write.item as unknown as Item } },
      );
      requestItems[name] = requests;
    }
    const out = await doc.send(new BatchWriteCommand({ RequestItems: requestItems }));
    const left = new Set<string>();
    for (const [name, requests] of Object.entries(out.UnprocessedItems ?? {})) {
      for (const request of requests) {
        const keys = request.PutRequest?.Item ?? request.DeleteRequest?.Key;
        if (keys) left.add(`${name}\u0000${String(keys.pk)}\u0000${String(keys.sk)}`);
      }
    }
    return chunk.map((i) => {
      const write = unique[i]!.write;
      const { pk, sk } = keysOf(write);
      return left.has(`${tables[write.table]}\u0000${pk}\u0000${sk}`)
        ? { errorCode: 'UnprocessedItem', errorMessage: `${tables[write.table]} ${pk} ${sk}` }
        : null;
    });
  };

  /**
   * DynamoDB refuses a whole BatchWriteItem when one item is invalid (a key over its size limit, an empty
   * key). Then each write of the request is sent alone, so that the invalid one is named, as a final
   * failure, and the others are stored.
   */
  const sendIsolating = async (chunk: readonly number[]): Promise<EntryOutcome[]> => {
    try {
      return await send(chunk);
    } catch (error) {
      if ((error as Error | undefined)?.name !== VALIDATION_EXCEPTION) throw error;
      if (chunk.length === 1) {
        return [{ errorCode: VALIDATION_EXCEPTION, errorMessage: (error as Error).message, final: true }];
      }
      const alone: EntryOutcome[] = new Array(chunk.length).fill(null);
      await mapLimit(chunk, ISOLATION_CONCURRENCY, async (i, j) => {
        alone[j] = (await sendIsolating([i]))[0]!;
      });
      return alone;
    }
  };

  const result = await sendWithEntryRetries({
    sizes: unique.map(() => 1),
    limits: { maxCount: DYNAMODB_LIMITS.maxWritesPerBatch, maxBytes: Number.POSITIVE_INFINITY },
    retry: retryOptions(options),
    concurrency: options.concurrency ?? 4,
    send: (chunk) => sendIsolating(chunk),
  });
  if (result.failures.length > 0) {
    const inputs = (f: { index: number }) => unique[f.index]!.indexes;
    const invalid = result.failures.filter((f) => f.errorCode === VALIDATION_EXCEPTION);
    const unprocessed = result.failures.filter((f) => f.errorCode !== VALIDATION_EXCEPTION);
    throw new DynamoWriteError(
      Object.values(tables).join(', '),
      unprocessed.flatMap(inputs).sort((a, b) => a - b),
      result.attempts,
      {
        cause: result.lastError,
        invalid: invalid.flatMap((f) => inputs(f).map((index) => ({ index, message: f.errorMessage }))),
      },
    );
  }
  return { written: unique.length, attempts: result.attempts };
}

/** One page of a Query: its items and the key to continue from, if DynamoDB stopped early. */
export interface QueryPage {
  items: Item[];
  lastKey: ItemKey | undefined;
}

/**
 * Pages of a Query, following `LastEvaluatedKey` until the end (or until the caller stops iterating).
 * @throws DynamoReadError naming the table when a request fails
 */
export async function* queryPages(
  doc: DynamoDBDocumentClient,
  input: QueryCommandInput,
): AsyncGenerator<QueryPage> {
  let startKey = input.ExclusiveStartKey;
  do {
    let out: QueryCommandOutput;
    try {
      out = await doc.send(new QueryCommand({ ...input, ExclusiveStartKey: startKey }));
    } catch (error) {
      const where = input.IndexName ? `${input.TableName} (index ${input.IndexName})` : input.TableName;
      throw new DynamoReadError(String(input.TableName), `query on ${where} failed: ${String(error)}`, {
        cause: error,
      });
    }
    startKey = out.LastEvaluatedKey;
    yield { items: (out.Items ?? []) as Item[], lastKey: startKey };
  } while (startKey);
}

/** What the audit reads of a line item. */
export interface LineFigures {
  line_id: string;
  invoice_no: string;
  invoice_date: string;
  line_total: number;
}

/**
 * Every line item of the invoices table, with only the four attributes the audit compares: a Scan with
 * a projection and a filter on `kind`. A Scan reads (and is billed for) every item it passes, membership
 * items included; the filter only saves the bytes sent back. Costs are in docs/audit.md.
 *
 * @throws DynamoReadError naming the table when a request fails
 */
export async function* scanLineFigures(
  doc: DynamoDBDocumentClient,
  table: string,
): AsyncGenerator<LineFigures> {
  let startKey: ItemKey | undefined;
  do {
    let out: ScanCommandOutput;
    try {
      out = await doc.send(
        new ScanCommand({
          TableName: table,
          ProjectionExpression: 'line_id, invoice_no, invoice_date, line_total',
          FilterExpression: '#kind = :line',
          ExpressionAttributeNames: { '#kind': 'kind' },
          ExpressionAttributeValues: { ':line': ITEM_KINDS.line },
          ExclusiveStartKey: startKey,
        }),
      );
    } catch (error) {
      throw new DynamoReadError(table, `scan of ${table} failed: ${String(error)}`, { cause: error });
    }
    startKey = out.LastEvaluatedKey;
    for (const item of out.Items ?? []) yield item as LineFigures;
  } while (startKey);
}

/** Every item a Query matches. */
export async function queryAll(doc: DynamoDBDocumentClient, input: QueryCommandInput): Promise<Item[]> {
  const items: Item[] = [];
  for await (const page of queryPages(doc, input)) items.push(...page.items);
  return items;
}

/** Every line item of an invoice, ordered by stock code. */
export function queryInvoiceLines(doc: DynamoDBDocumentClient, table: string, invoiceNo: string) {
  return queryAll(doc, {
    TableName: table,
    KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
    ExpressionAttributeValues: { ':pk': invoicePk(invoiceNo), ':prefix': SK_PREFIXES.line },
  });
}

/** Every line item of one stock code on an invoice (there can be several). */
export function queryInvoiceStockLines(
  doc: DynamoDBDocumentClient,
  table: string,
  invoiceNo: string,
  stockCode: string,
) {
  return queryAll(doc, {
    TableName: table,
    KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
    ExpressionAttributeValues: { ':pk': invoicePk(invoiceNo), ':prefix': lineSkPrefix(stockCode) },
  });
}

/**
 * The Query over a customer's lines; newest first unless `oldestFirst`. The sort-key bound keeps the
 * customer's other items (the loyalty balance) out of it.
 */
export function customerLinesQuery(
  table: string,
  customerId: number,
  startKey?: ItemKey,
  oldestFirst = false,
): QueryCommandInput {
  return {
    TableName: table,
    KeyConditionExpression: 'pk = :pk AND sk < :end',
    ExpressionAttributeValues: { ':pk': customerPk(customerId), ':end': CUSTOMER_LINES_SK_END },
    ScanIndexForward: oldestFirst,
    ExclusiveStartKey: startKey,
  };
}

/**
 * A customer's loyalty balance item, or undefined when none was published. A Query on the item's whole key
 * (as every look-up of the API is a Query), the price of a GetItem.
 * @throws DynamoReadError naming the table when the request fails
 */
export async function getLoyaltyBalanceItem(
  doc: DynamoDBDocumentClient,
  table: string,
  customerId: number,
): Promise<Item | undefined> {
  const [item] = await queryAll(doc, {
    TableName: table,
    KeyConditionExpression: 'pk = :pk AND sk = :sk',
    ExpressionAttributeValues: { ':pk': customerPk(customerId), ':sk': LOYALTY_BALANCE_SK },
  });
  return item;
}

/** The Query over the `by_stock` index: invoices containing a stock code, newest first. */
export function stockInvoicesQuery(
  table: string,
  stockCode: string,
  limit: number,
  startKey?: ItemKey,
): QueryCommandInput {
  return {
    TableName: table,
    IndexName: BY_STOCK_INDEX,
    KeyConditionExpression: 'gsi1pk = :pk',
    ExpressionAttributeValues: { ':pk': stockKey(stockCode) },
    ScanIndexForward: false,
    Limit: limit,
    ExclusiveStartKey: startKey,
  };
}

/**
 * The head items (the newest change) of `invoiceNos`, by invoice; an invoice that never had a change has
 * none. Strongly consistent reads: a change applied by the batch before must be seen. BatchGetItem, 100
 * keys a request, with `UnprocessedKeys` retried.
 * @throws DynamoReadError when keys are still unprocessed after the attempts
 */
export async function getInvoiceHeads(
  doc: DynamoDBDocumentClient,
  table: string,
  invoiceNos: Iterable<string>,
  options: Partial<RetryOptions> = {},
): Promise<Map<string, InvoiceHeadItem>> {
  const retry = retryOptions(options);
  const heads = new Map<string, InvoiceHeadItem>();
  const keys: ItemKey[] = [...new Set(invoiceNos)].map((no) => ({ ...headKey(no) }));
  for (let start = 0; start < keys.length; start += DYNAMODB_LIMITS.maxKeysPerBatchGet) {
    let pending: ItemKey[] = keys.slice(start, start + DYNAMODB_LIMITS.maxKeysPerBatchGet);
    for (let attempt = 1; pending.length > 0; attempt++) {
      if (attempt > retry.maxAttempts) {
        throw new DynamoReadError(
          table,
          `${pending.length} invoice heads unread after ${retry.maxAttempts} attempts`,
        );
      }
      if (attempt > 1) await backoff(attempt - 1, retry);
      const out = await doc.send(
        new BatchGetCommand({ RequestItems: { [table]: { Keys: pending, ConsistentRead: true } } }),
      );
      for (const item of out.Responses?.[table] ?? []) {
        const head = item as unknown as InvoiceHeadItem;
        heads.set(head.invoice_no, head);
      }
      pending = (out.UnprocessedKeys?.[table]?.Keys ?? []) as ItemKey[];
    }
  }
  return heads;
}

/** Every item of an invoice (lines, memberships, head), strongly consistent: what a change replaces. */
export function queryInvoiceItems(doc: DynamoDBDocumentClient, table: string, invoiceNo: string) {
  return queryAll(doc, {
    TableName: table,
    KeyConditionExpression: 'pk = :pk',
    ExpressionAttributeValues: { ':pk': invoicePk(invoiceNo) },
    ConsistentRead: true,
  });
}

/**
 * Puts an invoice's head unless the head stored is newer: a different change with a higher version, or
 * with the same version (two API processes can assign one; the change applied first keeps it). The same
 * change again (a retry) passes. Returns false when a newer head stopped it.
 */
export async function putInvoiceHead(
  doc: DynamoDBDocumentClient,
  table: string,
  head: InvoiceHeadItem,
): Promise<boolean> {
  try {
    await doc.send(
      new PutCommand({
        TableName: table,
        Item: head as unknown as Item,
        ConditionExpression:
          'attribute_not_exists(pk) OR #version < :version OR (#version = :version AND #request = :request)',
        ExpressionAttributeNames: { '#version': 'version', '#request': 'request_id' },
        ExpressionAttributeValues: { ':version': head.version, ':request': head.request_id },
      }),
    );
    return true;
  } catch (error) {
    if ((error as Error | undefined)?.name === CONDITIONAL_CHECK_FAILED) return false;
    throw error;
  }
}
