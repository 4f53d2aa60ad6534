/**
 * The bad-input corpus: more than 60 kinds of hostile or broken requests, over HTTP against the real
 * `ecomflow up`, table-driven. Each case names the status class it must get and, for a 4xx from the API,
 * its error code. After the whole corpus:
 * - no answer was a 5xx;
 * - GET /health answers 200;
 * - for every POST /ingest that was answered with counts, accepted + rejected = the rows it sent.
 *
 * The cases include every one of the reliability issue (deep JSON, forged cursors, a quoted field over the
 * record limit, NUL bytes, year 0000 and 0999, a Description over its bound, a stray invalid UTF-8 byte, the
 * U+001F collision, gzip bodies, undefined methods, big bodies).
 */
import { gzipSync } from 'node:zlib';
import { MAX_BODY_BYTES } from '../../src/api/ingest/ingest.js';
import { GATEWAY_LIMITS } from '../../src/local/gateway.js';
import { HEADER } from '../helpers/retail-rows.js';
import {
  cleanUp,
  makeHome,
  type StackProcess,
  stackEnv,
  startStackProcess,
} from '../helpers/stack-process.js';

let home: string | undefined;
let stack: StackProcess | undefined;

beforeAll(async () => {
  home = await makeHome();
  stack = await startStackProcess(await stackEnv(home));
}, 120_000);
afterAll(async () => {
  await cleanUp(stack, home);
}, 60_000);

const GOOD = '536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,12/1/2010 8:26,2.55,17850,United Kingdom';
/** A CSV body of the header and `rows`, CRLF-ended as the source file is. */
const csv = (...rows: string[]) => [HEADER, ...rows].join('\r\n') + '\r\n';
/** A good row with one field replaced (by column name). */
function row(
  fields: Partial<
    Record<
      'invoice' | 'stock' | 'description' | 'quantity' | 'date' | 'price' | 'customer' | 'country',
      string
    >
  >,
): string {
  const value = {
    invoice: '536365',
    stock: '85123A',
    description: 'WHITE HANGING HEART T-LIGHT HOLDER',
    quantity: '6',
    date: '12/1/2010 8:26',
    price: '2.55',
    customer: '17850',
    country: 'United Kingdom',
    ...fields,
  };
  const quote = (v: string) => (/[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  return [
    value.invoice,
    value.stock,
    value.description,
    value.quantity,
    value.date,
    value.price,
    value.customer,
    value.country,
  ]
    .map(quote)
    .join(',');
}
const jsonRow = (over: Record<string, unknown> = {}) => ({
  InvoiceNo: '536365',
  StockCode: '85123A',
  Description: 'WHITE HANGING HEART T-LIGHT HOLDER',
  Quantity: 6,
  InvoiceDate: '2010-12-01 08:26:00',
  UnitPrice: 2.55,
  CustomerID: 17850,
  Country: 'United Kingdom',
  ...over,
});
const cursor = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);

type Expect = '2xx' | '4xx';
interface Case {
  name: string;
  method?: string;
  path: string;
  /** Without the API key unless false; `null` sends no key, a string sends that key. */
  key?: string | null;
  headers?: Record<string, string>;
  body?: string | Buffer;
  expect: Expect;
  /** The API's `error` code, or API Gateway's `x-amzn-ErrorType` for the gateway's own answers. */
  error?: string;
  /** Data rows in the body, for the accepted + rejected check. */
  rows?: number;
}

const CSV_TYPE = { 'content-type': 'text/csv' };
const JSON_TYPE = { 'content-type': 'application/json' };
const NDJSON_TYPE = { 'content-type': 'application/x-ndjson' };

const CASES: Case[] = [
  // The gateway: methods, resources and keys, answered as API Gateway does.
  {
    name: 'unknown resource',
    path: '/nothing-here',
    expect: '4xx',
    error: 'MissingAuthenticationTokenException',
  },
  {
    name: 'undefined method on a resource',
    method: 'PATCH',
    path: '/invoices/536365',
    expect: '4xx',
    error: 'MissingAuthenticationTokenException',
  },
  { name: 'HEAD /health', method: 'HEAD', path: '/health', key: null, expect: '4xx' },
  { name: 'GET /ingest', path: '/ingest', expect: '4xx', error: 'MissingAuthenticationTokenException' },
  { name: 'no API key', path: '/invoices/536365', key: null, expect: '4xx', error: 'ForbiddenException' },
  {
    name: 'wrong API key',
    path: '/invoices/536365',
    key: 'not-the-key',
    expect: '4xx',
    error: 'ForbiddenException',
  },
  { name: 'empty API key', path: '/invoices/536365', key: '', expect: '4xx', error: 'ForbiddenException' },
  {
    name: 'path traversal in a parameter',
    path: '/invoices/..%2F..%2Fetc%2Fpasswd',
    expect: '4xx',
    error: 'not_found',
  },
  {
    name: 'extra path segment',
    path: '/invoices/536365/extra',
    expect: '4xx',
    error: 'MissingAuthenticationTokenException',
  },
  { name: 'malformed percent-encoding', path: '/invoices/%E0%A4%A', expect: '4xx' },
  {
    name: 'an 8 KB invoice number',
    path: `/invoices/${'9'.repeat(8192)}`,
    expect: '4xx',
    error: 'invalid_parameter',
  },
  // Look-up parameters.
  // An invoice number is any short text (A563185 is one): an unknown one is not found.
  { name: 'invoice number with letters', path: '/invoices/ABC', expect: '4xx', error: 'not_found' },
  { name: 'customer id not a number', path: '/customers/abc', expect: '4xx', error: 'invalid_parameter' },
  { name: 'customer id negative', path: '/customers/-5/invoices', expect: '4xx', error: 'invalid_parameter' },
  {
    name: 'customer id beyond int32',
    path: '/customers/99999999999',
    expect: '4xx',
    error: 'invalid_parameter',
  },
  {
    name: 'stock code with a control character',
    path: '/stock/85%01123A/invoices',
    expect: '4xx',
    error: 'invalid_parameter',
  },
  {
    name: 'limit not a number',
    path: '/customers/17850/invoices?limit=abc',
    expect: '4xx',
    error: 'invalid_parameter',
  },
  {
    name: 'limit zero',
    path: '/customers/17850/invoices?limit=0',
    expect: '4xx',
    error: 'invalid_parameter',
  },
  {
    name: 'limit too large',
    path: '/customers/17850/invoices?limit=100000',
    expect: '4xx',
    error: 'invalid_parameter',
  },
  {
    name: 'cursor not base64 JSON',
    path: '/customers/17850/invoices?next=%%%garbage',
    expect: '4xx',
    error: 'invalid_cursor',
  },
  {
    name: 'cursor with extra key attributes',
    path: `/customers/17850/invoices?next=${cursor({ v: 1, k: { pk: 'CUSTOMER#17850', sk: 'x', extra: 'y' } })}`,
    expect: '4xx',
    error: 'invalid_cursor',
  },
  {
    name: 'cursor without sk',
    path: `/customers/17850/invoices?next=${cursor({ v: 1, k: { pk: 'CUSTOMER#17850' } })}`,
    expect: '4xx',
    error: 'invalid_cursor',
  },
  {
    name: 'cursor with a numeric sk',
    path: `/customers/17850/invoices?next=${cursor({ v: 1, k: { pk: 'CUSTOMER#17850', sk: 5 } })}`,
    expect: '4xx',
    error: 'invalid_cursor',
  },
  {
    name: 'cursor of another customer',
    path: `/customers/17850/invoices?next=${cursor({ v: 1, k: { pk: 'CUSTOMER#12345', sk: 'x' } })}`,
    expect: '4xx',
    error: 'invalid_cursor',
  },
  {
    name: 'forged stock cursor',
    path: `/stock/85123A/invoices?next=${cursor({ v: 2, k: {} })}`,
    expect: '4xx',
    error: 'invalid_cursor',
  },
  {
    name: 'stock cursor that is an array',
    path: `/stock/85123A/invoices?next=${cursor([1, 2])}`,
    expect: '4xx',
    error: 'invalid_cursor',
  },
  // Bodies: media types, encodings, sizes.
  { name: 'empty body', method: 'POST', path: '/ingest', headers: CSV_TYPE, body: '', expect: '4xx' },
  {
    name: 'no content type',
    method: 'POST',
    path: '/ingest',
    body: csv(GOOD),
    expect: '4xx',
    error: 'unsupported_media_type',
  },
  {
    name: 'an image',
    method: 'POST',
    path: '/ingest',
    headers: { 'content-type': 'image/png' },
    body: Buffer.from([0x89, 0x50, 0x4e, 0x47]),
    expect: '4xx',
    error: 'unsupported_media_type',
  },
  {
    name: 'charset UTF-16',
    method: 'POST',
    path: '/ingest',
    headers: { 'content-type': 'text/csv; charset=utf-16' },
    body: csv(GOOD),
    expect: '4xx',
  },
  {
    name: 'gzip CSV, declared',
    method: 'POST',
    path: '/ingest',
    headers: { ...CSV_TYPE, 'content-encoding': 'gzip' },
    body: gzipSync(csv(GOOD, GOOD)),
    expect: '2xx',
    rows: 2,
  },
  {
    name: 'gzip JSON, declared',
    method: 'POST',
    path: '/ingest',
    headers: { ...JSON_TYPE, 'content-encoding': 'gzip' },
    body: gzipSync(JSON.stringify([jsonRow()])),
    expect: '2xx',
    rows: 1,
  },
  {
    name: 'gzip declared, body not gzip',
    method: 'POST',
    path: '/ingest',
    headers: { ...CSV_TYPE, 'content-encoding': 'gzip' },
    body: csv(GOOD),
    expect: '4xx',
  },
  {
    name: 'brotli',
    method: 'POST',
    path: '/ingest',
    headers: { ...CSV_TYPE, 'content-encoding': 'br' },
    body: csv(GOOD),
    expect: '4xx',
    error: 'unsupported_media_type',
  },
  {
    name: 'a body over the API limit',
    method: 'POST',
    path: '/ingest',
    headers: CSV_TYPE,
    body: csv(GOOD) + `${GOOD}\r\n`.repeat(Math.ceil(MAX_BODY_BYTES / GOOD.length)),
    expect: '4xx',
    error: 'payload_too_large',
  },
  {
    name: 'a body over the gateway limit',
    method: 'POST',
    path: '/ingest',
    headers: CSV_TYPE,
    body: Buffer.alloc(GATEWAY_LIMITS.maxPayloadBytes + 1, 0x41),
    expect: '4xx',
  },
  {
    name: 'a gzip bomb',
    method: 'POST',
    path: '/ingest',
    headers: { ...CSV_TYPE, 'content-encoding': 'gzip' },
    body: gzipSync(Buffer.alloc(64 * 1024 * 1024, 0x41)),
    expect: '4xx',
    error: 'payload_too_large',
  },
  // JSON and NDJSON.
  {
    name: 'JSON that does not parse',
    method: 'POST',
    path: '/ingest',
    headers: JSON_TYPE,
    body: '[{"InvoiceNo": ',
    expect: '4xx',
    error: 'invalid_body',
  },
  {
    name: 'JSON, an object not an array',
    method: 'POST',
    path: '/ingest',
    headers: JSON_TYPE,
    body: JSON.stringify(jsonRow()),
    expect: '4xx',
  },
  {
    name: 'JSON array of numbers',
    method: 'POST',
    path: '/ingest',
    headers: JSON_TYPE,
    body: '[1,2,3]',
    expect: '4xx',
    rows: 3,
  },
  {
    name: 'JSON nested 10,000 deep',
    method: 'POST',
    path: '/ingest',
    headers: JSON_TYPE,
    body: nested(10_000),
    expect: '4xx',
    error: 'invalid_body',
  },
  {
    name: 'JSON nested 100,000 deep',
    method: 'POST',
    path: '/ingest',
    headers: JSON_TYPE,
    body: nested(100_000),
    expect: '4xx',
    error: 'invalid_body',
  },
  {
    name: 'a 10,000-level object in a field',
    method: 'POST',
    path: '/ingest',
    headers: JSON_TYPE,
    body: `[{"InvoiceNo":${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}}]`,
    expect: '4xx',
    error: 'invalid_body',
  },
  {
    name: 'JSON rows missing fields',
    method: 'POST',
    path: '/ingest',
    headers: JSON_TYPE,
    body: JSON.stringify([{ InvoiceNo: '536365' }]),
    expect: '4xx',
    error: 'no_valid_rows',
    rows: 1,
  },
  {
    name: 'JSON with a field of the wrong type',
    method: 'POST',
    path: '/ingest',
    headers: JSON_TYPE,
    body: JSON.stringify([jsonRow({ Quantity: { n: 6 } }), jsonRow()]),
    expect: '2xx',
    rows: 2,
  },
  {
    name: '200,000 tiny JSON elements',
    method: 'POST',
    path: '/ingest',
    headers: JSON_TYPE,
    body: `[${Array(200_000).fill('0').join(',')}]`,
    expect: '4xx',
    rows: 200_000,
  },
  {
    name: 'NDJSON with a broken line',
    method: 'POST',
    path: '/ingest',
    headers: NDJSON_TYPE,
    body: `${JSON.stringify(jsonRow())}\n{"InvoiceNo":\n`,
    expect: '2xx',
    rows: 2,
  },
  {
    name: 'NDJSON of only blank lines',
    method: 'POST',
    path: '/ingest',
    headers: NDJSON_TYPE,
    body: '\n\n\n',
    expect: '4xx',
  },
  // CSV structure.
  { name: 'CSV header only', method: 'POST', path: '/ingest', headers: CSV_TYPE, body: csv(), expect: '4xx' },
  {
    name: 'CSV missing columns',
    method: 'POST',
    path: '/ingest',
    headers: CSV_TYPE,
    body: 'InvoiceNo,StockCode\r\n536365,85123A\r\n',
    expect: '4xx',
    error: 'missing_columns',
  },
  {
    name: 'CSV with no header',
    method: 'POST',
    path: '/ingest',
    headers: CSV_TYPE,
    body: `${GOOD}\r\n`,
    expect: '4xx',
    error: 'missing_columns',
  },
  {
    name: 'CSV extra column',
    method: 'POST',
    path: '/ingest',
    headers: CSV_TYPE,
    body: `${HEADER},Extra\r\n${GOOD},x\r\n`,
    expect: '2xx',
    rows: 1,
  },
  {
    name: 'CSV row with too few fields',
    method: 'POST',
    path: '/ingest',
    headers: CSV_TYPE,
    body: csv(GOOD, '536365,85123A'),
    expect: '2xx',
    rows: 2,
  },
  {
    name: 'CSV unclosed quote',
    method: 'POST',
    path: '/ingest',
    headers: CSV_TYPE,
    body: csv(GOOD, '536365,85123A,"WHITE HANGING,6,12/1/2010 8:26,2.55,17850,United Kingdom'),
    // The open quote takes the rest of the body into one malformed record: quarantined, the good row stored.
    expect: '2xx',
    rows: 2,
  },
  {
    name: 'a quoted field over the record limit',
    method: 'POST',
    path: '/ingest',
    headers: CSV_TYPE,
    body: csv(GOOD, row({ description: 'X'.repeat(1_200_000) })),
    // The record is quarantined (record_too_long), not a 503; the good row is stored.
    expect: '2xx',
    rows: 2,
  },
  {
    name: 'a BOM before the header',
    method: 'POST',
    path: '/ingest',
    headers: CSV_TYPE,
    body: `\ufeff${csv(GOOD)}`,
    expect: '2xx',
    rows: 1,
  },
  {
    name: 'LF line ends',
    method: 'POST',
    path: '/ingest',
    headers: CSV_TYPE,
    body: `${HEADER}\n${GOOD}\n`,
    expect: '2xx',
    rows: 1,
  },
  // Values that pass parsing but must not poison a store.
  {
    name: 'a NUL byte in a field',
    method: 'POST',
    path: '/ingest',
    headers: CSV_TYPE,
    body: csv(GOOD, row({ description: 'WHITE\u0000HEART' })),
    expect: '2xx',
    rows: 2,
  },
  {
    name: 'year 0000',
    method: 'POST',
    path: '/ingest',
    headers: CSV_TYPE,
    body: csv(GOOD, row({ date: '0000-01-01 00:00:00' })),
    expect: '2xx',
    rows: 2,
  },
  {
    name: 'year 0999, YYYY-MM-DD form',
    method: 'POST',
    path: '/ingest',
    headers: CSV_TYPE,
    body: csv(GOOD, row({ date: '0999-06-01 10:00:00' })),
    expect: '2xx',
    rows: 2,
  },
  {
    name: 'year 0001, M/D/YYYY form',
    method: 'POST',
    path: '/ingest',
    headers: CSV_TYPE,
    body: csv(GOOD, row({ date: '1/1/0001 0:00' })),
    expect: '2xx',
    rows: 2,
  },
  {
    name: 'a date that is not one',
    method: 'POST',
    path: '/ingest',
    headers: CSV_TYPE,
    body: csv(GOOD, row({ date: '13/45/2010 25:61' })),
    expect: '2xx',
    rows: 2,
  },
  {
    name: 'a Description over 256 bytes',
    method: 'POST',
    path: '/ingest',
    headers: CSV_TYPE,
    body: csv(GOOD, row({ description: 'É'.repeat(200) })),
    expect: '2xx',
    rows: 2,
  },
  {
    name: 'a stock code over its bound',
    method: 'POST',
    path: '/ingest',
    headers: CSV_TYPE,
    body: csv(GOOD, row({ stock: 'S'.repeat(300) })),
    expect: '2xx',
    rows: 2,
  },
  {
    name: 'a country over its bound',
    method: 'POST',
    path: '/ingest',
    headers: CSV_TYPE,
    body: csv(GOOD, row({ country: 'C'.repeat(300) })),
    expect: '2xx',
    rows: 2,
  },
  {
    name: 'U+001F inside a stock code (line_id collision)',
    method: 'POST',
    path: '/ingest',
    headers: CSV_TYPE,
    body: csv(GOOD, row({ stock: '85123A\u001fX' })),
    expect: '2xx',
    rows: 2,
  },
  {
    name: 'a stray invalid UTF-8 byte',
    method: 'POST',
    path: '/ingest',
    headers: { 'content-type': 'text/csv; charset=utf-8' },
    body: Buffer.concat([
      Buffer.from(csv(row({ description: 'CAFÉ' }))),
      Buffer.from([0xff]),
      Buffer.from('\r\n'),
    ]),
    expect: '4xx',
    error: 'invalid_encoding',
  },
  {
    name: 'quantity not a number',
    method: 'POST',
    path: '/ingest',
    headers: CSV_TYPE,
    body: csv(GOOD, row({ quantity: '6x' })),
    expect: '2xx',
    rows: 2,
  },
  {
    name: 'quantity beyond int32',
    method: 'POST',
    path: '/ingest',
    headers: CSV_TYPE,
    body: csv(GOOD, row({ quantity: '99999999999' })),
    expect: '2xx',
    rows: 2,
  },
  {
    name: 'quantity with decimals',
    method: 'POST',
    path: '/ingest',
    headers: CSV_TYPE,
    body: csv(GOOD, row({ quantity: '1.5' })),
    expect: '2xx',
    rows: 2,
  },
  {
    name: 'price NaN',
    method: 'POST',
    path: '/ingest',
    headers: CSV_TYPE,
    body: csv(GOOD, row({ price: 'NaN' })),
    expect: '2xx',
    rows: 2,
  },
  {
    name: 'price Infinity',
    method: 'POST',
    path: '/ingest',
    headers: CSV_TYPE,
    body: csv(GOOD, row({ price: 'Infinity' })),
    expect: '2xx',
    rows: 2,
  },
  {
    name: 'price beyond decimal(18,3)',
    method: 'POST',
    path: '/ingest',
    headers: CSV_TYPE,
    body: csv(GOOD, row({ price: '1e300' })),
    expect: '2xx',
    rows: 2,
  },
  {
    name: 'a CustomerID that is not a number',
    method: 'POST',
    path: '/ingest',
    headers: CSV_TYPE,
    body: csv(GOOD, row({ customer: 'abc' })),
    expect: '2xx',
    rows: 2,
  },
  {
    name: 'an empty invoice number',
    method: 'POST',
    path: '/ingest',
    headers: CSV_TYPE,
    body: csv(GOOD, row({ invoice: '' })),
    expect: '2xx',
    rows: 2,
  },
  {
    name: 'a formula in a field (CSV injection)',
    method: 'POST',
    path: '/ingest',
    headers: CSV_TYPE,
    body: csv(GOOD, row({ description: '=HYPERLINK("http://x")' })),
    expect: '2xx',
    rows: 2,
  },
  // Changes.
  {
    name: 'PUT with a row of another invoice',
    method: 'PUT',
    path: '/invoices/536365',
    headers: CSV_TYPE,
    body: csv(row({ invoice: '536366' })),
    expect: '4xx',
    error: 'invoice_mismatch',
  },
  {
    name: 'PUT with an invalid row',
    method: 'PUT',
    path: '/invoices/536365',
    headers: CSV_TYPE,
    body: csv(row({ quantity: 'many' })),
    expect: '4xx',
    error: 'invalid_rows',
  },
  {
    name: 'PUT with a bad invoice number',
    method: 'PUT',
    path: '/invoices/NOPE',
    headers: CSV_TYPE,
    body: csv(GOOD),
    expect: '4xx',
    error: 'invoice_mismatch',
  },
  {
    name: 'DELETE of an invoice number with a NUL byte',
    method: 'DELETE',
    path: '/invoices/%00',
    expect: '4xx',
    error: 'invalid_parameter',
  },
  {
    name: 'DELETE of a bad customer id',
    method: 'DELETE',
    path: '/customers/17850abc',
    expect: '4xx',
    error: 'invalid_parameter',
  },
];

interface Answer {
  status: number;
  error: string | undefined;
  body: Record<string, unknown> | undefined;
}

/** Sends one case, as a client would. */
async function send(c: Case): Promise<Answer> {
  const headers: Record<string, string> = { ...c.headers };
  const key = c.key === undefined ? stack!.apiKey : c.key;
  if (key !== null) headers['x-api-key'] = key;
  const response = await fetch(`${stack!.apiUrl}${c.path}`, {
    method: c.method ?? 'GET',
    headers,
    body: c.body === undefined ? undefined : typeof c.body === 'string' ? c.body : new Uint8Array(c.body),
  });
  const text = await response.text();
  let body: Record<string, unknown> | undefined;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    body = undefined;
  }
  const error = response.headers.get('x-amzn-errortype') ?? (body?.['error'] as string | undefined);
  return { status: response.status, error, body };
}

/** Every case's answer: the whole corpus is sent once, in order, before any assertion. */
const answers = new Map<string, Answer>();
beforeAll(async () => {
  for (const c of CASES) answers.set(c.name, await send(c));
}, 300_000);

describe('the bad-input corpus', () => {
  it('has at least 60 kinds of bad input', () => {
    expect(new Set(CASES.map((c) => c.name)).size).toBe(CASES.length);
    expect(CASES.length).toBeGreaterThanOrEqual(60);
  });

  it.each(CASES)('$name: $expect $error', (c) => {
    const answer = answers.get(c.name)!;
    expect({ status: Math.floor(answer.status / 100), error: c.error ? answer.error : undefined }).toEqual({
      status: c.expect === '2xx' ? 2 : 4,
      error: c.error,
    });
    const body = answer.body;
    if (c.rows !== undefined && body && typeof body['received'] === 'number') {
      expect(body['received']).toBe(c.rows);
      expect(Number(body['accepted']) + Number(body['rejected'])).toBe(c.rows);
    }
  });

  it('left no 5xx behind, and the stack healthy', async () => {
    const failures = CASES.filter((c) => answers.get(c.name)!.status >= 500).map((c) => c.name);
    expect(failures).toEqual([]);
    const health = await fetch(`${stack!.apiUrl}/health`);
    expect(health.status).toBe(200);
  });
});
