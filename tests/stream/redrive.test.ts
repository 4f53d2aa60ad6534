/**
 * The redrive against the stand-ins: DLQ messages in a dead-letter file (as the local poller writes
 * them) pointing at records in kinesalite, read back with the Kinesis adapter and run through the
 * transform handler into dynalite, s3rver and the local Firehose. A message is deleted only once every
 * record of it is stored; nothing is doubled; a message past retention or whose records fail is kept.
 */
import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BatchWriteItemCommandInput, BatchWriteItemCommandOutput } from '@aws-sdk/client-dynamodb';
import { ListShardsCommand } from '@aws-sdk/client-kinesis';
import type { KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import { createDocumentClient } from '../../src/adapters/dynamodb.js';
import { createFirehoseClient } from '../../src/adapters/firehose.js';
import { kinesisRangeReader, putRecords } from '../../src/adapters/kinesis.js';
import { createS3Client } from '../../src/adapters/s3.js';
import { loadTransformConfig } from '../../src/config/transform.js';
import type { SourceRow } from '../../src/core/row-objects.js';
import { createTransformHandler } from '../../src/handlers/transform.js';
import { deadLetterFileSource } from '../../src/local/dead-letters.js';
import type { TransformDeps } from '../../src/stream/deps.js';
import { packEnvelopes } from '../../src/stream/envelope.js';
import { TRANSFORM_EVENT_SOURCE } from '../../src/stream/event-source.js';
import {
  parseInvocationRecord,
  REDRIVE_STATUS,
  type RedriveOptions,
  redrive,
  type Transformer,
} from '../../src/stream/redrive.js';
import { type Emulators, StreamReader, scanTable, startEmulators } from '../helpers/emulators.js';
import { kinesisInvocationRecord } from '../helpers/events.js';
import { FAST_RETRY, fastClientOptions, interceptCommand } from '../helpers/faults.js';

let emu: Emulators;
let deps: TransformDeps;
let handler: ReturnType<typeof createTransformHandler>;
let dir: string;
let deadLetters: string;
let reader: StreamReader;
/** Every event the transformer was given, in order. */
let events: KinesisStreamEvent[];

beforeEach(async () => {
  emu = await startEmulators({ shards: 1 });
  const config = loadTransformConfig(emu.env);
  deps = {
    config,
    dynamo: createDocumentClient(config.aws, fastClientOptions()),
    firehose: createFirehoseClient(config.aws, fastClientOptions()),
    s3: createS3Client(config.aws, fastClientOptions()),
    retry: FAST_RETRY,
    log: { info: () => undefined, warn: () => undefined, error: () => undefined },
  };
  handler = createTransformHandler(() => deps);
  dir = await mkdtemp(join(tmpdir(), 'ecomflow-redrive-'));
  deadLetters = join(dir, 'dead-letter.ndjson');
  reader = new StreamReader(emu.kinesis, emu.config.streamName);
  events = [];
});

afterEach(async () => {
  for (const client of [deps.dynamo, deps.firehose, deps.s3]) client.destroy();
  await emu.stop();
  await rm(dir, { recursive: true, force: true });
});

const streamArn = () => `arn:aws:kinesis:us-east-1:000000000000:stream/${emu.config.streamName}`;

/** `count` rows over invoices of 2 lines each, every one of them clean. */
function rows(count: number, prefix: string): SourceRow[] {
  return Array.from({ length: count }, (_, i) => ({
    InvoiceNo: `${prefix}${String(Math.floor(i / 2)).padStart(3, '0')}`,
    StockCode: `SKU${i}`,
    Description: `ITEM ${i}`,
    Quantity: String((i % 5) + 1),
    InvoiceDate: `2011-03-${String((i % 27) + 1).padStart(2, '0')} 10:00:00`,
    UnitPrice: '2.55',
    CustomerID: String(12000 + i),
    Country: 'United Kingdom',
  }));
}

/** Puts rows on the stream as the API does (packed by invoice) and returns the new records. */
async function putRows(source: readonly SourceRow[]): Promise<KinesisStreamRecord[]> {
  const packed = packEnvelopes(
    'req-redrive',
    source.map((row, i) => ({ partitionKey: row.InvoiceNo, line: i + 2, row })),
  );
  await putRecords(
    emu.kinesis,
    emu.config.streamName,
    packed.map((p) => ({ partitionKey: p.partitionKey, data: p.data })),
  );
  return reader.all();
}

/** Appends the DLQ message the event source mapping would send for these records. */
async function deadLetter(
  records: readonly KinesisStreamRecord[],
  overrides: Partial<Parameters<typeof kinesisInvocationRecord>[0]> = {},
): Promise<string> {
  const line = JSON.stringify(
    kinesisInvocationRecord({
      shardId: 'shardId-000000000000',
      startSequenceNumber: records[0]!.kinesis.sequenceNumber,
      endSequenceNumber: records.at(-1)!.kinesis.sequenceNumber,
      batchSize: records.length,
      streamArn: streamArn(),
      ...overrides,
    }),
  );
  await appendFile(deadLetters, `${line}\n`);
  return line;
}

async function lettersLeft(): Promise<string[]> {
  const text = await readFile(deadLetters, 'utf8').catch(() => '');
  return text.split('\n').filter((l) => l !== '');
}

async function itemCount(): Promise<number> {
  const invoices = await scanTable(emu.dynamo, emu.config.tables.invoices);
  const customers = await scanTable(emu.dynamo, emu.config.tables.customers);
  return invoices.length + customers.length;
}

async function storedLineIds(): Promise<string[]> {
  const invoices = await scanTable(emu.dynamo, emu.config.tables.invoices);
  return invoices
    .filter((i) => i['kind'] === 'line')
    .map((i) => String(i['line_id']))
    .sort();
}

/** The transform handler, counting the events it is given. */
const transform: Transformer = (event) => {
  events.push(event);
  return handler(event);
};

function run(options: Partial<RedriveOptions> = {}) {
  return redrive({
    dlq: deadLetterFileSource(deadLetters),
    reader: kinesisRangeReader(emu.kinesis),
    transform,
    streamName: emu.config.streamName,
    invokeIdentityArn: 'arn:aws:iam::000000000000:role/ecomflow-redrive',
    ...options,
  });
}

describe('redrive', () => {
  it('redrives a message whose records were already stored without doubling anything, and deletes it', async () => {
    // Prepare: the records were stored (the batch failed late, say), and still went to the DLQ.
    const records = await putRows(rows(6, '580'));
    expect((await handler({ Records: records })).batchItemFailures).toEqual([]);
    const before = await itemCount();
    const lines = await storedLineIds();
    await deadLetter(records);

    // Act
    const summary = await run();

    // Assess
    expect(summary).toMatchObject({ messages: 1, redriven: 1, records: records.length, failed: 0 });
    expect(summary.results[0]).toMatchObject({ status: REDRIVE_STATUS.redriven, reason: null });
    expect(await itemCount()).toBe(before);
    expect(await storedLineIds()).toEqual(lines);
    expect(await lettersLeft()).toEqual([]);
  });

  it('stores the records of a message that were never stored, then deletes it', async () => {
    // Prepare
    const source = rows(8, '581');
    const records = await putRows(source);
    await deadLetter(records);
    expect(await itemCount()).toBe(0);

    // Act
    const summary = await run();

    // Assess: every line of the range is in DynamoDB, and the message is gone.
    expect(summary).toMatchObject({ messages: 1, redriven: 1, records: records.length });
    expect(await storedLineIds()).toHaveLength(source.length);
    expect(await lettersLeft()).toEqual([]);
    // The events are the stream's records, as the event source mapping would deliver them.
    expect(events.flatMap((e) => e.Records.map((r) => r.kinesis.data))).toEqual(
      records.map((r) => r.kinesis.data),
    );
    expect(events[0]!.Records[0]).toMatchObject({
      eventSource: 'aws:kinesis',
      eventSourceARN: streamArn(),
      eventID: `shardId-000000000000:${records[0]!.kinesis.sequenceNumber}`,
    });
  });

  it('reads only the range of the message, and runs it in events of at most the batch size', async () => {
    // Prepare: records before and after the range stay untouched.
    const records = await putRows(rows(14, '582'));
    const range = records.slice(1, 6);
    await deadLetter(range);

    // Act
    const summary = await run({ batchSize: 2 });

    // Assess
    expect(summary.records).toBe(range.length);
    expect(events.map((e) => e.Records.length)).toEqual([2, 2, 1]);
    expect(events.flatMap((e) => e.Records.map((r) => r.kinesis.sequenceNumber))).toEqual(
      range.map((r) => r.kinesis.sequenceNumber),
    );
    expect(TRANSFORM_EVENT_SOURCE.batchSize).toBeGreaterThan(2);
  });

  it("splits a range into events of at most maxEventBytes, for Invoke's payload limit", async () => {
    // Prepare
    const records = await putRows(rows(6, '590'));
    await deadLetter(records);
    const recordBytes = Math.max(...records.map((r) => JSON.stringify(r).length));

    // Act: room for about two records an event.
    const summary = await run({ maxEventBytes: recordBytes * 2 + 200 });

    // Assess
    expect(summary.redriven).toBe(1);
    expect(events.length).toBeGreaterThan(1);
    for (const event of events)
      expect(JSON.stringify(event).length).toBeLessThanOrEqual(recordBytes * 2 + 400);
    expect(events.flatMap((e) => e.Records)).toHaveLength(records.length);
  });

  it('reports a message whose first record arrived longer ago than the retention, and keeps it', async () => {
    // Prepare: kinesalite keeps a stream 24 hours; the message says its records arrived 3 days ago.
    const records = await putRows(rows(4, '583'));
    const letter = await deadLetter(records, { firstArrival: new Date(Date.now() - 3 * 24 * 3_600_000) });

    // Act
    const summary = await run();

    // Assess
    expect(summary).toMatchObject({ messages: 1, redriven: 0, out_of_retention: 1, failed: 0 });
    expect(summary.results[0]!.reason).toMatch(/longer ago than the stream's retention of 24 hours/);
    expect(events).toEqual([]);
    expect(await itemCount()).toBe(0);
    expect(await lettersLeft()).toEqual([letter]);
  });

  it('reports a message whose start was trimmed (the first record read back is a later one), and keeps it', async () => {
    // Prepare: the range starts at the shard's first sequence number, which no record has any more.
    const records = await putRows(rows(4, '584'));
    const shards = await emu.kinesis.send(new ListShardsCommand({ StreamName: emu.config.streamName }));
    const shardStart = shards.Shards![0]!.SequenceNumberRange!.StartingSequenceNumber!;
    expect(BigInt(shardStart)).toBeLessThan(BigInt(records[0]!.kinesis.sequenceNumber));
    const letter = await deadLetter(records, { startSequenceNumber: shardStart });

    // Act
    const summary = await run();

    // Assess
    expect(summary.results[0]).toMatchObject({ status: REDRIVE_STATUS.out_of_retention });
    expect(summary.results[0]!.reason).toMatch(/the start of the range was trimmed/);
    expect(events).toEqual([]);
    expect(await lettersLeft()).toEqual([letter]);
  });

  it('reports a message whose shard Kinesis no longer has, and keeps it', async () => {
    // Prepare
    const records = await putRows(rows(2, '585'));
    const letter = await deadLetter(records, { shardId: 'shardId-000000000007' });

    // Act
    const summary = await run();

    // Assess
    expect(summary.results[0]).toMatchObject({ status: REDRIVE_STATUS.out_of_retention });
    expect(summary.results[0]!.reason).toMatch(/ResourceNotFoundException/);
    expect(await lettersLeft()).toEqual([letter]);
  });

  it('keeps a message whose records the transformer could not store (batchItemFailures)', async () => {
    // Prepare: DynamoDB leaves every write unprocessed.
    const records = await putRows(rows(4, '586'));
    const letter = await deadLetter(records);
    interceptCommand<BatchWriteItemCommandInput, BatchWriteItemCommandOutput>(
      deps.dynamo,
      'BatchWriteItemCommand',
      async (input) => ({ UnprocessedItems: input.RequestItems ?? {}, $metadata: {} }),
    );

    // Act
    const summary = await run();

    // Assess
    expect(summary).toMatchObject({ messages: 1, redriven: 0, failed: 1 });
    expect(summary.results[0]!.reason).toMatch(
      new RegExp(`did not store the records from ${records[0]!.kinesis.sequenceNumber} on`),
    );
    expect(await lettersLeft()).toEqual([letter]);
  });

  it('keeps a message when the transformer fails (a function error)', async () => {
    // Prepare
    const records = await putRows(rows(2, '587'));
    const letter = await deadLetter(records);

    // Act
    const summary = await run({
      transform: async () => {
        throw new Error('Task timed out after 120.00 seconds');
      },
    });

    // Assess
    expect(summary.results[0]).toMatchObject({ status: REDRIVE_STATUS.failed });
    expect(summary.results[0]!.reason).toMatch(/the transformer failed: Error: Task timed out/);
    expect(await lettersLeft()).toEqual([letter]);
  });

  it('deletes only the messages it redrove: a later run finds the others as they were', async () => {
    // Prepare: a good message between one past retention and one that is not an invocation record.
    const records = await putRows(rows(6, '588'));
    const old = await deadLetter(records.slice(0, 1), {
      firstArrival: new Date(Date.now() - 72 * 3_600_000),
    });
    await deadLetter(records.slice(1));
    await appendFile(deadLetters, '{"not":"a letter"}\n');
    const results: string[] = [];

    // Act
    const summary = await run({ onResult: (r) => results.push(r.status) });

    // Assess
    expect(results).toEqual([
      REDRIVE_STATUS.out_of_retention,
      REDRIVE_STATUS.redriven,
      REDRIVE_STATUS.failed,
    ]);
    expect(summary).toMatchObject({ messages: 3, redriven: 1, out_of_retention: 1, failed: 1 });
    expect(summary.results[2]!.reason).toMatch(/no KinesisBatchInfo/);
    expect(await lettersLeft()).toEqual([old, '{"not":"a letter"}']);
  });

  it('fails a message when the stream cannot be described, and asks again for the next one', async () => {
    // Prepare: DescribeStreamSummary fails once (a throttled call the SDK gave up on, say).
    const records = await putRows(rows(4, '591'));
    const first = await deadLetter(records.slice(0, 1));
    await deadLetter(records.slice(1));
    const real = kinesisRangeReader(emu.kinesis);
    let asked = 0;
    const reader = {
      readRange: real.readRange,
      retentionHours: async (stream: string) => {
        if (++asked === 1) throw new Error('Rate exceeded for stream ecomflow-test-lines');
        return real.retentionHours(stream);
      },
    };

    // Act
    const summary = await run({ reader });

    // Assess
    expect(summary.results.map((r) => r.status)).toEqual([REDRIVE_STATUS.failed, REDRIVE_STATUS.redriven]);
    expect(summary.results[0]!.reason).toBe(
      'cannot read it back from ecomflow-test-lines: Error: Rate exceeded for stream ecomflow-test-lines',
    );
    expect(await lettersLeft()).toEqual([first]);
  });

  it('fails a message that points into another stream, and keeps it', async () => {
    // Prepare
    const records = await putRows(rows(2, '589'));
    const letter = await deadLetter(records, {
      streamArn: 'arn:aws:kinesis:us-east-1:000000000000:stream/someone-elses',
    });

    // Act
    const summary = await run();

    // Assess
    expect(summary.results[0]!.reason).toMatch(/names stream someone-elses, not ecomflow-test-lines/);
    expect(await lettersLeft()).toEqual([letter]);
  });

  it('says there is nothing to do when the DLQ is empty', async () => {
    // Prepare
    await writeFile(deadLetters, '');

    // Act
    const summary = await run();

    // Assess
    expect(summary).toEqual({
      messages: 0,
      redriven: 0,
      records: 0,
      out_of_retention: 0,
      failed: 0,
      results: [],
    });
  });
});

describe('parseInvocationRecord', () => {
  it("reads AWS's example invocation record", () => {
    // AWS Lambda Developer Guide, kinesis-on-failure-destination: the example, as published.
    const example = {
      requestContext: {
        requestId: 'c9b8fa9f-5a7f-xmpl-af9c-0c604cde93a5',
        functionArn: 'arn:aws:lambda:us-east-2:123456789012:function:myfunction',
        condition: 'RetryAttemptsExhausted',
        approximateInvokeCount: 1,
      },
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
      version: '1.0',
      timestamp: '2019-11-14T00:38:06.021Z',
      KinesisBatchInfo: {
        shardId: 'shardId-000000000001',
        startSequenceNumber: '49601189658422359378836298521827638475320189012309704722',
        endSequenceNumber: '49601189658422359378836298522902373528957594348623495186',
        approximateArrivalOfFirstRecord: '2019-11-14T00:38:04.835Z',
        approximateArrivalOfLastRecord: '2019-11-14T00:38:05.580Z',
        batchSize: 500,
        streamArn: 'arn:aws:kinesis:us-east-2:123456789012:stream/mystream',
      },
    };
    expect(parseInvocationRecord(JSON.stringify(example))).toEqual(example.KinesisBatchInfo);
  });

  it('says what is wrong with a text that is not one', () => {
    expect(parseInvocationRecord('{oops')).toBe('not JSON: "{oops"');
    expect(parseInvocationRecord('null')).toBe('not a Kinesis invocation record: no KinesisBatchInfo');
    expect(parseInvocationRecord('{"KinesisBatchInfo":{"shardId":"s"}}')).toBe(
      'KinesisBatchInfo has no startSequenceNumber, endSequenceNumber, streamArn',
    );
    expect(
      parseInvocationRecord(
        '{"KinesisBatchInfo":{"shardId":"s","startSequenceNumber":"12x","endSequenceNumber":"13","streamArn":"a"}}',
      ),
    ).toBe('KinesisBatchInfo.startSequenceNumber "12x" is not a sequence number');
  });
});
