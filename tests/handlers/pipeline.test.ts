/**
 * The streaming path end to end against the emulators: POST /ingest (CSV, JSON, NDJSON) → Kinesis
 * (kinesalite) → the transform handler → DynamoDB (dynalite), Firehose (local) and the quarantine (s3rver),
 * then the GET routes. The handlers are the deployed exports, configured from the environment.
 */
import type { APIGatewayProxyResult, KinesisStreamRecord } from 'aws-lambda';
import { batchWrite, createDocumentClient } from '../../src/adapters/dynamodb.js';
import { publishLoyaltyBalances } from '../../src/analytics/loyalty-publish.js';
import { LOYALTY_BALANCE_SK } from '../../src/core/dynamo-items.js';
import { handler as apiHandler } from '../../src/handlers/api.js';
import { handler as transformHandler } from '../../src/handlers/transform.js';
import { decodeRecord, ENVELOPE_VERSIONS } from '../../src/stream/envelope.js';
import {
  type Emulators,
  readQuarantine,
  StreamReader,
  scanTable,
  startEmulators,
} from '../helpers/emulators.js';
import { apiEvent, ingestEvent, kinesisEvent, lambdaContext } from '../helpers/events.js';
import { CSV_BODY, JSON_ROWS, NDJSON_BODY } from '../helpers/retail-rows.js';

let emu: Emulators;
let reader: StreamReader;
const savedEnv = { ...process.env };
const posted: Record<string, { statusCode: number; body: Record<string, unknown> }> = {};
let streamRecords: KinesisStreamRecord[] = [];

async function call(event: Parameters<typeof apiHandler>[0]) {
  const result = (await apiHandler(event, lambdaContext())) as APIGatewayProxyResult;
  return { statusCode: result.statusCode, body: JSON.parse(result.body) as Record<string, unknown> };
}

function get(resource: string, params: Record<string, string>, query?: Record<string, string>) {
  return call(apiEvent({ resource, params, ...(query ? { query } : {}) }));
}

/** Delivers the new stream records to the transformer, one batch per shard, as Lambda does. */
async function deliverStream(): Promise<KinesisStreamRecord[]> {
  const shards = await reader.next();
  for (const records of shards.values()) {
    const response = await transformHandler(kinesisEvent(records));
    expect(response.batchItemFailures).toEqual([]);
  }
  return [...shards.values()].flat();
}

beforeAll(async () => {
  emu = await startEmulators();
  Object.assign(process.env, emu.env);
  reader = new StreamReader(emu.kinesis, emu.config.streamName);
  // Act (shared by the assertions below): post three bodies, then run the transformer over the stream.
  posted['csv'] = await call(ingestEvent('text/csv', Buffer.from(CSV_BODY)));
  posted['json'] = await call(ingestEvent('application/json', JSON.stringify(JSON_ROWS)));
  posted['ndjson'] = await call(ingestEvent('application/x-ndjson; charset=utf-8', Buffer.from(NDJSON_BODY)));
  streamRecords = await deliverStream();
});

afterAll(async () => {
  process.env = savedEnv;
  await emu.stop();
});

describe('POST /ingest', () => {
  it('answers 202 with received = accepted + rejected and each rejection explained', () => {
    expect(posted['csv']).toEqual({
      statusCode: 202,
      body: {
        received: 11,
        accepted: 10,
        rejected: 1,
        errors: [
          {
            line: 10,
            reason: 'invalid_quantity',
            field: 'Quantity',
            message: 'line 10: Quantity "6x" is not an integer',
          },
        ],
      },
    });
    expect(posted['json']?.statusCode).toBe(202);
    expect(posted['json']?.body).toMatchObject({ received: 3, accepted: 2, rejected: 1 });
    expect(posted['json']?.body['errors']).toEqual([
      {
        line: 3,
        reason: 'missing_field',
        field: 'Quantity',
        message: 'line 3: missing required keys Quantity, UnitPrice',
      },
    ]);
    expect(posted['ndjson']?.body).toMatchObject({ received: 3, accepted: 2, rejected: 1 });
    expect(posted['ndjson']?.body['errors']).toEqual([
      expect.objectContaining({ line: 4, reason: 'malformed_row', field: null }),
    ]);
  });

  it('puts every accepted row on the stream once, packed by invoice in v2 envelopes keyed by its InvoiceNo', () => {
    const envelopes = streamRecords.map((r) => ({
      key: r.kinesis.partitionKey,
      version: JSON.parse(Buffer.from(r.kinesis.data, 'base64').toString('utf8')).v,
      lines: decodeRecord(Buffer.from(r.kinesis.data, 'base64')).lines,
    }));
    // 14 rows in fewer records: the lines of one invoice in one request share a record.
    expect(envelopes.flatMap((e) => e.lines)).toHaveLength(10 + 2 + 2);
    expect(envelopes.length).toBeLessThan(14);
    for (const { key, version, lines } of envelopes) {
      expect(version).toBe(ENVELOPE_VERSIONS.packed);
      for (const l of lines) expect(l.row.InvoiceNo).toBe(key);
    }
    const perRequest = new Set(envelopes.map((e) => `${e.lines[0]!.request_id}|${e.key}`));
    expect(perRequest.size).toBe(envelopes.length);
    expect(envelopes.flatMap((e) => e.lines.map((l) => l.row))).toContainEqual({
      InvoiceNo: '536371',
      StockCode: '22086',
      Description: "PAPER CHAIN KIT 50'S CHRISTMAS",
      Quantity: '80',
      InvoiceDate: '2010-12-01 09:00:00',
      UnitPrice: '2.55',
      CustomerID: '12583',
      Country: 'France',
    });
  });

  it('writes the rejected rows to the quarantine with their reason', async () => {
    const objects = await readQuarantine(emu.s3, emu.config.quarantine.bucket);
    const rows = objects.flatMap((o) => o.rows);
    expect(objects.every((o) => o.key.startsWith('quarantine/api/date='))).toBe(true);
    const sourceOf = (r: Record<string, unknown>) => (r['origin'] as { source: string }).source;
    expect(rows.map((r) => [r['reason'], r['line'], sourceOf(r)]).sort()).toEqual([
      ['invalid_quantity', 10, 'api'],
      ['malformed_row', 4, 'api'],
      ['missing_field', 3, 'api'],
    ]);
    expect(rows.find((r) => r['reason'] === 'invalid_quantity')?.['raw']).toContain('6x');
  });
});

describe('the transformer', () => {
  it('stores each distinct line once, whatever body format or duplicate it came in', async () => {
    const items = await scanTable(emu.dynamo, emu.config.tables.invoices);
    const lines = items.filter((i) => i['kind'] === 'line');
    // 14 rows on the stream: the CSV duplicate and the NDJSON copy of a CSV line collapse.
    expect(lines).toHaveLength(12);
    expect(new Set(lines.map((l) => l['line_id'])).size).toBe(12);
    const customers = await scanTable(emu.dynamo, emu.config.tables.customers);
    // Every line but the guest's has a customer item.
    expect(customers).toHaveLength(11);
  });

  it('sends every clean line to both Firehose streams as newline-delimited JSON', () => {
    for (const stream of [emu.config.deliveryStreams.lake, emu.config.deliveryStreams.warehouse]) {
      const records = emu.delivered.get(stream) ?? [];
      // Packed: many newline-terminated lines a record.
      for (const r of records) expect(r.toString('utf8').endsWith('}\n')).toBe(true);
      const lines = records.flatMap((r) => r.toString('utf8').split('\n').filter(Boolean));
      expect(lines).toHaveLength(14);
      expect(records.length).toBeLessThan(lines.length);
      const ids = new Set(lines.map((text) => JSON.parse(text).line_id));
      expect(ids.size).toBe(12);
    }
  });
});

describe('GET /invoices/{invoiceNo}', () => {
  it('returns the invoice with its exact total and every line', async () => {
    const { statusCode, body } = await get('/invoices/{invoiceNo}', { invoiceNo: '536365' });
    expect(statusCode).toBe(200);
    expect(body).toMatchObject({
      invoice_no: '536365',
      customer_id: 17850,
      country: 'United Kingdom',
      invoice_date: '2010-12-01T08:26:00Z',
      is_cancellation: false,
      line_count: 3,
      total: 40.74,
    });
    const lines = body['lines'] as Record<string, unknown>[];
    expect(lines.map((l) => [l['stock_code'], l['quantity'], l['line_total']]).sort()).toEqual([
      ['71053', 6, 20.34],
      ['85123A', 2, 5.1],
      ['85123A', 6, 15.3],
    ]);
    expect(Object.keys(lines[0]!).sort()).toEqual(
      [
        'country',
        'customer_id',
        'description',
        'invoice_date',
        'invoice_no',
        'is_adjustment',
        'is_cancellation',
        'line_id',
        'line_total',
        'quantity',
        'stock_code',
        'unit_price',
      ].sort(),
    );
  });

  it('returns a guest invoice with a null customer and a cancellation with a negative total', async () => {
    const guest = await get('/invoices/{invoiceNo}', { invoiceNo: '536544' });
    expect(guest.body).toMatchObject({ customer_id: null, total: 2.51, line_count: 1 });
    const cancelled = await get('/invoices/{invoiceNo}', { invoiceNo: 'C536379' });
    expect(cancelled.body).toMatchObject({ is_cancellation: true, total: -27.5, customer_id: 14527 });
  });

  it('answers 404 with a JSON error for an unknown invoice', async () => {
    const { statusCode, body } = await get('/invoices/{invoiceNo}', { invoiceNo: '999999' });
    expect(statusCode).toBe(404);
    expect(body).toEqual({ error: 'not_found', message: 'invoice "999999" not found' });
  });
});

describe('GET /invoices/{invoiceNo}/items/{stockCode}', () => {
  it('returns every line of a stock code that appears twice on the invoice', async () => {
    const { statusCode, body } = await get('/invoices/{invoiceNo}/items/{stockCode}', {
      invoiceNo: '536365',
      stockCode: '85123A',
    });
    expect(statusCode).toBe(200);
    expect(body['line_count']).toBe(2);
    const lines = body['lines'] as { quantity: number; unit_price: number }[];
    expect(lines.map((l) => l.quantity).sort()).toEqual([2, 6]);
    expect(lines.every((l) => l.unit_price === 2.55)).toBe(true);
  });

  it('answers 404 for a stock code not on the invoice', async () => {
    const { statusCode, body } = await get('/invoices/{invoiceNo}/items/{stockCode}', {
      invoiceNo: '536365',
      stockCode: '22633',
    });
    expect(statusCode).toBe(404);
    expect(body['message']).toBe('stock code "22633" is not on invoice "536365"');
  });
});

describe('GET /customers/{customerId}', () => {
  it('computes first and last invoice, invoice count and total spent from the lines', async () => {
    const { statusCode, body } = await get('/customers/{customerId}', { customerId: '17850' });
    expect(statusCode).toBe(200);
    expect(body).toEqual({
      customer_id: 17850,
      country: 'United Kingdom',
      first_invoice_date: '2010-12-01T08:26:00Z',
      last_invoice_date: '2010-12-02T09:00:00Z',
      invoice_count: 3,
      total_spent: 152.04,
      // No refresh has published a balance yet.
      loyalty: { points: 0, as_of: null },
    });
  });

  it('shows the loyalty balance the refresh published, which the invoice listing does not pick up', async () => {
    // Prepare: the listing before, then a publish of two balances as the refresh does it.
    const listed = await get('/customers/{customerId}/invoices', { customerId: '17850' }, { limit: '10' });
    const doc = createDocumentClient(emu.config.aws);
    const rows = [
      { customer_id: '17850', points: '140', as_of: '2010-12-13 09:00:00' },
      { customer_id: '99999', points: '7', as_of: '2010-12-13 09:00:00' },
    ];
    const put = (writes: Parameters<typeof batchWrite>[2]) => batchWrite(doc, emu.config.tables, writes);
    // Act: twice, as two refreshes would.
    const published = await publishLoyaltyBalances(async () => rows, put);
    await publishLoyaltyBalances(async () => rows, put);
    const customer = await get('/customers/{customerId}', { customerId: '17850' });
    const after = await get('/customers/{customerId}/invoices', { customerId: '17850' }, { limit: '10' });
    // Assess
    expect(published).toMatchObject({ balances: 2, written: 2 });
    expect(customer.body).toMatchObject({
      customer_id: 17850,
      invoice_count: 3,
      total_spent: 152.04,
      loyalty: { points: 140, as_of: '2010-12-13T09:00:00Z' },
    });
    expect(after.body).toEqual(listed.body);
    const items = (await scanTable(emu.dynamo, emu.config.tables.customers)).filter(
      (i) => i['sk'] === LOYALTY_BALANCE_SK,
    );
    expect(items).toHaveLength(2);
    // A balance alone is not a customer: the lines are what GET /customers/{id} is about.
    expect((await get('/customers/{customerId}', { customerId: '99999' })).statusCode).toBe(404);
  });

  it('answers 404 for an unknown customer and 400 for a customer id that is not a number', async () => {
    expect((await get('/customers/{customerId}', { customerId: '99999' })).statusCode).toBe(404);
    const bad = await get('/customers/{customerId}', { customerId: 'abc' });
    expect(bad).toEqual({
      statusCode: 400,
      body: { error: 'invalid_parameter', message: 'customerId "abc" is not a customer number' },
    });
  });
});

describe('GET /customers/{customerId}/invoices', () => {
  it('lists the invoices newest first, each whole, in pages that follow the cursor', async () => {
    const first = await get('/customers/{customerId}/invoices', { customerId: '17850' }, { limit: '2' });
    expect(first.statusCode).toBe(200);
    expect(first.body['invoices']).toEqual([
      {
        invoice_no: '536370',
        invoice_date: '2010-12-02T09:00:00Z',
        country: 'United Kingdom',
        is_cancellation: false,
        line_count: 2,
        total: 97.65,
      },
      {
        invoice_no: '536366',
        invoice_date: '2010-12-01T08:28:00Z',
        country: 'United Kingdom',
        is_cancellation: false,
        line_count: 2,
        total: 13.65,
      },
    ]);
    expect(typeof first.body['next']).toBe('string');
    const second = await get(
      '/customers/{customerId}/invoices',
      { customerId: '17850' },
      { limit: '2', next: first.body['next'] as string },
    );
    expect(second.body['invoices']).toEqual([
      expect.objectContaining({ invoice_no: '536365', line_count: 3, total: 40.74 }),
    ]);
    expect(second.body['next']).toBeNull();
  });

  it('refuses a cursor of another customer', async () => {
    const first = await get('/customers/{customerId}/invoices', { customerId: '17850' }, { limit: '1' });
    const replay = await get(
      '/customers/{customerId}/invoices',
      { customerId: '13047' },
      { next: first.body['next'] as string },
    );
    expect(replay.statusCode).toBe(400);
    expect(replay.body['error']).toBe('invalid_cursor');
  });
});

describe('forged cursors', () => {
  const forged = (key: Record<string, unknown>) =>
    Buffer.from(JSON.stringify({ v: 1, k: key })).toString('base64url');

  it.each([
    ['/customers/{customerId}/invoices', { customerId: '17850' }, { pk: 'CUST#17850', sk: 'a', extra: 'b' }],
    ['/customers/{customerId}/invoices', { customerId: '17850' }, { pk: 'CUST#17850' }],
    ['/customers/{customerId}/invoices', { customerId: '17850' }, { pk: 'CUST#17850', sk: 5 }],
    [
      '/customers/{customerId}/invoices',
      { customerId: '17850' },
      { pk: 'CUST#17850', sk: LOYALTY_BALANCE_SK },
    ],
    ['/stock/{stockCode}/invoices', { stockCode: '85123A' }, { gsi1pk: 'STOCK#85123A', gsi1sk: 'x' }],
    [
      '/stock/{stockCode}/invoices',
      { stockCode: '85123A' },
      { gsi1pk: 'STOCK#85123A', gsi1sk: 'x', pk: 1, sk: 'y' },
    ],
  ])(
    'answers %s with a key DynamoDB would refuse (%j) with 400 invalid_cursor, not 503',
    async (resource, params, key) => {
      const { statusCode, body } = await get(resource, params, { next: forged(key) });
      expect({ statusCode, error: body['error'] }).toEqual({ statusCode: 400, error: 'invalid_cursor' });
    },
  );
});

describe('GET /stock/{stockCode}/invoices', () => {
  it('lists each invoice containing the stock code once, newest first, paginated', async () => {
    const pages: unknown[][] = [];
    let next: string | null = null;
    do {
      const query: Record<string, string> = next ? { limit: '2', next } : { limit: '2' };
      const { statusCode, body } = await get('/stock/{stockCode}/invoices', { stockCode: '85123A' }, query);
      expect(statusCode).toBe(200);
      pages.push(body['invoices'] as unknown[]);
      next = body['next'] as string | null;
    } while (next);
    expect(pages.map((p) => p.length)).toEqual([2, 1]);
    expect(pages.flat()).toEqual([
      {
        invoice_no: '536370',
        invoice_date: '2010-12-02T09:00:00Z',
        customer_id: 17850,
        country: 'United Kingdom',
      },
      {
        invoice_no: '536366',
        invoice_date: '2010-12-01T08:28:00Z',
        customer_id: 17850,
        country: 'United Kingdom',
      },
      {
        invoice_no: '536365',
        invoice_date: '2010-12-01T08:26:00Z',
        customer_id: 17850,
        country: 'United Kingdom',
      },
    ]);
  });

  it('answers 404 for a stock code on no invoice, and 400 for a limit out of range', async () => {
    expect((await get('/stock/{stockCode}/invoices', { stockCode: 'NOPE' })).statusCode).toBe(404);
    const bad = await get('/stock/{stockCode}/invoices', { stockCode: '85123A' }, { limit: '501' });
    expect(bad).toEqual({
      statusCode: 400,
      body: { error: 'invalid_parameter', message: 'limit "501" must be an integer from 1 to 500' },
    });
  });
});
