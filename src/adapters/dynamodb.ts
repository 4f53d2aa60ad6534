import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchWriteCommand,
  DynamoDBDocumentClient,
  QueryCommand,
  type QueryCommandInput,
  type QueryCommandOutput,
  ScanCommand,
  type ScanCommandOutput,
} from '@aws-sdk/lib-dynamodb';
import type { AwsConfig } from '../config/aws.js';
import {
  BY_STOCK_INDEX,
  customerPk,
  ITEM_KINDS,
  type ItemWrite,
  invoicePk,
  type LogicalTable,
  lineSkPrefix,
  SK_PREFIXES,
  stockKey,
  writeKey,
} from '../core/dynamo-items.js';
import { mapLimit } from '../task-pool.js';
import { baseClientConfig, type ClientOptions } from './aws.js';
import { type EntryOutcome, sendWithEntryRetries } from './batching.js';
import { DynamoReadError, DynamoWriteError } from './errors.js';
import { type RetryOptions, retryOptions } from './retry.js';

/** BatchWriteItem takes at most 25 writes. */
export const DYNAMODB_LIMITS = { maxWritesPerBatch: 25 } as const;

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
 * Puts items with `BatchWriteItem`, 25 writes a request, retrying `UnprocessedItems` with a jittered
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
  writes: readonly ItemWrite[],
  options: BatchWriteOptions = {},
): Promise<{ written: number; attempts: number }> {
  const byKey = new Map<string, { write: ItemWrite; indexes: number[] }>();
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
    const requestItems: Record<string, { PutRequest: { Item: Item } }[]> = {};
    for (const i of chunk) {
      const { table, item } = unique[i]!.write;
      const name = tables[table];
      const requests = requestItems[name] ?? [];
      requests.push({ PutRequest: { Item: item as unknown as Item } });
      requestItems[name] = requests;
    }
    const out = await doc.send(new BatchWriteCommand({ RequestItems: requestItems }));
    const left = new Set<string>();
    for (const [name, requests] of Object.entries(out.UnprocessedItems ?? {})) {
      for (const request of requests) {
        const item = request.PutRequest?.Item;
        if (item) left.add(`${name}\u0000${String(item.pk)}\u0000${String(item.sk)}`);
      }
    }
    return chunk.map((i) => {
      const { table, item } = unique[i]!.write;
      return left.has(`${tables[table]}\u0000${item.pk}\u0000${item.sk}`)
        ? { errorCode: 'UnprocessedItem', errorMessage: `${tables[table]} ${item.pk} ${item.sk}` }
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

/** The Query over a customer's lines; newest first unless `oldestFirst`. */
export function customerLinesQuery(
  table: string,
  customerId: number,
  startKey?: ItemKey,
  oldestFirst = false,
): QueryCommandInput {
  return {
    TableName: table,
    KeyConditionExpression: 'pk = :pk',
    ExpressionAttributeValues: { ':pk': customerPk(customerId) },
    ScanIndexForward: oldestFirst,
    ExclusiveStartKey: startKey,
  };
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
