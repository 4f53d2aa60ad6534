import { Logger } from '@aws-lambda-powertools/logger';
import { versionClock } from '../../src/core/changes.js';
/**
 * The API handler's answers to bodies and failures: limits, media types, headers, charsets, invalid rows,
 * and Kinesis failing in part or in whole. The handler runs with real clients against the emulators;
 * faults are injected on those clients.
 */

import { gzipSync } from 'node:zlib';
import type { PutRecordsCommandInput, PutRecordsCommandOutput } from '@aws-sdk/client-kinesis';
import type { PutObjectCommandInput, PutObjectCommandOutput } from '@aws-sdk/client-s3';
import { jest } from '@jest/globals';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { createDocumentClient } from '../../src/adapters/dynamodb.js';
import { createKinesisClient } from '../../src/adapters/kinesis.js';
import { createS3Client } from '../../src/adapters/s3.js';
import type { ApiDeps } from '../../src/api/deps.js';
import { MAX_BODY_BYTES } from '../../src/api/ingest/ingest.js';
import { loadApiConfig } from '../../src/config/api.js';
import { createApiHandler } from '../../src/handlers/api.js';
import { humanLog } from '../../src/local/human-log.js';
import { decodeRecord } from '../../src/stream/envelope.js';
import {
  closedPort,
  type Emulators,
  readQuarantine,
  StreamReader,
  startEmulators,
} from '../helpers/emulators.js';
import { apiEvent, ingestEvent, lambdaContext } from '../helpers/events.js';
import { FAST_RETRY, fastClientOptions, interceptCommand, serviceError } from '../helpers/faults.js';
import { CSV_BODY, HEADER } from '../helpers/retail-rows.js';

let emu: Emulators;
let deps: ApiDeps;
let handler: ReturnType<typeof createApiHandler>;
let reader: StreamReader;
/** What the handler logged in the current test. */
let logged: Record<string, unknown>[];
let testLogger: Logger;

beforeAll(async () => {
  emu = await startEmulators({ shards: 1 });
});
afterAll(async () => {
  await emu.stop();
});
afterEach(() => {
  jest.restoreAllMocks();
});

beforeEach(async () => {
  logged = [];
  // The handler's structured logger, with what it is asked to log recorded instead of printed.
  testLogger = new Logger({ serviceName: 'ecomflow-test' });
  for (const level of ['info', 'warn', 'error'] as const) {
    jest.spyOn(testLogger, level).mockImplementation((message: unknown, ...fields: unknown[]) => {
      logged.push(Object.assign({ level, message }, ...fields));
    });
  }
  const config = loadApiConfig(emu.env);
  deps = {
    config,
    kinesis: createKinesisClient(config.aws, fastClientOptions()),
    dynamo: createDocumentClient(config.aws, fastClientOptions()),
    s3: createS3Client(config.aws, fastClientOptions()),
    retry: FAST_RETRY,
    version: versionClock(Date.now),
  };
  handler = createApiHandler(() => deps, testLogger);
  reader = new StreamReader(emu.kinesis, emu.config.streamName);
  await reader.next(); // skip what earlier tests put
});

async function call(event: APIGatewayProxyEvent) {
  const result = (await handler(event, lambdaContext())) as APIGatewayProxyResult;
  return {
    statusCode: result.statusCode,
    body: JSON.parse(result.body) as Record<string, unknown>,
    headers: result.headers,
  };
}

/** The rows currently new on the stream, as posted, unpacked from their records. */
async function streamedRows(): Promise<Record<string, string>[]> {
  return (await reader.all()).flatMap((r) =>
    decodeRecord(Buffer.from(r.kinesis.data, 'base64')).lines.map((l) => l.row),
  );
}

/** Makes PutRecords refuse, on every attempt, the records `isRefused` picks, as a failing shard does. */
function refusePutRecords(isRefused: (data: Uint8Array | undefined) => boolean): () => void {
  return interceptCommand<PutRecordsCommandInput, PutRecordsCommandOutput>(
    deps.kinesis,
    'PutRecordsCommand',
    async (input, next) => {
      const records = input.Records ?? [];
      const kept = records.filter((r) => !isRefused(r.Data));
      const out = kept.length > 0 ? await next({ ...input, Records: kept }) : { Records: [] };
      const stored = [...(out.Records ?? [])];
      return {
        $metadata: {},
        FailedRecordCount: records.length - kept.length,
        Records: records.map((r) =>
          isRefused(r.Data)
            ? { ErrorCode: 'InternalFailure', ErrorMessage: 'Internal service failure.' }
            : stored.shift()!,
        ),
      };
    },
  );
}

/** `rows` rows of one invoice, or with `invoices: 'each'` each on its own invoice (so each its own record). */
function csvOf(rows: number, invoices: 'one' | 'each' = 'one'): string {
  const lines = [HEADER];
  for (let i = 0; i < rows; i++) {
    const invoice = invoices === 'one' ? '580001' : String(580_100 + i);
    lines.push(`${invoice},SKU${i},ITEM ${i},${i + 1},2011-12-09 12:50:00,1.25,12680,France`);
  }
  return lines.join('\n');
}

describe('POST /ingest: bodies', () => {
  it('honours charset=windows-1252 and takes a base64-encoded body', async () => {
    // Prepare: "£" and "é" are single bytes in Windows-1252.
    const csv = `${HEADER}\n581001,23084,RABBIT NIGHT LIGHT \u00a3 CAF\u00c9,2,2011-12-01 10:00:00,2.08,12680,France\n`;
    const bytes = Buffer.from(csv, 'latin1');
    // Act
    const { statusCode } = await call(ingestEvent('text/csv; charset=windows-1252', bytes, { base64: true }));
    // Assess
    expect(statusCode).toBe(202);
    expect((await streamedRows())[0]?.['Description']).toBe('RABBIT NIGHT LIGHT \u00a3 CAF\u00c9');
  });

  it('puts one packed record per invoice of a request, keyed by the InvoiceNo, with every row once', async () => {
    // Prepare: 4 rows of one invoice and 2 rows each of their own invoice.
    const csv = [csvOf(4), ...csvOf(2, 'each').split('\n').slice(1)].join('\n');
    // Act
    const { statusCode, body } = await call(ingestEvent('text/csv', csv));
    // Assess
    expect(statusCode).toBe(202);
    expect(body).toMatchObject({ received: 6, accepted: 6 });
    const records = await reader.all();
    expect(
      records.map((r) => [
        r.kinesis.partitionKey,
        decodeRecord(Buffer.from(r.kinesis.data, 'base64')).lines.length,
      ]),
    ).toEqual([
      ['580001', 4],
      ['580100', 1],
      ['580101', 1],
    ]);
    const lines = records.flatMap((r) =>
      decodeRecord(Buffer.from(r.kinesis.data, 'base64')).lines.map((l) => l.line),
    );
    expect(lines.sort((a, b) => a - b)).toEqual([2, 3, 4, 5, 6, 7]);
  });

  it('takes a body API Gateway passed as text', async () => {
    const { statusCode, body } = await call(ingestEvent('text/csv', csvOf(3), { base64: false }));
    expect(statusCode).toBe(202);
    expect(body).toEqual({ received: 3, accepted: 3, rejected: 0, errors: [] });
    expect(await streamedRows()).toHaveLength(3);
  });

  it('answers 413 naming the limit when the body is over 5 MB', async () => {
    const big = Buffer.alloc(MAX_BODY_BYTES + 1, 0x41);
    const { statusCode, body } = await call(ingestEvent('text/csv', big));
    expect(statusCode).toBe(413);
    expect(body).toEqual({
      error: 'payload_too_large',
      message: `body is ${MAX_BODY_BYTES + 1} bytes; the limit is ${MAX_BODY_BYTES} bytes (5 MB)`,
      limit_bytes: MAX_BODY_BYTES,
    });
    expect(await streamedRows()).toEqual([]);
  });

  it('decodes a gzip body (Content-Encoding: gzip), and answers 415 naming another coding', async () => {
    // Prepare
    const gzipped = gzipSync(csvOf(3));
    // Act
    const gzip = await call(
      ingestEvent('text/csv', gzipped, {
        headers: { 'Content-Type': 'text/csv', 'Content-Encoding': 'gzip' },
      }),
    );
    const br = await call(
      ingestEvent('text/csv', gzipped, { headers: { 'Content-Type': 'text/csv', 'content-encoding': 'br' } }),
    );
    // Assess
    expect(gzip.statusCode).toBe(202);
    expect(gzip.body).toEqual({ received: 3, accepted: 3, rejected: 0, errors: [] });
    expect(await streamedRows()).toHaveLength(3);
    expect(br.statusCode).toBe(415);
    expect(br.body['message']).toMatch(/^Content-Encoding "br" is not supported/);
  });

  it('answers 413 for a gzip body that decodes to more than 5 MB', async () => {
    const bomb = gzipSync(Buffer.alloc(MAX_BODY_BYTES + 1, 0x41));
    const { statusCode, body } = await call(
      ingestEvent('text/csv', bomb, { headers: { 'Content-Type': 'text/csv', 'Content-Encoding': 'gzip' } }),
    );
    expect(statusCode).toBe(413);
    expect(body['error']).toBe('payload_too_large');
    expect(await streamedRows()).toEqual([]);
  });

  it('answers 415 for an unsupported or missing Content-Type, or an unknown charset', async () => {
    const xml = await call(ingestEvent('application/xml', '<rows/>'));
    expect(xml.statusCode).toBe(415);
    expect(xml.body['message']).toBe(
      'Content-Type "application/xml" is not supported; send one of text/csv, application/json, application/x-ndjson',
    );
    const none = await call(apiEvent({ method: 'POST', resource: '/ingest', body: 'x' }));
    expect(none.statusCode).toBe(415);
    const charset = await call(ingestEvent('text/csv; charset=koi8-r', csvOf(1)));
    expect(charset.statusCode).toBe(415);
    expect(charset.body['message']).toContain('charset "koi8-r" is not supported');
  });

  it('answers 400 naming the missing columns of a CSV header', async () => {
    const { statusCode, body } = await call(
      ingestEvent(
        'text/csv',
        'InvoiceNo,StockCode,Description,InvoiceDate,CustomerID\n536365,85123A,X,2010-12-01 08:26,1\n',
      ),
    );
    expect(statusCode).toBe(400);
    expect(body['error']).toBe('missing_columns');
    expect(body['missing']).toEqual(['Quantity', 'UnitPrice', 'Country']);
    expect(body['message']).toContain('missing required columns Quantity, UnitPrice, Country');
  });

  it('answers 400 when no row is valid, and still quarantines every row', async () => {
    const csv = `${HEADER}\n1,A,x,notanumber,2010-12-01 08:26,1,1,UK\n2,B,x,1,yesterday,1,1,UK\n`;
    const { statusCode, body } = await call(ingestEvent('text/csv', csv, { requestId: 'all-invalid' }));
    expect(statusCode).toBe(400);
    expect(body).toMatchObject({ error: 'no_valid_rows', received: 2, accepted: 0, rejected: 2 });
    expect((body['errors'] as { reason: string }[]).map((e) => e.reason)).toEqual([
      'invalid_quantity',
      'invalid_date',
    ]);
    const objects = await readQuarantine(emu.s3, emu.config.quarantine.bucket);
    const mine = objects.find((o) => o.key.endsWith('/all-invalid.ndjson'));
    expect(mine?.rows.map((r) => r['line'])).toEqual([2, 3]);
    expect(await streamedRows()).toEqual([]);
  });

  it('answers 400 for JSON that is not an array, and for a header without rows', async () => {
    const object = await call(ingestEvent('application/json', '{"InvoiceNo":"1"}'));
    expect(object.body).toEqual({
      error: 'invalid_body',
      message: 'expected a JSON array of row objects, got object',
    });
    const headerOnly = await call(ingestEvent('text/csv', `${HEADER}\n`));
    expect(headerOnly.body).toEqual({ error: 'no_rows', message: 'body has no rows' });
  });

  it.each([10_000, 100_000])(
    'answers 400 invalid_body, not 500, for arrays nested %i levels deep',
    async (levels) => {
      const deep = await call(ingestEvent('application/json', `${'['.repeat(levels)}${']'.repeat(levels)}`));
      expect(deep.statusCode).toBe(400);
      expect(deep.body).toMatchObject({ error: 'invalid_body' });
      expect(await streamedRows()).toEqual([]);
    },
  );
});

describe('POST /ingest: Kinesis failures', () => {
  it('retries only the entries PutRecords failed, so every row is on the stream exactly once', async () => {
    // Prepare: the first PutRecords fails every third entry, as a throttled shard does.
    let sentEntries = 0;
    const remove = interceptCommand<PutRecordsCommandInput, PutRecordsCommandOutput>(
      deps.kinesis,
      'PutRecordsCommand',
      async (input, next, call) => {
        const records = input.Records ?? [];
        sentEntries += records.length;
        if (call > 1) return next(input);
        const fails = (i: number) => i % 3 === 0;
        const out = await next({ ...input, Records: records.filter((_, i) => !fails(i)) });
        const stored = [...(out.Records ?? [])];
        return {
          ...out,
          FailedRecordCount: records.filter((_, i) => fails(i)).length,
          Records: records.map((_, i) =>
            fails(i)
              ? {
                  ErrorCode: 'ProvisionedThroughputExceededException',
                  ErrorMessage: 'Rate exceeded for shard',
                }
              : stored.shift()!,
          ),
        };
      },
    );
    // Act
    const { statusCode, body } = await call(ingestEvent('text/csv', csvOf(10, 'each')));
    remove();
    // Assess
    expect(statusCode).toBe(202);
    expect(body['accepted']).toBe(10);
    expect(sentEntries).toBe(10 + 4);
    const codes = (await streamedRows()).map((r) => r['StockCode']).sort();
    expect(codes).toEqual(Array.from({ length: 10 }, (_, i) => `SKU${i}`).sort());
  });

  it('answers 503 and counts only acknowledged rows when some entries keep failing', async () => {
    // Prepare: SKU1 and SKU4 are refused on every attempt.
    const refused = new Set(['SKU1', 'SKU4']);
    const isRefused = (data: Uint8Array | undefined) =>
      refused.has(decodeRecord(data!).lines[0]!.row.StockCode);
    const remove = refusePutRecords(isRefused);
    // Act
    const { statusCode, body, headers } = await call(ingestEvent('text/csv', csvOf(6, 'each')));
    remove();
    // Assess
    expect(statusCode).toBe(503);
    expect(headers?.['Retry-After']).toBe('1');
    expect(body).toMatchObject({
      error: 'stream_unavailable',
      received: 6,
      accepted: 4,
      rejected: 0,
      not_stored: 2,
    });
    expect(body['message']).toBe(
      'the stream stored 4 of 6 valid rows; post the request again (re-posting is safe: lines are idempotent)',
    );
    expect((await streamedRows()).map((r) => r['StockCode']).sort()).toEqual([
      'SKU0',
      'SKU2',
      'SKU3',
      'SKU5',
    ]);
  });

  it('counts every row of a packed record that keeps failing as not stored, and only those', async () => {
    // Prepare: two invoices, so two records; the record of invoice 580201 is refused on every attempt.
    const csv = [
      HEADER,
      ...[0, 1, 2].map((i) => `580201,SKU${i},ITEM,1,2011-12-09 12:50:00,1.25,12680,France`),
      ...[3, 4].map((i) => `580202,SKU${i},ITEM,1,2011-12-09 12:50:00,1.25,12680,France`),
    ].join('\n');
    const isRefused = (data: Uint8Array | undefined) =>
      decodeRecord(data!).lines[0]!.row.InvoiceNo === '580201';
    const remove = refusePutRecords(isRefused);
    // Act
    const { statusCode, body } = await call(ingestEvent('text/csv', csv));
    remove();
    // Assess
    expect(statusCode).toBe(503);
    expect(body).toMatchObject({ received: 5, accepted: 2, not_stored: 3 });
    expect((await streamedRows()).map((r) => r['StockCode']).sort()).toEqual(['SKU3', 'SKU4']);
  });

  it('answers 503 accepting nothing when Kinesis is unreachable', async () => {
    // Prepare: a handler whose Kinesis endpoint has nothing listening.
    const port = await closedPort();
    const config = loadApiConfig({ ...emu.env, ECOMFLOW_KINESIS_ENDPOINT: `http://127.0.0.1:${port}` });
    const down = createApiHandler(() => ({
      ...deps,
      config,
      kinesis: createKinesisClient(config.aws, fastClientOptions()),
    }));
    // Act
    const result = (await down(ingestEvent('text/csv', CSV_BODY), lambdaContext())) as APIGatewayProxyResult;
    // Assess
    expect(result.statusCode).toBe(503);
    expect(JSON.parse(result.body)).toMatchObject({
      error: 'stream_unavailable',
      accepted: 0,
      rejected: 1,
      not_stored: 10,
    });
    expect(result.body).not.toContain('ECONNREFUSED');
    expect(await streamedRows()).toEqual([]);
  });
});

describe('routing and errors', () => {
  it('answers GET /health with 200 without configuration or clients', async () => {
    const unconfigured = createApiHandler(() => {
      throw new Error('no configuration');
    });
    const result = (await unconfigured(
      apiEvent({ resource: '/health' }),
      lambdaContext(),
    )) as APIGatewayProxyResult;
    expect(result.statusCode).toBe(200);
    expect(JSON.parse(result.body)).toEqual({ status: 'ok' });
  });

  it("adds the host's own detail to GET /health, as the local stack does with its deliveries", async () => {
    const local = createApiHandler(
      () => deps,
      testLogger,
      () => ({ delivery: { refused_lines: 1 } }),
    );
    const result = (await local(apiEvent({ resource: '/health' }), lambdaContext())) as APIGatewayProxyResult;
    expect(JSON.parse(result.body)).toEqual({ status: 'ok', detail: { delivery: { refused_lines: 1 } } });
  });

  it('answers 404 for an unknown path and 405 for a wrong method, as JSON', async () => {
    const unknown = await call(apiEvent({ resource: '/nope' }));
    expect(unknown).toMatchObject({
      statusCode: 404,
      body: { error: 'not_found', message: 'no route for GET /nope' },
    });
    const wrong = await call(
      apiEvent({ method: 'POST', resource: '/invoices/{invoiceNo}', params: { invoiceNo: '1' } }),
    );
    expect(wrong.statusCode).toBe(405);
    expect(wrong.headers?.['Allow']).toBe('GET, PUT, DELETE');
  });

  it("hands a route API Gateway's decoded path parameters", async () => {
    const { statusCode, body } = await call(
      apiEvent({ resource: '/invoices/{invoiceNo}', params: { invoiceNo: 'NOPE 1' } }),
    );
    expect(statusCode).toBe(404);
    expect(body['message']).toBe('invoice "NOPE 1" not found');
  });

  it('routes by the declared resource only: a {proxy+} event is not matched by its path', async () => {
    const { statusCode, body } = await call(
      apiEvent({ resource: '/{proxy+}', params: { proxy: 'invoices/536365' } }),
    );
    expect(statusCode).toBe(404);
    expect(body['message']).toBe('no route for GET /invoices/536365');
  });

  it('answers 500 with the request id and no stack trace when something unexpected fails', async () => {
    // Prepare: deps without configuration make the route itself throw a TypeError.
    const failing = createApiHandler(
      () => ({ ...deps, config: undefined as unknown as ApiDeps['config'] }),
      testLogger,
    );
    // Act
    const result = (await failing(
      apiEvent({ resource: '/invoices/{invoiceNo}', params: { invoiceNo: '1' } }),
      lambdaContext('req-500'),
    )) as APIGatewayProxyResult;
    // Assess
    expect(result.statusCode).toBe(500);
    expect(JSON.parse(result.body)).toEqual({
      error: 'internal_error',
      message: 'internal error (request req-500)',
    });
    expect(logged).toEqual([
      expect.objectContaining({ level: 'error', requestId: 'req-500', error: 'TypeError' }),
    ]);
    expect(String(logged[0]?.['stack'])).toContain('TypeError');
  });

  it('logs an unexpected failure to the errorLog it is given (the local stack passes its own lines)', async () => {
    // Prepare
    const lines: string[] = [];
    const failing = createApiHandler(
      () => ({ ...deps, config: undefined as unknown as ApiDeps['config'] }),
      testLogger,
      undefined,
      humanLog('api', (line) => lines.push(line)),
    );
    // Act
    const result = (await failing(
      apiEvent({ resource: '/invoices/{invoiceNo}', params: { invoiceNo: '1' } }),
      lambdaContext('req-local'),
    )) as APIGatewayProxyResult;
    // Assess
    expect(result.statusCode).toBe(500);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^api: .*req-local.*TypeError/);
    expect(logged).toEqual([]);
  });

  it('answers 503 when the tables cannot be read', async () => {
    const port = await closedPort();
    const config = loadApiConfig({ ...emu.env, ECOMFLOW_DYNAMODB_ENDPOINT: `http://127.0.0.1:${port}` });
    const down = createApiHandler(() => ({
      ...deps,
      config,
      dynamo: createDocumentClient(config.aws, fastClientOptions()),
    }));
    const result = (await down(
      apiEvent({ resource: '/invoices/{invoiceNo}', params: { invoiceNo: '536365' } }),
      lambdaContext(),
    )) as APIGatewayProxyResult;
    expect(result.statusCode).toBe(503);
    expect(JSON.parse(result.body)).toEqual({
      error: 'table_unavailable',
      message: 'the tables cannot be read right now; try again',
    });
  });
});

describe('POST /ingest: large rejections', () => {
  it("quarantines a quoted field over the CSV parser's 1 MiB record limit as field_too_long, not a 503", async () => {
    const long = `536365,85123A,"${'X'.repeat(1_100_000)}",6,2010-12-01 08:26:00,2.55,17850,United Kingdom`;
    const good = '536365,85123B,RED HEART,6,2010-12-01 08:26:00,2.55,17850,United Kingdom';
    const response = await call(ingestEvent('text/csv', `${HEADER}\n${long}\n${good}\n`));
    expect(response.statusCode).toBe(202);
    expect(response.body).toMatchObject({
      accepted: 1,
      rejected: 1,
      errors: [{ line: 2, reason: 'field_too_long', field: 'Description' }],
    });
  });

  it('lists at most 1,000 errors, counting the rest, and quarantines every rejected row', async () => {
    const lines = [HEADER];
    for (let i = 0; i < 1_005; i++) lines.push(`9${i},A,x,bad,2011-01-01 10:00,1,1,UK`);
    lines.push('590001,A,x,1,2011-01-01 10:00,1,1,UK');
    const { statusCode, body } = await call(
      ingestEvent('text/csv', lines.join('\n'), { requestId: 'many-errors' }),
    );
    expect(statusCode).toBe(202);
    expect(body).toMatchObject({ received: 1_006, accepted: 1, rejected: 1_005, errors_omitted: 5 });
    expect(body['errors']).toHaveLength(1_000);
    const objects = await readQuarantine(emu.s3, emu.config.quarantine.bucket);
    expect(objects.find((o) => o.key.endsWith('/many-errors.ndjson'))?.rows).toHaveLength(1_005);
  });
});

describe('POST /ingest: quarantine failures', () => {
  it('answers 503 when rejected rows cannot be quarantined, saying the valid rows were stored', async () => {
    const remove = interceptCommand<PutObjectCommandInput, PutObjectCommandOutput>(
      deps.s3,
      'PutObjectCommand',
      async () => {
        throw serviceError('AccessDenied', 403, 'client', 'Access Denied');
      },
    );
    const { statusCode, body } = await call(ingestEvent('text/csv', CSV_BODY));
    remove();
    expect(statusCode).toBe(503);
    expect(body).toMatchObject({
      error: 'quarantine_unavailable',
      received: 11,
      accepted: 10,
      rejected: 1,
      not_stored: 0,
    });
    expect(await streamedRows()).toHaveLength(10);
  });
});
