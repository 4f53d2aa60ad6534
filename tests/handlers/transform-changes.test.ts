/**
 * Corrections through the transform handler, against the emulators: changes of an invoice delivered out
 * of order and twice end in the newest version in DynamoDB, and in what the lake and the warehouse show
 * (the rows both Firehose streams received, read with the rule of src/core/changes.ts).
 */
import type { KinesisStreamRecord } from 'aws-lambda';
import { createDocumentClient } from '../../src/adapters/dynamodb.js';
import { createFirehoseClient } from '../../src/adapters/firehose.js';
import { createS3Client } from '../../src/adapters/s3.js';
import { loadTransformConfig } from '../../src/config/transform.js';
import { settleRows } from '../../src/core/changes.js';
import { HEAD_SK, ITEM_KINDS } from '../../src/core/dynamo-items.js';
import { cleanSourceRow, type SourceRow } from '../../src/core/row-objects.js';
import type { CleanLine, StoredLine } from '../../src/core/schema.js';
import { createTransformHandler } from '../../src/handlers/transform.js';
import type { TransformDeps } from '../../src/stream/deps.js';
import { encodeChange, INVOICE_CHANGES, packEnvelopes } from '../../src/stream/envelope.js';
import { type Emulators, scanTable, startEmulators } from '../helpers/emulators.js';
import { kinesisEvent, kinesisRecord } from '../helpers/events.js';
import { FAST_RETRY, fastClientOptions } from '../helpers/faults.js';

let emu: Emulators;
let handler: ReturnType<typeof createTransformHandler>;
let logged: { message: string; [field: string]: unknown }[];

beforeEach(async () => {
  emu = await startEmulators({ shards: 1 });
  const config = loadTransformConfig(emu.env);
  logged = [];
  const log = (message: string, fields?: Record<string, unknown>) => void logged.push({ message, ...fields });
  const deps: TransformDeps = {
    config,
    dynamo: createDocumentClient(config.aws, fastClientOptions()),
    firehose: createFirehoseClient(config.aws, fastClientOptions()),
    s3: createS3Client(config.aws, fastClientOptions()),
    retry: FAST_RETRY,
    log: { info: log, warn: log, error: log },
  };
  handler = createTransformHandler(() => deps);
});

afterEach(async () => {
  await emu.stop();
});

/** A row of `invoice` for `stock`, `quantity` of it; customer 12680 unless `customer` is ''. */
function row(invoice: string, stock: string, quantity: number, customer = '12680'): SourceRow {
  return {
    InvoiceNo: invoice,
    StockCode: stock,
    Description: `ITEM ${stock}`,
    Quantity: String(quantity),
    InvoiceDate: '2011-03-04 10:00:00',
    UnitPrice: '1.25',
    CustomerID: customer,
    Country: 'France',
  };
}

function line(source: SourceRow): CleanLine {
  return cleanSourceRow(source, 2) as CleanLine;
}

let sequence = 1000;

/** A POST's record: rows added to their invoices at `version`. */
function added(requestId: string, version: number, rows: readonly SourceRow[]): KinesisStreamRecord[] {
  return packEnvelopes(
    requestId,
    rows.map((r, i) => ({ partitionKey: r.InvoiceNo, line: i + 2, row: r })),
    undefined,
    version,
  ).map((p) =>
    kinesisRecord({ data: p.data, sequenceNumber: String(sequence++), partitionKey: p.partitionKey }),
  );
}

/** A PUT's record (rows given) or a DELETE's (none). */
function changed(requestId: string, version: number, invoice: string, rows?: readonly SourceRow[]) {
  const record = encodeChange(
    requestId,
    version,
    rows ? INVOICE_CHANGES.replace : INVOICE_CHANGES.delete,
    invoice,
    (rows ?? []).map((r, i) => ({ line: i + 2, row: r })),
  );
  return kinesisRecord({ data: record.data, sequenceNumber: String(sequence++), partitionKey: invoice });
}

/** The line ids of `invoice` in DynamoDB's invoices table. */
async function storedLineIds(invoice: string): Promise<string[]> {
  const items = await scanTable(emu.dynamo, emu.config.tables.invoices);
  return items
    .filter((i) => i['kind'] === ITEM_KINDS.line && i['invoice_no'] === invoice)
    .map((i) => String(i['line_id']))
    .sort();
}

/** What a store fed by `stream` shows: every row it received, read with the rule. */
function shown(stream: string): string[] {
  const rows: StoredLine[] = [];
  for (const record of emu.delivered.get(stream) ?? []) {
    for (const text of record.toString('utf8').split('\n').filter(Boolean)) rows.push(JSON.parse(text));
  }
  return settleRows(rows)
    .visible.map((r) => r.line_id)
    .sort();
}

const ids = (...sources: SourceRow[]) => sources.map((s) => line(s).line_id).sort();

// Invoice 600001: posted with three lines, then replaced twice; 600002: posted, then deleted.
const A = row('600001', 'A', 1);
const B = row('600001', 'B', 2);
const C = row('600001', 'C', 3);
const B_FIXED = row('600001', 'B', 5);
const Y1 = row('600002', 'Y1', 1);
const Y2 = row('600002', 'Y2', 1, '');
const history = () => ({
  post: added('post', 10, [A, B, C, Y1, Y2]),
  replace: changed('put-1', 20, '600001', [A, B_FIXED]),
  replaceAgain: changed('put-2', 30, '600001', [A, B_FIXED, row('600001', 'D', 1)]),
  remove: changed('delete-1', 25, '600002'),
});

describe('changes delivered out of order and twice', () => {
  it.each([
    ['in order', (h: ReturnType<typeof history>) => [[...h.post, h.replace, h.remove, h.replaceAgain]]],
    [
      'newest first, then the older ones, then all again',
      (h: ReturnType<typeof history>) => [
        [h.replaceAgain, h.remove],
        [...h.post, h.replace],
        [...h.post, h.replace, h.replaceAgain, h.remove],
      ],
    ],
    [
      'one record a batch, backwards',
      (h: ReturnType<typeof history>) => [
        [h.replaceAgain],
        [h.remove],
        [h.replace],
        ...h.post.map((p) => [p]),
      ],
    ],
    [
      'the older replace and the post in the batch after the newer one',
      (h: ReturnType<typeof history>) => [
        [...h.post, h.replaceAgain],
        [h.replace, h.remove, ...h.post],
      ],
    ],
  ])('end in the newest version everywhere: %s', async (_name, batchesOf) => {
    // Act
    for (const batch of batchesOf(history())) {
      const response = await handler(kinesisEvent(batch));
      expect(response.batchItemFailures).toEqual([]);
    }
    // Assess: DynamoDB holds the newest set of 600001, nothing of 600002.
    const newest = ids(A, B_FIXED, row('600001', 'D', 1));
    expect(await storedLineIds('600001')).toEqual(newest);
    expect(await storedLineIds('600002')).toEqual([]);
    const invoices = await scanTable(emu.dynamo, emu.config.tables.invoices);
    expect(invoices.filter((i) => i['sk'] === HEAD_SK).map((i) => [i['invoice_no'], i['version']])).toEqual(
      expect.arrayContaining([
        ['600001', 30],
        ['600002', 25],
      ]),
    );
    // No membership is left for a stock code the invoice no longer has (C), or for the deleted invoice.
    const stocks = invoices
      .filter((i) => i['kind'] === ITEM_KINDS.stock)
      .map((i) => `${i['invoice_no']} ${i['stock_code']}`);
    expect(stocks.sort()).toEqual(['600001 A', '600001 B', '600001 D']);
    // The customer's items are the newest lines only (600002's customer line is gone too).
    const customers = await scanTable(emu.dynamo, emu.config.tables.customers);
    expect(customers.map((c) => String(c['line_id'])).sort()).toEqual(newest);
    // The lake and the warehouse show the same.
    expect(shown(emu.config.deliveryStreams.lake)).toEqual(newest);
    expect(shown(emu.config.deliveryStreams.warehouse)).toEqual(newest);
  });

  it('keeps lines posted after a change, and drops (and logs) a re-delivered post older than it', async () => {
    // Arrange
    const h = history();
    const later = added('post-later', 40, [row('600001', 'E', 1)]);
    // Act
    for (const batch of [[...h.post, h.replace], later, h.post]) await handler(kinesisEvent(batch));
    // Assess
    const expected = ids(A, B_FIXED, row('600001', 'E', 1));
    expect(await storedLineIds('600001')).toEqual(expected);
    expect(shown(emu.config.deliveryStreams.lake)).toEqual([...expected, ...ids(Y1, Y2)].sort());
    expect(logged).toContainEqual(
      expect.objectContaining({
        message: expect.stringContaining('superseded'),
        request_id: 'post',
        lines: 3,
      }),
    );
  });
});
