import type { BatchWriteItemCommandInput, BatchWriteItemCommandOutput } from '@aws-sdk/client-dynamodb';
import { batchWrite, queryInvoiceStockLines } from '../../src/adapters/dynamodb.js';
import { DynamoWriteError } from '../../src/adapters/errors.js';
import { type ItemWrite, itemsForLine } from '../../src/core/dynamo-items.js';
import type { CleanLine } from '../../src/core/schema.js';
import { type Emulators, scanTable, startEmulators } from '../helpers/emulators.js';
import { FAST_RETRY, interceptCommand, serviceError } from '../helpers/faults.js';

let emu: Emulators;
let removers: (() => void)[];

beforeEach(async () => {
  emu = await startEmulators({ shards: 1 });
  removers = [];
});
afterEach(async () => {
  for (const remove of removers) remove();
  await emu.stop();
});

function line(i: number, stock = `S${i}`): CleanLine {
  return {
    line_id: `id${String(i).padStart(30, '0')}`,
    invoice_no: `5${String(Math.floor(i / 3)).padStart(5, '0')}`,
    stock_code: stock,
    description: null,
    quantity: i + 1,
    invoice_date: '2011-01-02T03:04:05Z',
    unit_price: 1.5,
    customer_id: i % 2 === 0 ? 12345 : null,
    country: 'Norway',
    line_total: 1.5 * (i + 1),
    is_cancellation: false,
    is_adjustment: false,
  };
}

function interceptBatches(
  intercept: (
    input: BatchWriteItemCommandInput,
    next: (i: BatchWriteItemCommandInput) => Promise<BatchWriteItemCommandOutput>,
    call: number,
  ) => Promise<BatchWriteItemCommandOutput>,
): void {
  removers.push(interceptCommand(emu.dynamo, 'BatchWriteItemCommand', intercept));
}

describe('batchWrite', () => {
  it('writes in requests of at most 25, merging writes to the same key', async () => {
    const sizes: number[] = [];
    interceptBatches((input, next) => {
      sizes.push(Object.values(input.RequestItems ?? {}).reduce((n, r) => n + r.length, 0));
      return next(input);
    });
    // 40 lines of 14 invoices: 40 line items, up to 40 membership items, 20 customer items.
    const writes = Array.from({ length: 40 }, (_, i) => line(i)).flatMap(itemsForLine);
    const duplicated: ItemWrite[] = [...writes, ...writes.slice(0, 10)];
    // Act
    const result = await batchWrite(emu.dynamo, emu.config.tables, duplicated);
    // Assess
    expect(result.written).toBe(writes.length);
    expect(Math.max(...sizes)).toBe(25);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(writes.length);
    const stored = await scanTable(emu.dynamo, emu.config.tables.invoices);
    expect(stored).toHaveLength(80);
  });

  it('throws DynamoWriteError naming every input write left unprocessed after maxAttempts', async () => {
    // Prepare: the customers table never processes anything.
    interceptBatches(async (input, next) => {
      const { [emu.config.tables.customers]: withheld, ...rest } = input.RequestItems ?? {};
      const out =
        Object.keys(rest).length > 0 ? await next({ ...input, RequestItems: rest }) : { $metadata: {} };
      return { ...out, UnprocessedItems: withheld ? { [emu.config.tables.customers]: withheld } : {} };
    });
    const writes = [line(0), line(2)].flatMap(itemsForLine);
    // Act
    const error = await batchWrite(emu.dynamo, emu.config.tables, writes, FAST_RETRY).catch(
      (e: unknown) => e,
    );
    // Assess
    expect(error).toBeInstanceOf(DynamoWriteError);
    const e = error as DynamoWriteError;
    expect(e.attempts).toBe(FAST_RETRY.maxAttempts);
    expect(e.unprocessed.map((i) => writes[i]!.table)).toEqual(['customers', 'customers']);
    expect(await scanTable(emu.dynamo, emu.config.tables.invoices)).toHaveLength(4);
  });

  it('does not retry a request DynamoDB refused as invalid', async () => {
    let calls = 0;
    interceptBatches(async () => {
      calls++;
      throw serviceError(
        'ValidationException',
        400,
        'client',
        'Item size has exceeded the maximum allowed size',
      );
    });
    const error = (await batchWrite(emu.dynamo, emu.config.tables, itemsForLine(line(1)), FAST_RETRY).catch(
      (e: unknown) => e,
    )) as DynamoWriteError;
    expect(calls).toBe(1);
    expect(error.unprocessed).toEqual([0, 1]);
    expect((error.cause as Error).name).toBe('ValidationException');
  });
});

describe('queries', () => {
  it('finds every line of a stock code on an invoice, and no line of a code that only shares its prefix', async () => {
    // Prepare: stock "A" twice, and stock "A#B" whose keys start like A's would without escaping.
    const lines = [
      line(0, 'A'),
      { ...line(1, 'A'), invoice_no: line(0).invoice_no },
      { ...line(2, 'A#B'), invoice_no: line(0).invoice_no },
    ];
    await batchWrite(emu.dynamo, emu.config.tables, lines.flatMap(itemsForLine));
    // Act
    const a = await queryInvoiceStockLines(emu.dynamo, emu.config.tables.invoices, line(0).invoice_no, 'A');
    const ab = await queryInvoiceStockLines(
      emu.dynamo,
      emu.config.tables.invoices,
      line(0).invoice_no,
      'A#B',
    );
    // Assess
    expect(a.map((i) => i['quantity']).sort()).toEqual([1, 2]);
    expect(ab.map((i) => i['stock_code'])).toEqual(['A#B']);
  });
});
