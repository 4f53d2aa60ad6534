import type { BatchWriteItemCommandInput, BatchWriteItemCommandOutput } from '@aws-sdk/client-dynamodb';
import { batchWrite, queryInvoiceStockLines } from '../../src/adapters/dynamodb.js';
import { DynamoWriteError } from '../../src/adapters/errors.js';
import { DYNAMODB_KEY_LIMITS, type ItemWrite, itemsForLine } from '../../src/core/dynamo-items.js';
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

  it('does not retry a write DynamoDB refused as invalid: it sends each write alone once and names them', async () => {
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
    const writes = itemsForLine(line(1));
    const error = (await batchWrite(emu.dynamo, emu.config.tables, writes, FAST_RETRY).catch(
      (e: unknown) => e,
    )) as DynamoWriteError;
    // The request, then each of its writes alone; no retry round.
    expect(calls).toBe(1 + writes.length);
    expect(error.unprocessed).toEqual([]);
    expect(error.invalid.map((f) => f.index)).toEqual(writes.map((_, i) => i));
    expect(error.invalid[0]!.message).toBe('Item size has exceeded the maximum allowed size');
  });

  it('stores the valid writes of a request that one over-long key made DynamoDB refuse', async () => {
    // Arrange: a sort key over DynamoDB's 1,024 bytes, among 9 valid writes, all in one request.
    const valid = [1, 2, 3].flatMap((i) => itemsForLine(line(i)));
    const bad = {
      ...valid[0]!,
      item: { ...valid[0]!.item, sk: 'X'.repeat(DYNAMODB_KEY_LIMITS.sortKeyBytes + 1) },
    };
    const writes = [...valid.slice(0, 4), bad, ...valid.slice(4)];
    // Act
    const error = (await batchWrite(emu.dynamo, emu.config.tables, writes, FAST_RETRY).catch(
      (e: unknown) => e,
    )) as DynamoWriteError;
    // Assess: dynalite refuses the request as DynamoDB does; the isolation names only the bad write.
    expect(error).toBeInstanceOf(DynamoWriteError);
    expect(error.invalid.map((f) => f.index)).toEqual([4]);
    expect(error.invalid[0]!.message).toMatch(/key|size|length/i);
    expect(error.unprocessed).toEqual([]);
    const stored = [
      ...(await scanTable(emu.dynamo, emu.config.tables.invoices)),
      ...(await scanTable(emu.dynamo, emu.config.tables.customers)),
    ];
    expect(stored).toHaveLength(new Set(valid.map((w) => `${w.table}|${w.item.pk}|${w.item.sk}`)).size);
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
